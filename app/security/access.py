"""Who may use the app: anyone on this machine, or, once it is shared on a network, whoever knows the password."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

import ifaddr

from app.security.passwords import generate_password, hash_password, verify_password
from app.settings import Settings
from app.storage.secrets import SecretStore

SESSION_KEY = "signed_in"


@dataclass(frozen=True)
class Access:
    password_hash: str | None  # None: no password needed
    session_secret: str

    @property
    def required(self) -> bool:
        return self.password_hash is not None

    def check(self, password: str) -> bool:
        return self.password_hash is not None and verify_password(password, self.password_hash)

    @property
    def session_token(self) -> str:
        """Kept in a signed-in session; derived from the password, so a new password signs every session out."""
        message = (self.password_hash or "").encode()
        return hmac.new(self.session_secret.encode(), message, hashlib.sha256).hexdigest()

    def signed_in(self, session_storage: MutableMapping) -> bool:
        if not self.required:
            return True
        return hmac.compare_digest(str(session_storage.get(SESSION_KEY, "")), self.session_token)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_up_access(
    settings: Settings, kept: SecretStore, announce: Callable[[str], None], new_password: bool = False
) -> Access:
    """The session key and the password hash, made once and kept in the database. A network bind without
    CHAT_PASSWORD gets a generated password, announced once; loopback needs none unless one is set."""
    session_secret = kept.secret("session_secret")
    if session_secret is None:
        session_secret = secrets.token_urlsafe(32)
        kept.keep_secret("session_secret", session_secret)
    if settings.chat_password is not None:
        return Access(hash_password(settings.chat_password.get_secret_value()), session_secret)
    if is_loopback(settings.host):
        return Access(None, session_secret)
    password_hash = None if new_password else kept.secret("password_hash")
    if password_hash is None:
        password = generate_password()
        password_hash = hash_password(password)
        kept.keep_secret("password_hash", password_hash)
        announce(f"Password for this chat (shown once, kept only as a hash; --new-password makes another): {password}")
    return Access(password_hash, session_secret)


def lan_urls(host: str, port: int) -> list[str]:
    """The addresses to open from other devices: every IPv4 address of this machine when bound to all of them."""
    if host not in ("0.0.0.0", "::"):
        return [f"http://{host}:{port}"]
    addresses = [
        ip.ip
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if ip.is_IPv4 and not ipaddress.ip_address(ip.ip).is_loopback
    ]
    return [f"http://{address}:{port}" for address in sorted(set(addresses))]


class LoginThrottle:
    """Per-address backoff: after a few free attempts, each failure doubles the wait before the next attempt.

    An attempt counts as a failure from the moment it starts (`attempt`), before the slow password check, and only
    a success takes it back: so guesses sent at the same moment are counted as they arrive, not after the hash."""

    FREE_ATTEMPTS = 3
    LONGEST_WAIT = 300.0
    REMEMBERED = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic, free_attempts: int = FREE_ATTEMPTS) -> None:
        self._clock = clock
        self.free_attempts = free_attempts
        self._failures: dict[str, tuple[int, float]] = {}

    def wait_before_next(self, address: str) -> float:
        failures, last = self._failures.get(address, (0, 0.0))
        if failures < self.free_attempts:
            return 0.0
        wait = min(self.LONGEST_WAIT, 2.0 ** (failures - self.free_attempts))
        return max(0.0, last + wait - self._clock())

    def attempt(self, address: str) -> float:
        """0 if an attempt may go ahead now (it is counted at once), else the seconds left to wait."""
        wait = self.wait_before_next(address)
        if wait == 0:
            self.failed(address)
        return wait

    def failed(self, address: str) -> None:
        if len(self._failures) >= self.REMEMBERED:
            self._failures.pop(next(iter(self._failures)))  # the oldest address: memory stays bounded
        failures, _ = self._failures.pop(address, (0, 0.0))
        self._failures[address] = (failures + 1, self._clock())

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
