"""Reads and writes of conversations, their messages and replies. Every write commits at once: nothing waits in
memory."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, insert, or_
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, delete, select, update

from app.storage.models import (
    TOOL_STATUSES_UNDER_WAY,
    Conversation,
    ConversationWithMessages,
    Message,
    MessageLink,
    MessagePublic,
    ReplyFact,
    ReplyPiece,
    Role,
    Status,
    ToolStatus,
    ToolStep,
    ToolStepPublic,
    utc_now,
)
from app.storage.search import contains_folded, message_matches, search_kind
from app.storage.store import Store
from app.text import without_lone_surrogates

TITLE_LENGTH = 60


class AT_LEAF:
    """`add_message(parent_id=AT_LEAF)`: after the last message of the branch on show."""


# Pinned first (the latest pinned on top), then the most recently active.
CONVERSATION_ORDER = (
    col(Conversation.pinned_at).is_(None),
    col(Conversation.pinned_at).desc(),
    col(Conversation.updated_at).desc(),
)


def title_from(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= TITLE_LENGTH else words[: TITLE_LENGTH - 1].rstrip() + "…"


ADD_PIECES = insert(ReplyPiece)


def _reply_update(message_id: int, fields: dict):
    clean = {
        name: without_lone_surrogates(value) if isinstance(value, str) else value for name, value in fields.items()
    }
    return update(Message).where(col(Message.id) == message_id).values(**clean, updated_at=utc_now())


def _pieces_of(session: Session, message_id: int) -> str:
    """The text a reply's pieces hold, in the order they were written."""
    query = select(ReplyPiece.text).where(ReplyPiece.message_id == message_id).order_by(col(ReplyPiece.id))
    return "".join(session.exec(query).all())


def _add_messages(
    session: Session, conversation_id: str, messages: Sequence[MessagePublic], keep_ids: bool
) -> dict[int, int]:
    """Add the messages (and their tool steps), parents first; returns their id in the file → their id here."""
    new_ids: dict[int, int] = {}
    for message in sorted(messages, key=lambda m: m.id):
        fields = message.model_dump(exclude={"id", "parent_id", "tool_steps"})
        row = Message.model_validate({**fields, "conversation_id": conversation_id})
        row.content = without_lone_surrogates(row.content)
        row.parent_id = new_ids.get(message.parent_id) if message.parent_id is not None else None
        if keep_ids and session.get(Message, message.id) is None:
            row.id = message.id
        session.add(row)
        session.flush()
        new_ids[message.id] = row.id
        for step in message.tool_steps:
            session.add(ToolStep.model_validate({**step.model_dump(), "message_id": row.id}))
    return new_ids


def _write_steps(connection: Connection, steps: list[tuple[int, dict]]) -> None:
    """Each step as it is now: updated where it is stored already (a reply's `position` is its key), else added."""
    for message_id, fields in steps:
        where = and_(col(ToolStep.message_id) == message_id, col(ToolStep.position) == fields["position"])
        if connection.execute(update(ToolStep).where(where).values(**fields)).rowcount == 0:
            connection.execute(insert(ToolStep).values(message_id=message_id, **fields))


def steps_by_message(session: Session, message_ids: Sequence[int]) -> dict[int, list[ToolStep]]:
    query = select(ToolStep).where(col(ToolStep.message_id).in_(list(message_ids))).order_by(col(ToolStep.position))
    found: dict[int, list[ToolStep]] = {}
    for step in session.exec(query):
        found.setdefault(step.message_id, []).append(step)
    return found


class ChatRepository(Store):
    """Conversations, their messages and the replies being written into them."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        with engine.connect() as connection:
            self._search = search_kind(connection)

    def create_conversation(self, model: str) -> Conversation:
        conversation = Conversation(model=model)
        with self._session() as session:
            session.add(conversation)
            session.commit()
        return conversation

    def get_conversation(self, conversation_id: str) -> Conversation | None:
        with self._session() as session:
            return session.get(Conversation, conversation_id)

    def list_conversations(self, limit: int | None = 200) -> Sequence[Conversation]:
        with self._session() as session:
            query = select(Conversation).order_by(*CONVERSATION_ORDER).limit(limit)
            return session.exec(query).all()

    def last_used_model(self) -> str | None:
        """The model of the conversation used last, pinned or not."""
        with self._session() as session:
            query = select(Conversation.model).order_by(col(Conversation.updated_at).desc()).limit(1)
            return session.exec(query).first()

    def conversation_position(self, conversation_id: str) -> int | None:
        with self._session() as session:
            ids = session.exec(select(Conversation.id).order_by(*CONVERSATION_ORDER)).all()
        return ids.index(conversation_id) if conversation_id in ids else None

    def search_conversations(self, typed: str, limit: int = 50) -> Sequence[Conversation]:
        """Conversations whose title or any message has every word typed, in the drawer's order."""
        words = typed.split()
        if not words:
            return self.list_conversations(limit)
        title_matches = [contains_folded(Conversation.title, word) for word in words]
        matching = select(Message.conversation_id).where(
            message_matches(self._search, typed, col(Message.id), col(Message.content))
        )
        with self._session() as session:
            query = select(Conversation).where(or_(and_(*title_matches), col(Conversation.id).in_(matching)))
            return session.exec(query.order_by(*CONVERSATION_ORDER).limit(limit)).all()

    def rename_conversation(self, conversation_id: str, title: str) -> None:
        self._update_conversation(conversation_id, title=" ".join(without_lone_surrogates(title).split())[:200])

    def retitle(self, conversation_id: str, expected: str, title: str) -> bool:
        """Set the title only if it is still `expected`: a person's own rename in the meantime wins."""
        with self._session() as session:
            result = session.exec(
                update(Conversation)
                .where(col(Conversation.id) == conversation_id, col(Conversation.title) == expected)
                .values(title=without_lone_surrogates(title))
            )
            session.commit()
            return result.rowcount == 1

    def pin_conversation(self, conversation_id: str, pinned: bool) -> None:
        self._update_conversation(conversation_id, pinned_at=utc_now() if pinned else None)

    def delete_conversation(self, conversation_id: str) -> None:
        with self._session() as session:
            its_messages = select(Message.id).where(col(Message.conversation_id) == conversation_id)
            session.exec(delete(ReplyPiece).where(col(ReplyPiece.message_id).in_(its_messages)))
            session.exec(delete(ToolStep).where(col(ToolStep.message_id).in_(its_messages)))
            session.exec(delete(Message).where(col(Message.conversation_id) == conversation_id))
            session.exec(delete(Conversation).where(col(Conversation.id) == conversation_id))
            session.commit()

    def _update_conversation(self, conversation_id: str, **fields: object) -> None:
        with self._session() as session:
            session.exec(update(Conversation).where(col(Conversation.id) == conversation_id).values(**fields))
            session.commit()

    def messages(self, conversation_id: str) -> Sequence[Message]:
        with self._session() as session:
            query = select(Message).where(Message.conversation_id == conversation_id).order_by(col(Message.id))
            return session.exec(query).all()

    def message_links(self, conversation_id: str) -> list[MessageLink]:
        """The conversation's tree without its texts: cheap to read however long the conversation is."""
        with self._session() as session:
            query = select(Message.id, Message.parent_id, Message.role)
            rows = session.exec(query.where(Message.conversation_id == conversation_id).order_by(col(Message.id)))
            return [MessageLink(*row) for row in rows]

    def messages_with_ids(self, ids: Sequence[int]) -> list[Message]:
        """These messages, in the order of `ids`."""
        with self._session() as session:
            found = {m.id: m for m in session.exec(select(Message).where(col(Message.id).in_(list(ids))))}
        return [found[message_id] for message_id in ids if message_id in found]

    def add_message(
        self,
        conversation_id: str,
        role: Role,
        content: str,
        status: Status,
        model: str,
        parent_id: int | type[AT_LEAF] | None = AT_LEAF,
        chosen: str | None = None,
    ) -> Message:
        """A new message after the branch's last one (or after `parent_id`: a new version of its children); it
        becomes the conversation's leaf. The conversation's model becomes `chosen` (a route), else `model`."""
        content = without_lone_surrogates(content)
        message = Message(conversation_id=conversation_id, role=role, content=content, status=status, model=model)
        with self._session() as session:
            conversation = session.get(Conversation, conversation_id)
            message.parent_id = (conversation.leaf_id if conversation else None) if parent_id is AT_LEAF else parent_id
            session.add(message)
            session.flush()  # gives the message its id
            if conversation is not None:
                conversation.updated_at = utc_now()
                conversation.model = chosen or model
                conversation.leaf_id = message.id
                if not conversation.title and role == Role.USER:
                    conversation.title = title_from(content)
                session.add(conversation)
            session.commit()
        return message

    def conversation_with_messages(self, conversation_id: str) -> ConversationWithMessages | None:
        """The conversation and all its messages, every version, as they leave the app (an export)."""
        conversation = self.get_conversation(conversation_id)
        if conversation is None:
            return None
        messages = self.messages_with_steps(self.messages(conversation_id))
        return ConversationWithMessages(**conversation.model_dump(), messages=messages)

    def tool_steps(self, message_ids: Sequence[int]) -> dict[int, list[ToolStep]]:
        """The tool calls of these replies, by message id, each reply's in order."""
        if not message_ids:
            return {}
        with self._session() as session:
            return steps_by_message(session, message_ids)

    def steps_of_replies(self, messages: Sequence[Message]) -> dict[int, list[ToolStep]]:
        """The tool calls of the replies among these messages, by message id."""
        return self.tool_steps([m.id for m in messages if m.role == Role.ASSISTANT])

    def messages_with_steps(self, messages: Sequence[Message]) -> list[MessagePublic]:
        """The messages as they leave the app, each reply with its tool calls."""
        steps = self.steps_of_replies(messages)
        return [
            MessagePublic.model_validate(
                {
                    **message.model_dump(),
                    "tool_steps": [
                        ToolStepPublic.model_validate(s, from_attributes=True) for s in steps.get(message.id, [])
                    ],
                }
            )
            for message in messages
        ]

    def add_conversations(self, conversations: Sequence[ConversationWithMessages], keep_ids: bool) -> int:
        """Add these conversations and their messages, all in one transaction; one whose id is here already is
        skipped. With `keep_ids`, messages keep their ids where this database has them free (an export of this
        app comes back exactly); parents and the leaf point at the right messages either way. Returns how many
        were added."""
        added = 0
        with self._session() as session:
            for entry in conversations:
                if session.get(Conversation, entry.id) is not None:
                    continue
                conversation = Conversation.model_validate(entry.model_dump(exclude={"messages", "leaf_id"}))
                session.add(conversation)
                session.flush()  # the conversation exists before its messages point at it
                new_ids = _add_messages(session, entry.id, entry.messages, keep_ids)
                conversation.leaf_id = new_ids.get(entry.leaf_id) if entry.leaf_id is not None else None
                added += 1
            session.commit()
        return added

    def set_leaf(self, conversation_id: str, message_id: int) -> None:
        self._update_conversation(conversation_id, leaf_id=message_id)

    def write_replies(
        self,
        pieces: list[tuple[int, str]],
        finals: list[tuple[int, dict]],
        connection: Connection | None = None,
        steps: list[tuple[int, dict]] = (),
    ) -> None:
        """One transaction: new pieces of replies being written, their tool steps as they are now, and the final
        state of replies that ended (their whole text becomes the message's content, and their pieces go). Plain SQL
        on a connection the writer keeps (`connection`), not an ORM session from the pool: this runs every few tokens
        of every reply, and that machinery cost three times the commit itself."""
        if connection is None:
            with self.engine.connect() as own:
                return self.write_replies(pieces, finals, own, steps)
        try:
            if pieces:
                rows = [{"message_id": message, "text": without_lone_surrogates(text)} for message, text in pieces]
                connection.execute(ADD_PIECES, rows)
            _write_steps(connection, list(steps))
            for message_id, fields in finals:
                connection.execute(_reply_update(message_id, fields))
                connection.execute(delete(ReplyPiece).where(col(ReplyPiece.message_id) == message_id))
            connection.commit()
        except BaseException:
            connection.rollback()
            raise

    def reply_text(self, message_id: int) -> str:
        """A reply's text as stored: its content, then the pieces written since (while it is being written)."""
        with self._session() as session:
            message = session.get(Message, message_id)
            return (message.content if message else "") + _pieces_of(session, message_id)

    def save_reply(self, message_id: int, **fields: object) -> None:
        """Write the given fields of an assistant message (content, status, error, usage, finish reason)."""
        with self.engine.begin() as connection:
            connection.execute(_reply_update(message_id, fields))

    def mark_streaming_interrupted(self) -> int:
        """At start-up, a reply still marked streaming was cut off by a crash: its pieces become its text, and it
        says it was interrupted instead of pretending to be complete."""
        with self._session() as session:
            cut_off = session.exec(select(Message).where(col(Message.status) == Status.STREAMING)).all()
            for message in cut_off:
                message.content += _pieces_of(session, message.id)
                message.status = Status.INTERRUPTED
                session.add(message)
                session.exec(delete(ReplyPiece).where(col(ReplyPiece.message_id) == message.id))
            under_way = col(ToolStep.status).in_(TOOL_STATUSES_UNDER_WAY)
            session.exec(update(ToolStep).where(under_way).values(status=ToolStatus.INTERRUPTED))
            session.commit()
            return len(cut_off)

    def configure_conversation(
        self,
        conversation_id: str,
        system_prompt: str | None,
        temperature: float | None,
        max_output_tokens: int | None,
        tool_sources: str | None = None,
    ) -> None:
        self._update_conversation(
            conversation_id,
            system_prompt=system_prompt or None,
            temperature=temperature,
            max_output_tokens=max_output_tokens,
            tool_sources=tool_sources,
        )

    def reply_facts(self, since: datetime) -> list[ReplyFact]:
        """What the Stats page is made of: each reply since `since`, without its text (columns only, no objects:
        100,000 of them are read in well under a second)."""
        query = (
            select(
                Message.model,
                Message.status,
                Message.first_token_ms,
                Message.duration_ms,
                Message.output_tokens,
                Message.fell_back_from,
                Message.tools_ms,
            )
            .where(col(Message.role) == Role.ASSISTANT, col(Message.created_at) >= since)
            .order_by(col(Message.id))
        )
        with self._session() as session:
            return [ReplyFact(*row) for row in session.exec(query)]

    def set_system_prompt(self, conversation_id: str, system_prompt: str) -> None:
        with self._session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None:
                conversation.system_prompt = system_prompt or None
                session.commit()
