"""A self-signed certificate for the node's server key, for the ``KeyInfo`` of the ELMO signatures.

Partners never trust this certificate by itself: they pin its key against the server keys our manifest
publishes in the registry (SECURITY.md section f). It only carries the key in the form EMREX tools expect.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.x509.oid import NameOID

#: How long the certificate is valid; verifiers pin the key, so the dates are informative only.
VALIDITY = timedelta(days=3650)


def self_signed_certificate(key: RSAPrivateKey, common_name: str, now: datetime) -> x509.Certificate:
    """A certificate for ``key``, subject and issuer ``CN=common_name``, valid from one day before ``now``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
