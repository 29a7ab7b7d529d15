"""Who may use the app: passwords, the generated network password, login backoff, the addresses to share."""

from __future__ import annotations

from app.security.access import Access, LoginThrottle, is_loopback, lan_urls, set_up_access
from app.security.passwords import generate_password, hash_password, verify_password
from app.settings import Settings
from app.storage.database import create_database
from app.storage.secrets import SecretStore


def secrets_at(database_url: str) -> SecretStore:
    return SecretStore(create_database(database_url))


def test_a_password_is_kept_only_as_a_salted_hash():
    stored = hash_password("correct horse")

    assert "correct horse" not in stored and stored != hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct hors", stored)
    assert not verify_password("anything", "not-a-hash")


def test_generated_passwords_are_long_and_different():
    passwords = {generate_password() for _ in range(100)}

    assert len(passwords) == 100 and min(len(p) for p in passwords) >= 16


def test_this_machine_only_needs_no_password(database_url):
    access = set_up_access(Settings(_env_file=None, database_url=database_url), secrets_at(database_url), print)

    assert not access.required and access.signed_in({})


def test_a_network_bind_generates_a_password_announced_once_and_kept_hashed(database_url):
    settings = Settings(_env_file=None, database_url=database_url, host="0.0.0.0")
    said: list[str] = []

    first = set_up_access(settings, secrets_at(database_url), said.append)
    [announcement] = said
    password = announcement.rsplit(" ", 1)[-1]
    again = set_up_access(settings, secrets_at(database_url), said.append)  # a restart

    assert first.required and first.check(password) and again.check(password)
    assert len(said) == 1, "the password is printed once, not at every start"
    assert password not in secrets_at(database_url).secret("password_hash")


def test_new_password_replaces_the_generated_one(database_url):
    settings = Settings(_env_file=None, database_url=database_url, host="0.0.0.0")
    said: list[str] = []
    old = set_up_access(settings, secrets_at(database_url), said.append)

    new = set_up_access(settings, secrets_at(database_url), said.append, new_password=True)

    assert len(said) == 2 and said[0] != said[1]
    assert not new.check(said[0].rsplit(" ", 1)[-1]) and new.check(said[1].rsplit(" ", 1)[-1])
    assert old.session_token != new.session_token, "sessions signed in with the old password end"


def test_chat_password_is_required_even_on_loopback(database_url):
    settings = Settings(_env_file=None, database_url=database_url, chat_password="open sesame")

    access = set_up_access(settings, secrets_at(database_url), print)

    assert access.required and access.check("open sesame") and not access.check("open")


def test_a_session_is_signed_in_only_with_the_current_token():
    access = Access(hash_password("pw"), session_secret="secret")

    assert access.signed_in({"signed_in": access.session_token})
    assert not access.signed_in({}) and not access.signed_in({"signed_in": "forged"})


def test_failed_logins_from_one_address_wait_longer_and_longer():
    now = [1000.0]
    throttle = LoginThrottle(clock=lambda: now[0])

    for _ in range(3):
        assert throttle.wait_before_next("10.0.0.5") == 0
        throttle.failed("10.0.0.5")
    waits = []
    for _ in range(4):
        waits.append(throttle.wait_before_next("10.0.0.5"))
        now[0] += waits[-1]
        throttle.failed("10.0.0.5")

    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert throttle.wait_before_next("10.0.0.6") == 0, "another address is not slowed down"
    throttle.succeeded("10.0.0.5")
    assert throttle.wait_before_next("10.0.0.5") == 0


def test_the_urls_to_share_are_this_machines_network_addresses():
    urls = lan_urls("0.0.0.0", 8080)

    assert all(url.startswith("http://") and url.endswith(":8080") for url in urls)
    assert not [url for url in urls if "127.0.0.1" in url]
    assert lan_urls("192.168.1.20", 9000) == ["http://192.168.1.20:9000"]


def test_loopback_addresses_are_recognised():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("myhost")


def test_guesses_sent_at_the_same_moment_are_counted_before_any_is_checked():
    throttle = LoginThrottle(clock=lambda: 1000.0)

    allowed = [throttle.attempt("10.0.0.7") == 0 for _ in range(16)]  # 16 guesses before any hash finishes

    assert allowed.count(True) == LoginThrottle.FREE_ATTEMPTS
    throttle.succeeded("10.0.0.7")
    assert throttle.attempt("10.0.0.7") == 0, "a right password takes the count back"
