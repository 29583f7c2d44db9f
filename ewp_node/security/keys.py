"""RSA keys: loading, generating, and the SPKI fingerprint EWP uses as keyId.

Spec: ewp-specs-sec-cliauth-httpsig v1.0.1 (keyId), ewp-specs-api-registry v1 (``<rsa-public-key>`` binaries);
summary in ewp-specs/SECURITY.md section 0 and e.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey


class KeyFileError(ValueError):
    """A private key file of ours is not a usable RSA key (the message names the file)."""


#: The Registry ignores client and server keys under 2048 bits; lowering this only produces unusable keys.
MIN_RSA_BITS = 2048


def _spki_der(public_key: RSAPublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(public_key: RSAPublicKey) -> str:
    """The keyId: lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki_der(public_key)).hexdigest()


def public_key_b64(public_key: RSAPublicKey) -> str:
    """Base64 of the DER SubjectPublicKeyInfo, as written in ``<rsa-public-key>`` of a manifest."""
    return base64.b64encode(_spki_der(public_key)).decode("ascii")


def _require_rsa_public(key: object) -> RSAPublicKey:
    if isinstance(key, RSAPublicKey):
        return key
    raise ValueError(f"not an RSA public key ({type(key).__name__}): EWP uses RSA keys only")


def _require_rsa_private(key: object) -> RSAPrivateKey:
    if isinstance(key, RSAPrivateKey):
        return key
    raise ValueError(f"not an RSA private key ({type(key).__name__}): EWP uses RSA keys only")


def load_public_key_b64(text: str) -> RSAPublicKey:
    """Load a base64 DER SubjectPublicKeyInfo (whitespace and line breaks allowed, as in the catalogue).

    :raises ValueError: if the text is not base64 of an RSA public key.
    """
    try:
        der = base64.b64decode("".join(text.split()), validate=True)
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("not a base64 DER SubjectPublicKeyInfo of a public key") from None
    return _require_rsa_public(key)


def load_public_key_pem(data: bytes) -> RSAPublicKey:
    """Load a PEM ``PUBLIC KEY`` (SPKI).

    :raises ValueError: if the data is not a PEM RSA public key.
    """
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("not a PEM public key") from None
    return _require_rsa_public(key)


def load_private_key_pem(data: bytes) -> RSAPrivateKey:
    """Load an unencrypted PEM private key (PKCS#8 or PKCS#1).

    :raises ValueError: if the data is not an unencrypted PEM RSA private key.
    """
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("not an unencrypted PEM private key") from None
    return _require_rsa_private(key)


def _refuse_weak_bits(bits: int) -> None:
    if bits < MIN_RSA_BITS:
        raise ValueError(
            f"{bits}-bit RSA keys are ignored by the EWP Registry; use {MIN_RSA_BITS} bits or more "
            f"(3072 for a long-lived key)"
        )


def generate_private_key_file(path: Path, bits: int = MIN_RSA_BITS) -> RSAPrivateKey:
    """Generate an RSA key and write it as PKCS#8 PEM, readable by the owner only (mode 0600).

    :param path: the file to create; it must not exist yet.
    :param bits: key size, at least :data:`MIN_RSA_BITS`.
    :raises ValueError: if ``bits`` is too small.
    :raises FileExistsError: if ``path`` exists (a private key is never overwritten).
    """
    _refuse_weak_bits(bits)
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FileExistsError(f"{path} already exists; refusing to overwrite a private key") from None
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    return key


def load_private_key_file(path: Path) -> RSAPrivateKey:
    """Load our own private key from an unencrypted PEM file.

    :raises KeyFileError: if the file is not an RSA private key of at least :data:`MIN_RSA_BITS` bits.
    :raises OSError: if the file cannot be read.
    """
    try:
        key = load_private_key_pem(path.read_bytes())
        _refuse_weak_bits(key.key_size)
    except ValueError as exc:
        raise KeyFileError(f"{path}: {exc}") from None
    return key
