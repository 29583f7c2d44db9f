"""Digest: SHA-256 over the body, case-insensitive algorithm names, several values, only SHA-1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ewp_node.security.digest import digest_header, verify_digest
from ewp_node.security.errors import DigestMismatch, DigestMissing, DigestUnsupported, SecurityError

EMPTY_BODY_DIGEST = "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
EMPTY_SHA256 = EMPTY_BODY_DIGEST.partition("=")[2]


def test_digest_header_of_empty_body_is_the_known_constant() -> None:
    assert digest_header(b"") == EMPTY_BODY_DIGEST


def test_digest_header_matches_the_post_vector(load_vector: Callable[[str], dict[str, Any]]) -> None:
    vector = load_vector("request_post_signed.json")
    assert digest_header(vector["body_text"].encode()) == vector["headers"]["Digest"]


@pytest.mark.parametrize(
    "value",
    [
        EMPTY_BODY_DIGEST,
        f"shA-256={EMPTY_SHA256}",
        f"  sha-256 = {EMPTY_SHA256} ",
        f"MD5=1B2M2Y8AsgTpgAmY7PhCfg==, SHA-256={EMPTY_SHA256}",
        f"SHA-256={EMPTY_SHA256}, Unknown-Digest-Algorithm=SomeValue",
    ],
)
def test_verify_digest_accepts(value: str) -> None:
    verify_digest(value, b"")


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (None, DigestMissing),
        ("", DigestMissing),
        ("SHA=2jmj7l5rSw0yVb/vlWAYkK/YBwk=", DigestUnsupported),
        ("MD5=1B2M2Y8AsgTpgAmY7PhCfg==", DigestUnsupported),
        ("garbage", DigestUnsupported),
        ("SHA-256=9B8/piX/Eg3cp+9Fa/ZjcezqI8Ep9OTDI2cQHttRbPg=", DigestMismatch),
        (f"SHA-256={EMPTY_SHA256}, SHA-256=9B8/piX/Eg3cp+9Fa/ZjcezqI8Ep9OTDI2cQHttRbPg=", DigestMismatch),
    ],
)
def test_verify_digest_rejects_with_400(value: str | None, error: type[SecurityError]) -> None:
    with pytest.raises(error) as caught:
        verify_digest(value, b"")
    assert caught.value.status == 400
    assert caught.value.check == "digest"


def test_verify_digest_covers_the_exact_bytes() -> None:
    body = b"echo=a&echo=b&echo=a"
    verify_digest(digest_header(body), body)
    with pytest.raises(DigestMismatch):
        verify_digest(digest_header(body), body + b"\n")
