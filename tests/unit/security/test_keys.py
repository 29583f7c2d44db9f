"""Keys: fingerprints against keys.json, base64 SPKI, key files and their refusals."""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ewp_node.security.keys import (
    MIN_RSA_BITS,
    fingerprint,
    generate_private_key_file,
    load_private_key_file,
    load_private_key_pem,
    load_public_key_b64,
    load_public_key_pem,
    public_key_b64,
)


@pytest.mark.parametrize("role", ["client", "server"])
def test_fingerprint_and_spki_match_keys_json(
    role: str, vectors_dir: Path, load_vector: Callable[[str], dict[str, Any]]
) -> None:
    expected = load_vector("keys.json")[role]
    public = load_public_key_pem((vectors_dir / expected["public_key_file"]).read_bytes())
    private = load_private_key_pem((vectors_dir / expected["private_key_file"]).read_bytes())

    assert fingerprint(public) == expected["keyId_sha256_hex"]
    assert fingerprint(private.public_key()) == expected["keyId_sha256_hex"]
    assert public_key_b64(public) == expected["spki_der_b64"]
    assert private.key_size == expected["bits"]


def test_load_public_key_b64_accepts_line_wrapped_catalogue_text(
    load_vector: Callable[[str], dict[str, Any]],
) -> None:
    expected = load_vector("keys.json")["client"]
    text = expected["spki_der_b64"]
    wrapped = "\n    ".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"

    assert fingerprint(load_public_key_b64(wrapped)) == expected["keyId_sha256_hex"]


def test_load_public_key_b64_refuses_garbage_and_non_rsa_keys() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    ec_b64 = base64.b64encode(
        ec_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()

    with pytest.raises(ValueError, match="base64 DER"):
        load_public_key_b64("not base64 at all!")
    with pytest.raises(ValueError, match="base64 DER"):
        load_public_key_b64(base64.b64encode(b"not DER").decode())
    with pytest.raises(ValueError, match="not an RSA public key"):
        load_public_key_b64(ec_b64)


def test_generate_private_key_file_writes_owner_only_pkcs8_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "server.pem"

    key = generate_private_key_file(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert key.key_size == MIN_RSA_BITS
    assert fingerprint(load_private_key_file(path).public_key()) == fingerprint(key.public_key())
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_private_key_file(path)
    assert path.read_bytes() == before


def test_generate_private_key_file_refuses_weak_keys_and_says_what_to_use(tmp_path: Path) -> None:
    path = tmp_path / "weak.pem"

    with pytest.raises(ValueError, match="use 2048 bits or more"):
        generate_private_key_file(path, bits=1024)
    assert not path.exists()


def _write_pem(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def test_load_private_key_file_refuses_weak_and_non_rsa_keys(tmp_path: Path) -> None:
    weak = _write_pem(tmp_path / "weak.pem", rsa.generate_private_key(public_exponent=65537, key_size=1024))
    elliptic = _write_pem(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP256R1()))

    with pytest.raises(ValueError, match=r"weak\.pem: 1024-bit RSA keys .* use 2048 bits"):
        load_private_key_file(weak)
    with pytest.raises(ValueError, match="not an RSA private key"):
        load_private_key_file(elliptic)


def test_load_private_key_pem_refuses_garbage_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="not an unencrypted PEM private key") as caught:
        load_private_key_pem(b"-----BEGIN PRIVATE KEY-----\nsecret-ish\n-----END PRIVATE KEY-----\n")
    assert "secret-ish" not in str(caught.value)
