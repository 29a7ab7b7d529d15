"""A new session id at every sign-in and sign-out, so a session id planted in a browser before it signed in
(session fixation) is worth nothing afterwards.

The password is checked over the page's websocket, where no cookie can be set. So a right password earns a
one-time ticket for that browser session, redeemed over HTTP: that request replaces the session id in the cookie
and carries the sign-in to the new session's first request."""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from collections.abc import Callable, MutableMapping

from app.security.access import SESSION_KEY, Access

TICKET_SECONDS = 30.0
# In the signed session cookie, between the redirect and the first request of the new session.
SIGNED_IN_PENDING = "signed_in_pending"


class SignInTickets:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tickets: dict[str, tuple[str, float]] = {}

    def issue(self, session_id: str) -> str:
        now = self._clock()
        self._tickets = {t: entry for t, entry in self._tickets.items() if entry[1] > now}  # drop expired ones
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = (session_id, now + TICKET_SECONDS)
        return ticket

    def redeem(self, ticket: str, session_id: str | None) -> bool:
        """Once, within its lifetime, and only by the session it was issued to."""
        owner, expires = self._tickets.pop(ticket, ("", 0.0))
        return bool(owner) and session_id == owner and self._clock() < expires


def new_session(cookie_session: MutableMapping, user_storage: MutableMapping) -> None:
    """Forget the old session's server-side storage and give the browser a fresh id."""
    user_storage.clear()
    cookie_session["id"] = str(uuid.uuid4())


def adopt_pending_sign_in(access: Access, cookie_session: MutableMapping, user_storage: MutableMapping) -> None:
    """The first request of a session made at sign-in: its storage exists now, so it takes the sign-in."""
    pending = cookie_session.pop(SIGNED_IN_PENDING, None)
    if pending is not None and hmac.compare_digest(str(pending), access.session_token):
        user_storage[SESSION_KEY] = access.session_token
