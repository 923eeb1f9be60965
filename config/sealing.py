"""Secrets kept in the database (a console site's Flexbe key and webhook token, the bot
token), sealed with a key derived from LEADRELAY_SECRET_KEY: a copy of the database alone
gives none of them away."""

from __future__ import annotations

from base64 import urlsafe_b64encode

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr

# Changing it makes every sealed value unreadable: it names what the derived key is for.
_PURPOSE = b"leadrelay: secrets stored in the database"


class SealError(Exception):
    """A sealed value that this LEADRELAY_SECRET_KEY cannot open."""


class Sealer:
    """Seals and opens stored secrets (Fernet: AES-128-CBC with an HMAC, and a timestamp)."""

    def __init__(self, secret_key: SecretStr) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(
            secret_key.get_secret_value().encode()
        )
        self._fernet = Fernet(urlsafe_b64encode(derived))

    def seal(self, secret: SecretStr) -> str:
        return self._fernet.encrypt(secret.get_secret_value().encode()).decode("ascii")

    def open(self, sealed: str) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(sealed.encode("ascii")).decode())
        except (InvalidToken, UnicodeError, ValueError):
            raise SealError(
                "a secret stored in the database cannot be read with this "
                "LEADRELAY_SECRET_KEY (was it changed?)"
            ) from None
