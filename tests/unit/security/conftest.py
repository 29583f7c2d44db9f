"""Vectors and keys for the security tests (read from ../shared/ewp-specs/vectors, never copied)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ewp_node.security.errors import NotAClientKey, UnknownKey, UntrustedServerKey
from ewp_node.security.keys import fingerprint, load_private_key_pem


@pytest.fixture(scope="session")
def load_vector(vectors_dir: Path) -> Callable[[str], dict[str, Any]]:
    """``load_vector(name)``: the parsed JSON vector, plus ``body`` decoded from ``body_b64``."""

    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((vectors_dir / name).read_text(encoding="utf-8"))
        if "body_b64" in data:
            data["body"] = base64.b64decode(data["body_b64"])
        return data

    return load


@pytest.fixture(scope="session")
def client_key(vectors_dir: Path) -> RSAPrivateKey:
    return load_private_key_pem((vectors_dir / "client_private.pem").read_bytes())


@pytest.fixture(scope="session")
def server_key(vectors_dir: Path) -> RSAPrivateKey:
    return load_private_key_pem((vectors_dir / "server_private.pem").read_bytes())


@pytest.fixture(scope="session")
def resolve_client_key(client_key: RSAPrivateKey, server_key: RSAPrivateKey) -> Callable[[str], RSAPublicKey]:
    """The catalogue the negative vectors assume: only the client key is a client credential."""

    def resolve(key_id: str) -> RSAPublicKey:
        if key_id == fingerprint(client_key.public_key()):
            return client_key.public_key()
        if key_id == fingerprint(server_key.public_key()):
            raise NotAClientKey(f"key {key_id} is not listed as a client credential")
        raise UnknownKey(f"key {key_id} is not in the Registry catalogue")

    return resolve


@pytest.fixture(scope="session")
def resolve_server_key(server_key: RSAPrivateKey) -> Callable[[str], RSAPublicKey]:
    """Only the server key is a server credential of the host serving the endpoint."""

    def resolve(key_id: str) -> RSAPublicKey:
        if key_id == fingerprint(server_key.public_key()):
            return server_key.public_key()
        raise UntrustedServerKey(f"key {key_id} is not a server key of this host")

    return resolve
