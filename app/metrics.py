"""Stream health as Prometheus metrics (issue 17): how replies start and end, how fast their tokens come and reach
the browser, what fails. One registry per app, made by main.py (nothing is registered at import). Label values are
bounded: providers, models from the catalog, statuses and error kinds; never a conversation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# From 10 ms to a minute: a first token can take that long, a token gap is usually well under 100 ms.
SECONDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TOKENS_PER_SECOND = (1, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
EXPOSITION_TYPE = CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class ReplyLabels:
    provider: str
    model: str


class ChatMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        reply = ["provider", "model"]
        self.replies_started = self._counter("chat_replies_started", "Replies started.", reply)
        self.replies_ended = self._counter("chat_replies_ended", "Replies ended, by how.", [*reply, "status"])
        self.first_token = self._histogram(
            "chat_time_to_first_token_seconds", "From the request to the first token.", reply, SECONDS
        )
        self.token_gap = self._histogram(
            "chat_inter_token_gap_seconds", "Between two pieces of text from the provider.", ["provider"], SECONDS
        )
        self.speed = self._histogram(
            "chat_output_tokens_per_second", "Output tokens per second of writing.", reply, TOKENS_PER_SECOND
        )
        self.output_tokens = self._counter("chat_output_tokens", "Output tokens written.", reply)
        self.provider_errors = self._counter(
            "chat_provider_errors", "Errors from providers, by kind and HTTP status.", ["provider", "kind", "status"]
        )
        self.retries = self._counter("chat_retries", "Requests asked again before the first token.", ["provider"])
        self.fallbacks = self._counter(
            "chat_fallbacks", "Replies moved to the next model of a route.", ["from_provider", "to_provider"]
        )
        self.delivery = self._histogram(
            "chat_browser_delivery_seconds", "From sending a patch to the tab saying it is applied.", [], SECONDS
        )
        self.tabs_behind = self._counter(
            "chat_tabs_fell_behind", "Patches a tab did not acknowledge in time (it got the next ones merged).", []
        )
        self.disconnects = self._counter(
            "chat_websocket_disconnects_during_reply", "Tabs that lost their connection while following a reply.", []
        )
        self.reconnects = self._counter(
            "chat_websocket_reconnects_during_reply", "Tabs that came back while a reply was being written.", []
        )
        self.queue_wait = self._histogram(
            "chat_local_model_queue_wait_seconds", "Time a reply waited for the embedded model.", [], SECONDS
        )
        self.tool_calls = self._counter("chat_tool_calls", "Tool calls, by how they ended.", ["status"])

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # -- what the chat tells

    def reply_started(self, labels: ReplyLabels) -> Callable[[float], None]:
        """Count the reply; returns where its token gaps go (resolved once: this runs for every token)."""
        self.replies_started.labels(labels.provider, labels.model).inc()
        return self.token_gap.labels(labels.provider).observe

    def reply_ended(
        self,
        labels: ReplyLabels,
        status: str,
        first_token_seconds: float | None,
        tokens_per_second: float | None,
        output_tokens: int | None,
    ) -> None:
        self.replies_ended.labels(labels.provider, labels.model, status).inc()
        if first_token_seconds is not None:
            self.first_token.labels(labels.provider, labels.model).observe(first_token_seconds)
        if output_tokens:
            self.output_tokens.labels(labels.provider, labels.model).inc(output_tokens)
        if tokens_per_second is not None:
            self.speed.labels(labels.provider, labels.model).observe(tokens_per_second)

    def provider_error(self, provider: str, kind: str, status_code: int | None) -> None:
        self.provider_errors.labels(provider, kind, str(status_code) if status_code else "none").inc()

    def fell_back(self, from_provider: str, to_provider: str) -> None:
        self.fallbacks.labels(from_provider, to_provider).inc()

    def retried(self, provider: str) -> None:
        self.retries.labels(provider).inc()

    def tool_call_ended(self, status: str) -> None:
        self.tool_calls.labels(status).inc()

    def patch_shown(self, seconds: float) -> None:
        self.delivery.observe(seconds)

    def tab_fell_behind(self) -> None:
        self.tabs_behind.inc()

    # -- helpers

    def _counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _histogram(self, name: str, documentation: str, labels: list[str], buckets) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)


class Delivery:
    """What a tab's reply element tells of its patches (app/ui/streaming/streaming_markdown.py); by default nothing
    is counted."""

    def patch_shown(self, seconds: float) -> None:
        pass

    def tab_fell_behind(self) -> None:
        pass
