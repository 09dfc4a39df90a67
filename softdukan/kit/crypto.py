"""Tokens, one-way hashes for tokens and keys, and encryption of secrets at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(secret_key: str, token: str) -> str:
    """Keyed hash for high-entropy tokens (sessions, invites, API keys): a stolen table is useless."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def constant_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class SecretBox:
    """Encrypts secrets at rest (tokens of connected numbers, provider keys) with a key derived from the app secret."""

    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"softdukan-secret-box:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("sealed secret cannot be opened with this key") from exc
