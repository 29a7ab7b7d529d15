"""Database tables. Kept apart from page modules: NiceGUI's test plugin re-imports those between tests."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import Index
from sqlalchemy.types import TypeDecorator
from sqlmodel import AutoString, Field, SQLModel

# PostgreSQL's text cannot hold U+0000, which model output and pasted text can contain. There a NUL is written as
# two private-use characters (ESCAPE, NUL_MARK), and ESCAPE itself as (ESCAPE, ESCAPE_MARK); read back unchanged.
ESCAPE, ESCAPE_MARK, NUL_MARK = "\ue000", "\ue001", "\ue002"
_ESCAPED = re.compile(f"{ESCAPE}([{ESCAPE_MARK}{NUL_MARK}])")


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_conversation_id() -> str:
    # Unguessable, so a conversation's URL reveals nothing about others.
    return secrets.token_urlsafe(16)


class StoredText(TypeDecorator):
    """A text column that stores any string exactly as given, NUL included, on SQLite and PostgreSQL alike."""

    impl = AutoString
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        if value is None or dialect.name != "postgresql":
            return value
        return value.replace(ESCAPE, ESCAPE + ESCAPE_MARK).replace("\x00", ESCAPE + NUL_MARK)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        if value is None or dialect.name != "postgresql" or ESCAPE not in value:
            return value
        return _ESCAPED.sub(lambda found: ESCAPE if found[1] == ESCAPE_MARK else "\x00", value)


def text_field(default: str | None = "", **options: object):
    """A field of free text (a person's, a model's or a provider's words)."""
    return Field(default=default, sa_type=StoredText, **options)


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


class Status(StrEnum):
    STREAMING = "streaming"
    COMPLETE = "complete"
    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"


class ToolStatus(StrEnum):
    """Where a tool call is: the model still writing its arguments, waiting for the person, running, or ended."""

    STREAMING = "streaming"
    AWAITING_APPROVAL = "awaiting-approval"
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"
    DENIED = "denied"
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"


TOOL_STATUSES_UNDER_WAY = (ToolStatus.STREAMING, ToolStatus.AWAITING_APPROVAL, ToolStatus.RUNNING)


class ConversationBase(SQLModel):
    """What a conversation is, as stored and as it leaves the app (the API, an export) and comes back in."""

    title: str = text_field()
    model: str = ""
    system_prompt: str | None = text_field(None)
    temperature: float | None = None  # None: the model's default
    max_output_tokens: int | None = None  # None: the server's MAX_OUTPUT_TOKENS
    # The tool sources (MCP servers, "built-in") this conversation offers the model, as JSON; None: every one
    # enabled (a new conversation starts with all of them on).
    tool_sources: str | None = None
    pinned_at: datetime | None = None  # pinned conversations come first, the latest pinned on top
    leaf_id: int | None = None  # the last message of the branch on show: its ancestors are the conversation
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now, index=True)


class Conversation(ConversationBase, table=True):
    id: str = Field(default_factory=new_conversation_id, primary_key=True, max_length=64)


class ConversationPublic(ConversationBase):
    id: str


class ReplyEnd(SQLModel):
    """What is stored about a reply when it ends, besides its text."""

    status: Status = Status.COMPLETE
    error: str | None = text_field(None)
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    note: str | None = text_field(None)  # what the reader should know about how the reply was made
    # The models of its route that failed before it answered, as a JSON list of their keys (the Stats page counts
    # them); None for most replies.
    fell_back_from: str | None = text_field(None)
    first_token_ms: int | None = None  # from the request to the first token
    duration_ms: int | None = None  # from the request to the end of the reply
    # Of that, the time between rounds of tool calls (the calls ran, the person approved, the model was asked again
    # and had not written yet): not time the model spent writing. None for a reply without calls.
    tools_ms: int | None = None


def tokens_per_second(
    output_tokens: int | None, first_token_ms: int | None, duration_ms: int | None, tools_ms: int | None = None
) -> float | None:
    """How fast a reply was written: its output tokens over the time from its first token to its end, less the time
    its tool calls took."""
    writing_ms = (duration_ms or 0) - (first_token_ms or 0) - (tools_ms or 0)
    if not output_tokens or first_token_ms is None or writing_ms <= 0:
        return None
    return output_tokens / (writing_ms / 1000)


class MessageBase(ReplyEnd):
    """What a message is, as stored and as it leaves the app (the API, an export) and comes back in."""

    # The message this one answers or follows. Messages with the same parent are versions of one another
    # (an edited question, a regenerated reply); None for a conversation's first message(s).
    parent_id: int | None = None
    role: Role
    content: str = text_field()
    model: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class Message(MessageBase, table=True):
    # The Stats page reads replies by time and these columns only: from this index alone, not the table.
    __table_args__ = (
        Index(
            "ix_message_stats",
            "created_at",
            "role",
            "model",
            "status",
            "first_token_ms",
            "duration_ms",
            "output_tokens",
            "fell_back_from",
            "tools_ms",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(foreign_key="conversation.id", index=True, max_length=64)


class ToolStepBase(SQLModel):
    """One tool call a reply made, as stored and as it leaves the app. A reply's text and its calls interleave:
    the calls of round `round` come after the first `text_offset` characters of the reply's content."""

    round: int = 0  # the reply's rounds of calls, from 0: each round's results went back to the model together
    position: int = 0  # its place among the reply's calls, from 0
    text_offset: int = 0
    call_id: str = ""  # the id the model gave the call (its result goes back under it)
    name: str = ""  # the name the model called (the tool's own, or <server>__<tool> where two share it)
    tool: str = ""  # the tool's own name, in its source
    source: str = ""  # the MCP server (or "built-in") that runs it
    arguments: str = text_field()  # as the model wrote them (JSON, or whatever it wrote)
    status: ToolStatus = ToolStatus.STREAMING
    result: str | None = text_field(None)  # the whole result (what the model was sent may be cut)
    images: str | None = None  # a JSON list of data: URLs the result held
    is_error: bool = False
    duration_ms: int | None = None  # from the start of the call to its result


class ToolStep(ToolStepBase, table=True):
    __tablename__ = "tool_step"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)


class ToolStepPublic(ToolStepBase):
    pass


class ToolPermission(SQLModel, table=True):
    """A tool the person chose to always allow (`<source>/<tool>`): its calls run without asking again."""

    __tablename__ = "tool_permission"

    tool_key: str = text_field(primary_key=True)
    allowed_at: datetime = Field(default_factory=utc_now)


class SavedRoute(SQLModel, table=True):
    """A route made in the app (those of MODEL_ROUTES are not stored): its models' keys, in order, as JSON."""

    __tablename__ = "model_route"

    name: str = Field(primary_key=True, max_length=40)
    models: str = text_field()
    switch_at_once: bool = False
    created_at: datetime = Field(default_factory=utc_now)


class MessagePublic(MessageBase):
    id: int
    tool_steps: list[ToolStepPublic] = []  # a reply's tool calls, in order


class ConversationWithMessages(ConversationPublic):
    """A conversation and messages of it: an export has every version (`leaf_id` says which branch is shown), the
    API the branch shown."""

    messages: list[MessagePublic] = []


class ReplyFact(NamedTuple):
    """A reply as the Stats page counts it: which model, how it ended, how fast."""

    model: str | None
    status: Status
    first_token_ms: int | None
    duration_ms: int | None
    output_tokens: int | None
    fell_back_from: str | None  # the models that failed before this one answered (JSON)
    tools_ms: int | None  # the time its tool calls took


class MessageLink(NamedTuple):
    """A message's place in the tree without its text: a long conversation's branch is found from these alone."""

    id: int
    parent_id: int | None
    role: Role


class ReplyPiece(SQLModel, table=True):
    """A piece of a reply being written, appended as it arrives: cheap to write however long the reply is, and
    written before any page or API client is shown it. At the reply's end its pieces become the message's content;
    after a crash, start-up does the same, so what anyone saw is never lost."""

    __tablename__ = "reply_piece"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(index=True)
    text: str = text_field()


class AppSecret(SQLModel, table=True):
    """What the server keeps between restarts: the session-signing key and a generated password's hash."""

    name: str = Field(primary_key=True, max_length=64)
    value: str


class ApiKey(SQLModel, table=True):
    """A key for the HTTP API. Only its SHA-256 is kept: the key itself is shown once, when it is made."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = text_field()
    key_hash: str = Field(index=True, max_length=64)
    hint: str  # the key's first characters, to tell keys apart in a list
    created_at: datetime = Field(default_factory=utc_now)
    revoked_at: datetime | None = None


class SystemPreset(SQLModel, table=True):
    """A named system prompt, offered in every conversation's settings."""

    name: str = text_field(primary_key=True)  # at most 100 characters (the service cuts it)
    text: str = text_field()


class ProviderConnection(SQLModel, table=True):
    """A provider connected from the Connections page: one per kind. The key is kept sealed (app/security/
    key_box.py) with a key that lives outside the database; `key_hint` (`sk-…a1b2`) is all a page ever shows."""

    __tablename__ = "provider_connection"

    kind: str = Field(primary_key=True, max_length=32)  # openai, anthropic, together, ollama, compat
    base_url: str | None = None
    sealed_key: str | None = None
    key_hint: str | None = None
    updated_at: datetime = Field(default_factory=utc_now)
