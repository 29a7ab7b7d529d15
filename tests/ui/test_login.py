"""With a password set: the login page, sessions, signing out, slowed guessing, and the headers every page carries."""

from __future__ import annotations

import pytest
from nicegui import ui
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
