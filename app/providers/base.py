"""The one interface every provider adapter implements, and the events and errors it speaks in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import ModuleType


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class Finish:
    reason: str


@dataclass(frozen=True)
class Queued:
    """The model serves one reply at a time: this one waits behind `ahead` others."""

    ahead: int


@dataclass(frozen=True)
class Loading:
    """This reply's turn has come, but the model is still being loaded into memory."""


@dataclass(frozen=True)
class ContextTrimmed:
    """The oldest `dropped_turns` messages were left out so the rest fits the model's context window."""

    dropped_turns: int
    context_tokens: int


@dataclass(frozen=True)
class ToolCallStarted:
    """The model began a call of tool `name`; its arguments follow in pieces."""

    id: str
    name: str


@dataclass(frozen=True)
class ToolCallArgumentsDelta:
    id: str
    fragment: str  # the next piece of the arguments' JSON text, as the model writes it


@dataclass(frozen=True)
class ToolCallReady:
    """A whole call. `arguments` is None when what the model wrote (`raw_arguments`) is not a JSON object: the
    call cannot run, and the model is told so."""

    id: str
    name: str
    arguments: dict | None
    raw_arguments: str


StreamEvent = (
    TextDelta
    | Usage
    | Finish
    | Queued
    | Loading
    | ContextTrimmed
    | ToolCallStarted
    | ToolCallArgumentsDelta
    | ToolCallReady
)
# Events that say the reply is waiting for the model, not that the model went silent.
WAITING_EVENTS = (Queued, Loading)


@dataclass(frozen=True)
class Timeouts:
    """The SDK's own limits. Silence once connected (no first token, a pause between tokens) is watched by the
    chat service, which knows what the person is waiting for; `read` only backs it up."""

    connect: float = 10.0
    read: float = 120.0

    def for_sdk(self, http: ModuleType) -> object:
        """As the SDK's HTTP library (httpx or httpx2) takes them."""
        return http.Timeout(self.read, connect=self.connect)


@dataclass(frozen=True)
class ToolSpec:
    """A tool offered to the model: its name, what it does, and its arguments' JSON Schema."""

    name: str
    description: str
    input_schema: dict


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    content: str
    is_error: bool = False


@dataclass(frozen=True)
class ChatTurn:
    role: str  # "user", "assistant" or "tool" (the results of the assistant turn's calls before it)
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant turn: the calls it made
    tool_results: tuple[ToolResult, ...] = ()  # a tool turn: what each call gave


@dataclass(frozen=True)
class ChatRequest:
    model: str
    turns: list[ChatTurn]
    max_output_tokens: int
    system: str | None = None
    temperature: float | None = None
    tools: tuple[ToolSpec, ...] = ()

    @property
    def sampling(self) -> dict:
        """Optional sampling arguments, named as all three APIs name them; absent ones use the model's default."""
        return {"temperature": self.temperature} if self.temperature is not None else {}


def parsed_arguments(raw: str) -> dict | None:
    """A tool call's arguments as the model wrote them: a JSON object (nothing at all is no arguments), else None."""
    if not raw.strip():
        return {}
    try:
        arguments = json.loads(raw)
    except ValueError:
        return None
    return arguments if isinstance(arguments, dict) else None


class ErrorKind(StrEnum):
    RATE_LIMIT = "RATE_LIMIT"
    OVERLOADED = "OVERLOADED"
    AUTH = "AUTH"
    BAD_REQUEST = "BAD_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    TIMEOUT = "TIMEOUT"
    CONNECTION = "CONNECTION"
    UPSTREAM = "UPSTREAM"
    UNAVAILABLE = "UNAVAILABLE"


TRANSIENT_KINDS = {
    ErrorKind.RATE_LIMIT,
    ErrorKind.OVERLOADED,
    ErrorKind.TIMEOUT,
    ErrorKind.CONNECTION,
    ErrorKind.UPSTREAM,
}

HEADLINES = {
    ErrorKind.RATE_LIMIT: "rate limit exceeded",
    ErrorKind.OVERLOADED: "the service is overloaded",
    ErrorKind.AUTH: "the API key was refused",
    ErrorKind.BAD_REQUEST: "the request was rejected",
    ErrorKind.NOT_FOUND: "model or endpoint not found",
    ErrorKind.TIMEOUT: "the request timed out",
    ErrorKind.CONNECTION: "the connection failed",
    ErrorKind.UPSTREAM: "the provider reported an error",
    ErrorKind.UNAVAILABLE: "the model could not be loaded",
}


@dataclass(eq=False)
class ProviderError(Exception):
    """Any failure of a provider, in words a person can act on."""

    kind: ErrorKind
    provider: str
    detail: str = ""
    status_code: int | None = None
    retry_after: float | None = None
    transient: bool = field(default=False)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        headline = f"{self.provider}: {HEADLINES[self.kind]}"
        if self.status_code and self.status_code != 200:
            headline += f" (HTTP {self.status_code})"
        return f"{headline}. {self.detail}" if self.detail else headline + "."


USUAL_TEMPERATURES = (0.0, 2.0)  # what most APIs take, and any temperature a conversation may keep


@dataclass(frozen=True)
class Capabilities:
    """What a provider's models take, declared by the provider: the settings dialog offers only these, and the
    chat sends only these."""

    temperature: tuple[float, float] | None = USUAL_TEMPERATURES  # the range it takes; None: it takes none
    system_prompt: bool = True
    streams_tool_calls: bool = False
    context_tokens: int | None = None  # its context window, where this app knows it


class Provider:
    """A model provider: lists its chat models and streams one reply as app events. An adapter subclasses this,
    declares what it is and what its models take, and translates its SDK's stream in `stream()`; errors are
    mapped in one place (app/providers/errors.py)."""

    id: str
    label: str
    fallback_models: tuple[str, ...] = ()  # offered when its list cannot be read
    capabilities = Capabilities()
    # Whether its models follow an instruction well enough to title a conversation from its first exchange.
    writes_titles = True
    # Said beside its models in the Model selector ("offline, small"), or empty.
    model_note = ""
    # Runs in this process: loaded at start-up (`warm_up`), listed after every other provider.
    runs_here = False
    # Looked for without being asked (Ollama at its usual address): not finding it is no news.
    quiet_when_absent = False

    def __init__(self, pinned_models: Sequence[str] = ()) -> None:
        # The models the settings name for it: offered as they are, without asking the provider for its list.
        self.pinned_models = tuple(pinned_models)

    async def list_models(self) -> list[str]:
        raise NotImplementedError

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Start getting ready to answer (a model running here loads); a remote service has nothing to do."""

    async def close(self) -> None:
        """Let go of connections and threads at shutdown."""


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Read `retry-after-ms` or `retry-after` (seconds or an HTTP date), as the SDKs' own retry logic does."""
    if not headers:
        return None
    if (millis := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ErrorRule:
    """An HTTP status or an error type (the body's `type` or `code`) that says what kind of error it is."""

    kind: ErrorKind
    transient: bool
    statuses: frozenset[int] = frozenset()
    types: frozenset[str] = frozenset()
    both: bool = False  # the status and the type must both match

    def matches(self, status_code: int, error_type: str | None) -> bool:
        status, named = status_code in self.statuses, error_type in self.types
        return (status and named) if self.both else (status or named)


# The first rule that matches decides; none: an upstream error, worth retrying.
ERROR_RULES = (
    # Out of quota: waiting will not bring it back.
    ErrorRule(ErrorKind.RATE_LIMIT, False, frozenset({429}), frozenset({"insufficient_quota"}), both=True),
    ErrorRule(ErrorKind.RATE_LIMIT, True, frozenset({429}), frozenset({"rate_limit_error", "rate_limit_exceeded"})),
    ErrorRule(ErrorKind.OVERLOADED, True, frozenset({529}), frozenset({"overloaded_error"})),
    # Gemini's "The model is overloaded": 503 with Google's status UNAVAILABLE.
    ErrorRule(ErrorKind.OVERLOADED, True, frozenset({503}), frozenset({"UNAVAILABLE"}), both=True),
    ErrorRule(
        ErrorKind.AUTH,
        False,
        frozenset({401, 403}),
        frozenset({"authentication_error", "permission_error", "API_KEY_INVALID"}),  # (Gemini's comes with a 400)
    ),
    ErrorRule(ErrorKind.NOT_FOUND, False, frozenset({404}), frozenset({"not_found_error"})),
    ErrorRule(ErrorKind.TIMEOUT, True, frozenset({408})),
    # 409 (a conflict, e.g. a request still being processed) is worth a retry: it falls through.
    ErrorRule(ErrorKind.BAD_REQUEST, False, frozenset(range(400, 500)) - {409}),
)


def error_from_status(
    provider: str, status_code: int, body: object, headers: Mapping[str, str] | None, fallback: str
) -> ProviderError:
    """Classify an HTTP status (or an error event inside a 200 stream) into one user-facing error."""
    error_type, detail = _error_type_and_message(body)
    rule = next((rule for rule in ERROR_RULES if rule.matches(status_code, error_type)), None)
    kind, transient = (rule.kind, rule.transient) if rule else (ErrorKind.UPSTREAM, True)
    return ProviderError(kind, provider, detail or fallback, status_code, retry_after_seconds(headers), transient)


def connection_error(provider: str, error: BaseException, timed_out: bool = False) -> ProviderError:
    kind = ErrorKind.TIMEOUT if timed_out else ErrorKind.CONNECTION
    # The SDKs say only "Connection error."; the transport error underneath says what happened.
    cause = error.__cause__ or error
    detail = str(cause) or type(cause).__name__
    return ProviderError(kind, provider, detail, transient=True)


def _error_type_and_message(body: object) -> tuple[str | None, str | None]:
    # OpenAI's SDK hands over the inner `error` object, Anthropic's the whole `{"type": "error", "error": {...}}`.
    if not isinstance(body, Mapping):
        return None, body if isinstance(body, str) and body else None
    inner = body.get("error", body)
    if not isinstance(inner, Mapping):
        return None, inner if isinstance(inner, str) else None
    error_type = inner.get("type") or inner.get("code")
    message = inner.get("message")
    return (str(error_type) if error_type else None), (str(message) if message else None)
