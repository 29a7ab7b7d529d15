"""The login page, shown when a password is set: one field, Enter signs in, wrong guesses slow down."""

from __future__ import annotations

import asyncio
import math

from nicegui import app, ui

from app.security.access import SESSION_KEY, Access, LoginThrottle
from app.ui.theme import apply_theme


def safe_next(target: str) -> str:
    """Only a path on this site: `//host` or `https://host` would make the login page an open redirect."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


class LoginPage:
    def __init__(self, access: Access, throttle: LoginThrottle, target: str) -> None:
        self.access = access
        self.throttle = throttle
        self.target = safe_next(target)
        request = ui.context.client.request
        self.address = request.client.host if request.client else "unknown"

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
        wait = self.throttle.wait_before_next(self.address)
        if wait > 0:
            self.message.set_text(f"Too many wrong passwords. Try again in {math.ceil(wait)} s.")
            return
        # scrypt takes tens of milliseconds on purpose: off the event loop, so other people's replies keep streaming.
        if await asyncio.to_thread(self.access.check, self.password.value or ""):
            self.throttle.succeeded(self.address)
            app.storage.user[SESSION_KEY] = self.access.session_token
            ui.navigate.to(self.target)
            return
        self.throttle.failed(self.address)
        self.password.value = ""
        self.message.set_text("Wrong password.")


def register_login(access: Access, throttle: LoginThrottle) -> None:
    @ui.page("/login", title="Sign in · Chat")
    def login_page(next: str = "/") -> None:
        if access.signed_in(app.storage.user):
            ui.navigate.to(safe_next(next))
            return
        LoginPage(access, throttle, next).build()
