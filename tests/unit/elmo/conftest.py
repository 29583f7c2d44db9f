"""Keys, certificates and vector files for the ELMO tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VERSIONS = {"1.7": "v1_7", "2.1.1": "v2_1_1"}


@dataclass(frozen=True)
class Signer:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def vector_signer(vectors_dir: Path) -> Signer:
    """The vectors' signer: ``server_private.pem`` with ``elmo_signer_cert.pem``."""
    key = serialization.load_pem_private_key((vectors_dir / "server_private.pem").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return Signer(key, x509.load_pem_x509_certificate((vectors_dir / "elmo_signer_cert.pem").read_bytes()))


@pytest.fixture(scope="session")
def other_signer() -> Signer:
    """A fresh key and self-signed certificate that nobody trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intruder.example")])
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return Signer(key, certificate)


@pytest.fixture(params=sorted(VERSIONS), scope="session")
def elmo_version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def vector(vectors_dir: Path):  # type: ignore[no-untyped-def]
    """``vector(version, kind)`` -> bytes of ``elmo-<v>-tor.<kind>.xml``."""

    def read(version: str, kind: str) -> bytes:
        return (vectors_dir / f"elmo-{VERSIONS[version]}-tor.{kind}.xml").read_bytes()

    return read
