"""Password hashing with the standard library's scrypt: slow for an attacker, no extra dependency."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt's usual interactive-login cost: ~50 ms and 16 MB per check.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def generate_password() -> str:
    """About 96 bits of randomness in 16 characters a person can type from a terminal."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **SCRYPT)
    return f"scrypt${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode("utf-8", "replace"), salt=_unb64(salt), **SCRYPT)
    return hmac.compare_digest(candidate, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())
