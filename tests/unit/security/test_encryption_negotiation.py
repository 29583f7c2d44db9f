"""Negotiating ewp-rsa-aes128gcm for one exchange (SECURITY.md c.2, c.3; VALIDATOR.md E28-E35)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ewp_node.security.encryption import decode_request_body, response_key
from ewp_node.security.errors import (
    DecryptionError,
    EncodingNotAcceptable,
    EncryptedRequestWithoutBody,
    MalformedSignature,
    MisusedContentEncoding,
    UnsupportedContentEncoding,
)
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.security.rsa_aes import encrypt

SERVER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLIENT = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = {fingerprint(SERVER.public_key()): SERVER}


def test_plain_and_identity_bodies_pass_through() -> None:
    assert decode_request_body("POST", None, b"a=1", enabled=False, private_keys=KEYS) == b"a=1"
    assert decode_request_body("POST", "identity", b"a=1", enabled=False, private_keys=KEYS) == b"a=1"


def test_encrypted_body_is_decrypted_when_enabled() -> None:
    body = encrypt(b"echo=a", SERVER.public_key())
    assert decode_request_body("POST", "EWP-RSA-AES128GCM", body, enabled=True, private_keys=KEYS) == b"echo=a"


@pytest.mark.parametrize(("method", "coding", "enabled", "error"), [
    ("GET", "ewp-rsa-aes128gcm", True, EncryptedRequestWithoutBody),
    ("POST", "gzip, ewp-rsa-aes128gcm", True, MisusedContentEncoding),
    ("POST", "ewp-rsa-aes128gcm", False, UnsupportedContentEncoding),
    ("POST", "br", True, UnsupportedContentEncoding),
])
def test_misused_codings_get_their_status(method: str, coding: str, enabled: bool, error: type) -> None:
    body = encrypt(b"echo=a", SERVER.public_key())
    with pytest.raises(error) as raised:
        decode_request_body(method, coding, body, enabled=enabled, private_keys=KEYS)
    assert raised.value.status == {EncryptedRequestWithoutBody: 405, MisusedContentEncoding: 400,
                                   UnsupportedContentEncoding: 415}[error]


def test_truncated_body_is_a_400() -> None:
    body = encrypt(b"echo=a", SERVER.public_key())[:34]
    with pytest.raises(DecryptionError) as raised:
        decode_request_body("POST", "ewp-rsa-aes128gcm", body, enabled=True, private_keys=KEYS)
    assert raised.value.status == 400


def test_response_key_prefers_the_signed_accept_response_encryption_key() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    chosen = response_key("ewp-rsa-aes128gcm", public_key_b64(other), caller_key=CLIENT.public_key())
    assert fingerprint(chosen) == fingerprint(other)  # type: ignore[arg-type]
    chosen = response_key("  ewp-rsa-AES128GCM ; q=1 , *;q=0", None, caller_key=CLIENT.public_key())
    assert fingerprint(chosen) == fingerprint(CLIENT.public_key())  # type: ignore[arg-type]


@pytest.mark.parametrize("accept", [None, "gzip", "ewp-rsa-aes128gcm;q=0, identity;q=1", "invalid-coding"])
def test_no_encryption_unless_asked(accept: str | None) -> None:
    assert response_key(accept, None, caller_key=CLIENT.public_key()) is None


def test_anonymous_client_without_key_gets_406_and_bad_key_400() -> None:
    with pytest.raises(EncodingNotAcceptable):
        response_key("ewp-rsa-aes128gcm", None, caller_key=None)
    with pytest.raises(MalformedSignature) as raised:
        response_key("ewp-rsa-aes128gcm", "bm90IGEga2V5", caller_key=None)
    assert raised.value.status == 400
