"""With a password set: the login page, sessions, signing out, slowed guessing, and the headers every page carries."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from nicegui import core, ui
from nicegui.testing import User

from tests.ui.helpers import assert_status, eventually, replies, send

PASSWORD = "a long and secret passphrase"


@pytest.fixture
def password_env(app_env, monkeypatch):
    monkeypatch.setenv("CHAT_PASSWORD", PASSWORD)
    return app_env


async def sign_in(user: User, password: str = PASSWORD) -> None:
    user.find("Password").type(password).trigger("keydown.enter")


async def fail_to_sign_in(user: User, password: str) -> None:
    await sign_in(user, password)
    [field] = user.find("Password").elements
    await eventually(lambda: field.value == "")  # a wrong password is cleared once it has been checked


async def test_a_visitor_must_sign_in_before_seeing_any_chat(password_env, user: User):
    await user.open("/")

    await user.should_see("Password")
    await user.should_not_see("Message")
    response = await user.http_client.get("/c/some-conversation", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/c/some-conversation"


async def test_the_right_password_opens_the_chat_and_a_wrong_one_says_so(password_env, user: User):
    await user.open("/")

    await sign_in(user, "guess")
    await user.should_see("Wrong password.")

    await sign_in(user)
    await user.should_see("Message")
    await send(user, "Hello after signing in")
    await eventually(lambda: assert_status(replies(user)[0], "complete"))


async def test_after_a_few_wrong_passwords_the_next_tries_must_wait(password_env, user: User):
    await user.open("/login")
    for attempt in range(3):
        await fail_to_sign_in(user, f"wrong {attempt}")
    await user.should_see("Wrong password.")

    await sign_in(user)  # even the right password waits its turn

    await user.should_see("Too many wrong passwords. Try again in")
    await user.should_not_see("Message")


async def test_signing_out_ends_the_session_for_every_open_tab(password_env, user: User):
    await user.open("/")
    await sign_in(user)
    await user.should_see("Message")

    user.find(kind=ui.button, content="Sign out").click()

    await user.should_see("Password")
    response = await user.http_client.get("/", follow_redirects=False)
    assert response.status_code == 303


async def test_a_page_left_open_after_signing_out_sends_nothing(password_env, user: User):
    await user.open("/")
    await sign_in(user)
    await user.should_see("Message")
    await user.http_client.get("/logout")  # signed out from another tab of the same browser

    await send(user, "Should not be sent")

    await user.should_see("Password")
    assert not password_env["openai"].chat_requests


async def test_the_login_page_never_redirects_to_another_site(password_env, user: User):
    await user.open("/login?next=//evil.example/steal")
    await sign_in(user)

    await user.should_see("Message")
    assert user.client.page.path == "/"


async def test_every_response_carries_the_security_headers(app_env, user: User):
    await user.open("/")

    for path in ("/", "/c/unknown", "/_nicegui/client/whatever"):
        headers = (await user.http_client.get(path)).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
        assert "img-src 'self' data: blob:" in policy  # no other host, so no image can carry data away


async def test_on_loopback_without_a_password_there_is_no_login(app_env, user: User):
    await user.open("/")

    await user.should_see("Message")
    await user.should_not_see("Sign out")


def session_id(cookie: str) -> str:
    """The id inside Starlette's signed session cookie (base64 JSON, then a timestamp and a signature)."""
    payload = cookie.split(".", 1)[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))["id"]


def another_browser(cookie: str | None = None) -> httpx.AsyncClient:
    cookies = {"chat_session": cookie} if cookie else None
    return httpx.AsyncClient(transport=httpx.ASGITransport(core.app), base_url="http://test", cookies=cookies)


async def test_signing_in_and_out_gives_the_browser_a_new_session_id(password_env, user: User):
    await user.open("/login")
    planted = user.http_client.cookies["chat_session"]  # what an attacker could have set in this browser

    await sign_in(user)
    await user.should_see("Message")
    signed_in = user.http_client.cookies["chat_session"]
    user.find(kind=ui.button, content="Sign out").click()
    await user.should_see("Password")

    assert session_id(planted) != session_id(signed_in) != session_id(user.http_client.cookies["chat_session"])
    for cookie in (planted, signed_in):  # neither the planted session nor the signed-out one opens anything
        async with another_browser(cookie) as browser:
            assert (await browser.get("/", follow_redirects=False)).status_code == 303


async def test_a_sign_in_ticket_works_once_and_only_for_its_own_browser(password_env, user: User):
    await user.open("/login")
    async with another_browser() as stranger:
        await stranger.get("/login")
        for ticket in ("", "made-up", "a" * 32):
            response = await stranger.get(f"/login/complete?ticket={ticket}&next=/", follow_redirects=False)
            assert response.headers["location"] == "/login"
        assert (await stranger.get("/", follow_redirects=False)).status_code == 303


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "https://evil.example",
        "/c/../../evil",
        "/c/x/../../../",
        " /",
        "/login?next=//e.x",
    ],
)
def test_after_sign_in_only_this_apps_own_pages_are_a_destination(target):
    from urllib.parse import unquote

    from app.ui.login_page import safe_next

    assert safe_next(target) == "/" and safe_next(unquote(target)) == "/"
    assert safe_next("/c/AbC-12_x") == "/c/AbC-12_x"


@pytest.mark.parametrize("target", ["/", "/c/AbC-12_x", "/connections", "/c/" + "a" * 64])
def test_after_sign_in_the_page_asked_for_is_where_one_lands(target):
    from app.ui.login_page import safe_next

    assert safe_next(target) == target


async def test_a_signed_in_visitor_sent_to_another_site_stays_here(password_env, user: User):
    await user.open("/")
    await sign_in(user)
    await user.should_see("Message")

    await user.open("/login?next=/%09/evil.example")

    await user.should_see("Message")
    assert user.client.page.path == "/"


async def test_sixteen_guesses_at_the_same_moment_get_three_password_checks(password_env, user: User, monkeypatch):
    from app.security import access

    checks = []
    real_verify = access.verify_password
    monkeypatch.setattr(access, "verify_password", lambda *args: checks.append(1) or real_verify(*args))
    await user.open("/login")
    field = user.find("Password")
    field.type("a wrong guess")

    for _ in range(16):
        field.trigger("keydown.enter")  # none of them waits for the one before
    await asyncio.sleep(1.0)  # scrypt, off the event loop, for the ones that were let through

    assert len(checks) == access.LoginThrottle.FREE_ATTEMPTS


async def test_only_the_browser_that_owns_a_page_may_upload_to_it(password_env, user: User):
    await user.open("/")
    await sign_in(user)
    await user.should_see("Message")
    [upload] = user.find(kind=ui.upload).elements
    export = json.dumps({"format": "llm-chat", "version": 1, "conversations": []}).encode()
    files = {"file": ("export.json", export, "application/json")}

    async with another_browser() as stranger:
        await stranger.get("/login")
        refused_without_session = await another_browser().post(upload._registered_url, files=files)
        refused_other_session = await stranger.post(upload._registered_url, files=files)
    accepted = await user.http_client.post(upload._registered_url, files=files)

    assert refused_without_session.status_code == refused_other_session.status_code == 403
    assert accepted.status_code == 200
