"""Encryption at rest of destination URLs, and their fingerprints."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core.secrets import SecretBox, SecretUnreadable, fingerprint

URL = "jsons://alice:hunter2pass@hooks.example.com/t0k3n?+X-Api-Key=s3cr3tvalue"


@pytest.fixture
def box() -> SecretBox:
    """A secret box with a fresh key."""
    return SecretBox(Fernet.generate_key())


def test_round_trip(box: SecretBox) -> None:
    """Decrypting what was encrypted gives the same text back, non-ASCII included."""
    assert box.decrypt(box.encrypt(URL + "/é✓")) == URL + "/é✓"


def test_ciphertext_does_not_contain_the_plaintext(box: SecretBox) -> None:
    """The stored token shows nothing of the secret."""
    token = box.encrypt(URL)
    for secret in ("hunter2pass", "t0k3n", "s3cr3tvalue", "hooks.example.com"):
        assert secret not in token


def test_tampered_token_is_unreadable(box: SecretBox) -> None:
    """A token with one character changed raises SecretUnreadable, whose message does not contain the token."""
    token = box.encrypt(URL)
    tampered = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    with pytest.raises(SecretUnreadable) as caught:
        box.decrypt(tampered)
    assert tampered not in str(caught.value)
    assert "could not be decrypted" in str(caught.value)


def test_token_from_another_key_is_unreadable(box: SecretBox) -> None:
    """A token made with another key cannot be read."""
    other = SecretBox(Fernet.generate_key())
    with pytest.raises(SecretUnreadable):
        box.decrypt(other.encrypt(URL))


def test_non_ascii_token_is_unreadable_without_chained_error(box: SecretBox) -> None:
    """A token that is not ASCII is unreadable, and no chained exception carries it."""
    with pytest.raises(SecretUnreadable) as caught:
        box.decrypt("gAAAA-é-not-a-token")
    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


def test_fingerprint_is_short_stable_hex() -> None:
    """A fingerprint is 16 hex characters and the same for the same text."""
    print_ = fingerprint(URL)
    assert len(print_) == 16
    assert int(print_, 16) >= 0
    assert fingerprint(URL) == print_


def test_fingerprint_differs_for_different_text() -> None:
    """Different destinations get different fingerprints."""
    assert fingerprint(URL) != fingerprint(URL + "x")
