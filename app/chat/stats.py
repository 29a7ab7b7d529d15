"""The Stats page's numbers: over the last hour, day or week, per model, how replies ended (the success rate),
time to first token and tokens per second (percentiles), from the stored replies; and, since the server started,
errors by kind, retries and dropped connections, from the in-memory metrics (app/metrics.py)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.metrics import ChatMetrics
from app.providers.routes import FELL_BACK
from app.storage.models import ReplyFact, Status, tokens_per_second
from app.storage.repository import ChatRepository

WINDOWS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
# A reply stopped by the person did not fail: the success rate counts only complete against failed, cut off or
# handed on.
FAILED = (Status.ERROR, Status.INTERRUPTED, FELL_BACK)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted `values` (None for none)."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(share * len(values)) - 1))]


@dataclass
class ModelStats:
    model: str
    # By status, and FELL_BACK: failed before its first token, so the route's next model answered (the reply itself
    # is the answering model's).
    ended: Counter = field(default_factory=Counter)
    first_token_ms: list[float] = field(default_factory=list)
    tokens_per_second: list[float] = field(default_factory=list)

    @property
    def replies(self) -> int:
        return sum(self.ended.values())

    @property
    def success_rate(self) -> float | None:
        judged = self.ended[Status.COMPLETE] + sum(self.ended[status] for status in FAILED)
        return self.ended[Status.COMPLETE] / judged if judged else None

    def first_token(self, share: float) -> float | None:
        return percentile(self.first_token_ms, share)

    def speed(self, share: float) -> float | None:
        return percentile(self.tokens_per_second, share)

    def take(self, fact: ReplyFact) -> None:
        self.ended[fact.status] += 1
        if fact.first_token_ms is not None:
            self.first_token_ms.append(fact.first_token_ms)
        speed = tokens_per_second(fact.output_tokens, fact.first_token_ms, fact.duration_ms, fact.tools_ms)
        if speed is not None:
            self.tokens_per_second.append(speed)


@dataclass(frozen=True)
class Stats:
    window: str
    models: list[ModelStats]
    errors_by_kind: dict[str, float]  # since the server started
    retries: float
    fallbacks: float  # replies a route moved to its next model
    disconnects: float
    tabs_behind: float


class ReplyStats:
    def __init__(self, repository: ChatRepository, metrics: ChatMetrics) -> None:
        self.repository = repository
        self.metrics = metrics

    def over(self, window: str, now: datetime | None = None) -> Stats:
        since = (now or datetime.now(UTC)) - WINDOWS[window]
        by_model: dict[str, ModelStats] = {}

        def of(name: str) -> ModelStats:
            if (stats := by_model.get(name)) is None:
                stats = by_model[name] = ModelStats(name)
            return stats

        for fact in self.repository.reply_facts(since):
            of(fact.model or "unknown").take(fact)
            for failed in json.loads(fact.fell_back_from) if fact.fell_back_from else ():
                of(failed).ended[FELL_BACK] += 1
        for stats in by_model.values():
            stats.first_token_ms.sort()
            stats.tokens_per_second.sort()
        models = sorted(by_model.values(), key=lambda s: -s.replies)
        retries, fallbacks = self._total("chat_retries"), self._total("chat_fallbacks")
        return Stats(window, models, self._errors(), retries, fallbacks, *self._drops())

    def _errors(self) -> dict[str, float]:
        kinds: Counter = Counter()
        for sample in self._samples("chat_provider_errors"):
            kinds[sample.labels["kind"]] += sample.value
        return dict(kinds)

    def _drops(self) -> tuple[float, float]:
        return self._total("chat_websocket_disconnects_during_reply"), self._total("chat_tabs_fell_behind")

    def _total(self, name: str) -> float:
        return sum(sample.value for sample in self._samples(name))

    def _samples(self, name: str):
        for family in self.metrics.registry.collect():
            if family.name == name:
                return [sample for sample in family.samples if sample.name == f"{name}_total"]
        return []
