"""Provider keys typed into the app, sealed at rest with a key kept outside the database.

The sealing key is a file of its own (0600, beside the database by default): a copy of the database alone, a
backup or an export, holds no usable provider key.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class KeyBox:
    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._fernet: Fernet | None = None

    def seal(self, secret: str) -> str:
        return self._key().encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None when it cannot be opened (the key file was replaced or lost)."""
        try:
            return self._key().decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None

    def _key(self) -> Fernet:
        if self._fernet is None:
            if not self.key_file.exists():
                self.key_file.parent.mkdir(parents=True, exist_ok=True)
                # Created readable by this user alone, never written with looser permissions first.
                descriptor = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as file:
                    file.write(Fernet.generate_key())
            self._fernet = Fernet(self.key_file.read_bytes().strip())
        return self._fernet


def key_hint(secret: str) -> str:
    """`sk-…a1b2`: enough to tell keys apart, far too little to use one."""
    secret = secret.strip()
    return f"{secret[:3]}…{secret[-4:]}" if len(secret) > 10 else "…"
