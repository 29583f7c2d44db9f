"""The ``ewp-rsa-aes128gcm`` content coding, and ``Accept-Encoding`` negotiation.

Spec: ewp-specs-sec-rsa-aes128gcm v1.0.1, -reqencr-rsa-aes128gcm v0.4.0, -resencr-rsa-aes128gcm v0.3.0;
summary in ewp-specs/SECURITY.md c.1-c.3. Body layout: recipient SPKI SHA-256 (32 bytes), encrypted AES key
length N (2 bytes, big-endian), RSAES-PKCS1-v1_5 encrypted AES-128 key (N bytes), GCM IV (12 bytes),
AES-128-GCM ciphertext with its 16-byte tag (no AAD).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ewp_node.security.errors import DecryptionError
from ewp_node.security.keys import fingerprint

CODING = "ewp-rsa-aes128gcm"
_FINGERPRINT_BYTES = 32
_LENGTH_BYTES = 2
_AES_KEY_BYTES = 16
_IV_BYTES = 12
_TAG_BYTES = 16


def encrypt(payload: bytes, recipient: RSAPublicKey, *, aes_key: bytes | None = None,
            iv: bytes | None = None) -> bytes:
    """Encode ``payload`` for ``recipient``.

    :param aes_key: a 16-byte key to reuse for this recipient (never across recipients); random if None.
    :param iv: a 12-byte IV, fresh for every message; random if None. Pass one only in tests.
    :raises ValueError: for a key or IV of the wrong length.
    """
    aes_key = os.urandom(_AES_KEY_BYTES) if aes_key is None else aes_key
    iv = os.urandom(_IV_BYTES) if iv is None else iv
    if len(aes_key) != _AES_KEY_BYTES or len(iv) != _IV_BYTES:
        raise ValueError(f"{CODING} needs a {_AES_KEY_BYTES}-byte AES key and a {_IV_BYTES}-byte IV")
    encrypted_key = recipient.encrypt(aes_key, padding.PKCS1v15())
    return b"".join([
        bytes.fromhex(fingerprint(recipient)),
        len(encrypted_key).to_bytes(_LENGTH_BYTES, "big"),
        encrypted_key,
        iv,
        AESGCM(aes_key).encrypt(iv, payload, None),
    ])


def decrypt(body: bytes, private_keys: Mapping[str, RSAPrivateKey]) -> bytes:
    """Decode an ``ewp-rsa-aes128gcm`` body.

    Every cryptographic failure gives the same message: with RSA implicit rejection a corrupted key block
    decrypts to random bytes, and telling "bad key length" from "bad tag" apart would be a padding oracle.

    :param private_keys: our private keys by lower-case hex fingerprint.
    :raises DecryptionError: for an unknown recipient, a truncated or a corrupted body.
    """
    key_offset = _FINGERPRINT_BYTES + _LENGTH_BYTES
    if len(body) < key_offset:
        raise DecryptionError(f"{CODING} body truncated ({len(body)} bytes)")
    private_key = private_keys.get(body[:_FINGERPRINT_BYTES].hex())
    if private_key is None:
        raise DecryptionError(f"{CODING} body is not encrypted for any of our keys")
    iv_offset = key_offset + int.from_bytes(body[_FINGERPRINT_BYTES:key_offset], "big")
    payload_offset = iv_offset + _IV_BYTES
    if len(body) < payload_offset + _TAG_BYTES:
        raise DecryptionError(f"{CODING} body truncated ({len(body)} bytes)")
    try:
        aes_key = private_key.decrypt(body[key_offset:iv_offset], padding.PKCS1v15())
        if len(aes_key) != _AES_KEY_BYTES:
            raise ValueError
        return AESGCM(aes_key).decrypt(body[iv_offset:payload_offset], body[payload_offset:], None)
    except (ValueError, InvalidTag):
        raise DecryptionError(f"{CODING} body cannot be decrypted (corrupted or tampered)") from None


def parse_accept_encoding(value: str | None) -> dict[str, float]:
    """Parse ``Accept-Encoding`` (RFC 7231 5.3.4) tolerantly into ``{coding: q}``.

    Codings are lower-cased; spaces are ignored; an entry with an unreadable or out-of-range ``q`` is
    skipped; when a coding repeats, the last entry wins.
    """
    preferences: dict[str, float] = {}
    for entry in (value or "").split(","):
        coding, *parameters = (part.strip() for part in entry.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, number = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(number.strip())
                except ValueError:
                    quality = -1.0
        if coding and 0.0 <= quality <= 1.0:
            preferences[coding.lower()] = quality
    return preferences


def accepts_coding(value: str | None, coding: str) -> bool:
    """Whether an ``Accept-Encoding`` value allows ``coding`` (q > 0, directly or through ``*``).

    ``identity`` is acceptable unless excluded. An absent header counts as empty: EWP encrypts only when
    asked, although RFC 7231 would allow any coding then.
    """
    preferences = parse_accept_encoding(value)
    coding = coding.lower()
    if coding in preferences:
        return preferences[coding] > 0
    if "*" in preferences:
        return preferences["*"] > 0
    return coding == "identity"
