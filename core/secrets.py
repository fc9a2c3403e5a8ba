"""Encryption at rest for destination URLs, and fingerprints that de-duplicate them without storing them in clear."""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

FINGERPRINT_LENGTH = 16
_UNREADABLE = "A stored secret could not be decrypted: the key is wrong or the stored data is damaged."


class SecretUnreadable(Exception):
    """A stored secret could not be decrypted (wrong key, or altered or truncated data); its text says no more."""


class SecretBox:
    """Encrypts and decrypts short secrets, such as Apprise URLs, with one Fernet key."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        # Derived tokens use their own key, so they never reuse the encryption key itself.
        self._token_key = hmac.new(key, b"soonish derived tokens", hashlib.sha256).digest()

    def encrypt(self, text: str) -> str:
        """Return an authenticated, timestamped token (URL-safe ASCII) that hides ``text``."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """Return the text inside ``token``; raise SecretUnreadable if it cannot be read with this key."""
        text = self._open(token)
        # Raised outside any except block, so no chained exception carries the token or plaintext.
        if text is None:
            raise SecretUnreadable(_UNREADABLE)
        return text

    def derive_token(self, purpose: str, seed: str) -> str:
        """A URL-safe token (43 characters) that only holders of the key can compute from `purpose` and `seed`."""
        digest = hmac.new(self._token_key, f"{purpose}\x00{seed}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _open(self, token: str) -> str | None:
        if not isinstance(token, str) or not token.isascii():
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            return None


def fingerprint(text: str) -> str:
    """Return a short, stable hex digest of ``text`` (sha256, first 16 characters), for de-duplication."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:FINGERPRINT_LENGTH]
