"""ewp-rsa-aes128gcm: the encryption vectors, the official spec example with its broken bodies, negotiation."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ewp_node.security.errors import DecryptionError
from ewp_node.security.keys import fingerprint
from ewp_node.security.rsa_aes import accepts_coding, decrypt, encrypt, parse_accept_encoding

Loader = Callable[[str], dict[str, Any]]
CODING = "ewp-rsa-aes128gcm"


def _keyring(*keys: RSAPrivateKey) -> dict[str, RSAPrivateKey]:
    return {fingerprint(key.public_key()): key for key in keys}


@pytest.fixture(scope="module")
def spec_example(vectors_dir: Path) -> Path:
    return vectors_dir / "spec-examples"


def _read_b64(path: Path) -> bytes:
    return base64.b64decode("".join(path.read_text().split()))


@pytest.fixture(scope="module")
def spec_example_key(spec_example: Path) -> RSAPrivateKey:
    key = serialization.load_der_private_key(_read_b64(spec_example / "rsa1-private.b64"), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


@pytest.mark.parametrize(("name", "role"), [("encrypted_request.json", "server"),
                                             ("encrypted_response.json", "client")])
def test_decrypt_the_vectors(
    name: str, role: str, load_vector: Loader, client_key: RSAPrivateKey, server_key: RSAPrivateKey
) -> None:
    vector = load_vector(name)
    recipient = {"client": client_key, "server": server_key}[role]

    assert fingerprint(recipient.public_key()) == vector["recipient_key_id"]
    assert decrypt(vector["body"], _keyring(client_key, server_key)) == base64.b64decode(vector["plaintext_b64"])
    with pytest.raises(DecryptionError, match="not encrypted for any of our keys"):
        decrypt(vector["body"], _keyring(*({client_key, server_key} - {recipient})))


@pytest.mark.parametrize("name", ["encrypted_request.json", "encrypted_response.json"])
def test_encrypt_reproduces_the_vector_with_its_aes_key_and_iv(
    name: str, load_vector: Loader, client_key: RSAPrivateKey, server_key: RSAPrivateKey
) -> None:
    vector = load_vector(name)
    internals = vector["encryption_internals"]
    recipient = client_key if vector["recipient_key_id"] == fingerprint(client_key.public_key()) else server_key
    plaintext = base64.b64decode(vector["plaintext_b64"])

    body = encrypt(plaintext, recipient.public_key(), aes_key=base64.b64decode(internals["aesKey_b64"]),
                   iv=base64.b64decode(internals["iv_b64"]))

    offset = internals["encryptedPayloadOffset"]
    # RSA PKCS#1 v1.5 encryption is randomised: everything but the encrypted AES key is reproducible.
    assert body[:34] == vector["body"][:34]
    assert body[offset - 12 :] == vector["body"][offset - 12 :]
    assert body[34 : offset - 12] != vector["body"][34 : offset - 12]
    assert decrypt(body, _keyring(recipient)) == plaintext


def test_encrypt_uses_a_fresh_key_and_iv_by_default(server_key: RSAPrivateKey) -> None:
    first = encrypt(b"payload", server_key.public_key())
    second = encrypt(b"payload", server_key.public_key())

    assert first[-12 - 16 - 7 :] != second[-12 - 16 - 7 :]
    assert decrypt(first, _keyring(server_key)) == decrypt(second, _keyring(server_key)) == b"payload"


@pytest.mark.parametrize(("aes_key", "iv"), [(b"short", None), (None, b"short iv")])
def test_encrypt_refuses_wrong_key_or_iv_lengths(aes_key: bytes | None, iv: bytes | None,
                                                 server_key: RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="16-byte AES key"):
        encrypt(b"x", server_key.public_key(), aes_key=aes_key, iv=iv)


def test_the_official_spec_example_decrypts(spec_example: Path, spec_example_key: RSAPrivateKey,
                                            load_vector: Loader) -> None:
    example = load_vector("spec-examples/rsa-aes128gcm-spec-example.json")
    body = _read_b64(spec_example / example["ewpRsaAesBody_file"])

    assert fingerprint(spec_example_key.public_key()) == example["recipientPublicKeyFingerprint_hex"]
    assert decrypt(body, _keyring(spec_example_key)).decode() == example["decryptedPayload_utf8"]


@pytest.mark.parametrize(
    "file_name",
    [
        "example1-ewpRsaAesBody-broken1.b64",
        "example1-ewpRsaAesBody-broken2.b64",
        "example1-ewpRsaAesBody-appended.b64",
        "example1-ewpRsaAesBody-badrecipient.b64",
    ],
)
def test_the_official_broken_bodies_fail_uniformly(file_name: str, spec_example: Path,
                                                   spec_example_key: RSAPrivateKey,
                                                   load_vector: Loader) -> None:
    assert file_name in load_vector("spec-examples/rsa-aes128gcm-spec-example.json")["negative_files"]

    with pytest.raises(DecryptionError) as caught:
        decrypt(_read_b64(spec_example / file_name), _keyring(spec_example_key))
    assert caught.value.status == 400


def test_crypto_failures_are_indistinguishable(spec_example: Path, spec_example_key: RSAPrivateKey) -> None:
    """A corrupted RSA block (implicit rejection) and a bad GCM tag must not be told apart: no oracle."""
    messages = set()
    for file_name in ("example1-ewpRsaAesBody-broken1.b64", "example1-ewpRsaAesBody-broken2.b64"):
        with pytest.raises(DecryptionError) as caught:
            decrypt(_read_b64(spec_example / file_name), _keyring(spec_example_key))
        messages.add(str(caught.value))
    assert len(messages) == 1


@pytest.mark.parametrize("length", [0, 33, 34, 34 + 256 + 12 + 15])
def test_truncated_bodies_fail(length: int, load_vector: Loader, server_key: RSAPrivateKey) -> None:
    body = load_vector("encrypted_request.json")["body"]

    with pytest.raises(DecryptionError):
        decrypt(body[:length], _keyring(server_key))


def test_parse_accept_encoding_tolerates_spacing_case_and_junk() -> None:
    assert parse_accept_encoding("ewp-rsa-aes128gcm, gzip;q=0.5, identity;q=0.1") == {
        CODING: 1.0, "gzip": 0.5, "identity": 0.1,
    }
    assert parse_accept_encoding("  ewp-rsa-AES128GCM ; q=1 , *;q=0") == {CODING: 1.0, "*": 0.0}
    assert parse_accept_encoding("gzip;q=abc, br;Q=0.2, deflate;q=2, , ;q=1") == {"br": 0.2}
    assert parse_accept_encoding(None) == {}


@pytest.mark.parametrize(
    ("value", "coding", "expected"),
    [
        ("  ewp-rsa-AES128GCM ; q=1 , *;q=0", CODING, True),
        ("ewp-rsa-aes128gcm;q=0, identity;q=1", CODING, False),
        ("ewp-rsa-aes128gcm;q=0, identity;q=1", "identity", True),
        ("invalid-coding", CODING, False),
        ("gzip, *;q=0.1", CODING, True),
        ("*;q=0", "identity", False),
        ("gzip", "identity", True),
        (None, CODING, False),
        (None, "identity", True),
    ],
)
def test_accepts_coding(value: str | None, coding: str, expected: bool) -> None:
    assert accepts_coding(value, coding) is expected
