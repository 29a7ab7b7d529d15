"""The login page, shown when a password is set: one field, Enter signs in, wrong guesses slow down."""

from __future__ import annotations

import asyncio
import math
import re
from urllib.parse import urlencode

from nicegui import app, ui
from starlette.requests import Request
from starlette.responses import RedirectResponse

from app.security.access import Access, LoginThrottle
from app.security.sign_in import SIGNED_IN_PENDING, SignInTickets, new_session
from app.ui.theme import apply_theme

# The pages of this app, and nothing else: browsers drop tabs and newlines from a URL and read `\\` as `/`, so
# `/%09/evil.example` would go to another site; a list of what is allowed cannot be tricked that way.
APP_PATH = re.compile(r"/(c/[A-Za-z0-9_-]{1,64}|connections)?")


def safe_next(target: str) -> str:
    """Where to go after signing in: one of this app's pages, else the start page (no open redirect)."""
    return target if APP_PATH.fullmatch(target) else "/"


class LoginPage:
    def __init__(self, access: Access, throttle: LoginThrottle, tickets: SignInTickets, target: str) -> None:
        self.access = access
        self.throttle = throttle
        self.tickets = tickets
        self.target = safe_next(target)
        request = ui.context.client.request
        self.address = request.client.host if request.client else "unknown"
        self.session_id = request.session.get("id", "")

    def build(self) -> None:
        apply_theme()
        with ui.card().classes("login-card mx-auto mt-24 w-80 gap-3"):
            ui.label("Chat").classes("text-h6")
            ui.label("This chat is shared on the network. Enter its password.").classes("text-sm opacity-70")
            self.password = ui.input("Password", password=True, password_toggle_button=True)
            self.password.props("outlined autofocus autocomplete=current-password").classes("w-full")
            self.password.on("keydown.enter", self.sign_in)
            self.message = ui.label("").classes("text-negative text-sm").props('role="alert"').mark("login-error")
            sign_in = ui.button("Sign in", on_click=self.sign_in).classes("w-full")
            sign_in.props('unelevated no-caps aria-label="Sign in"')

    async def sign_in(self) -> None:
        wait = self.throttle.attempt(self.address)  # counted now: guesses sent together cannot all get through
        if wait > 0:
            self.message.set_text(f"Too many wrong passwords. Try again in {math.ceil(wait)} s.")
            return
        # scrypt takes tens of milliseconds on purpose: off the event loop, so other people's replies keep streaming.
        if await asyncio.to_thread(self.access.check, self.password.value or ""):
            self.throttle.succeeded(self.address)
            # Signed in over HTTP, where the session id can be replaced (see app/security/sign_in.py).
            ticket = self.tickets.issue(self.session_id)
            ui.navigate.to("/login/complete?" + urlencode({"ticket": ticket, "next": self.target}))
            return
        self.password.value = ""
        self.message.set_text("Wrong password.")


def register_login(access: Access, throttle: LoginThrottle) -> None:
    tickets = SignInTickets()

    @ui.page("/login", title="Sign in · Chat")
    def login_page(next: str = "/") -> None:
        if access.signed_in(app.storage.user):
            ui.navigate.to(safe_next(next))
            return
        LoginPage(access, throttle, tickets, next).build()

    @app.get("/login/complete", include_in_schema=False)
    def complete_sign_in(request: Request, ticket: str = "", next: str = "/") -> RedirectResponse:
        if not tickets.redeem(ticket, request.session.get("id")):
            return RedirectResponse("/login", status_code=303)
        new_session(request.session, app.storage.user)
        request.session[SIGNED_IN_PENDING] = access.session_token  # the signed cookie carries it to the new id
        return RedirectResponse(safe_next(next), status_code=303)

    @app.get("/logout", include_in_schema=False)
    def sign_out(request: Request) -> RedirectResponse:
        new_session(request.session, app.storage.user)
        return RedirectResponse("/login", status_code=303)
