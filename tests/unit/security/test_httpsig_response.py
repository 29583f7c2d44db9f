"""Server authentication with HTTP signatures: signing our responses, verifying a partner's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ewp_node.security import errors
from ewp_node.security.httpsig import (
    HeaderView,
    format_http_date,
    parse_signature_params,
    sign_response,
    verify_response,
    wants_signed_response,
)
from ewp_node.security.keys import fingerprint
from ewp_node.security.rsa_aes import decrypt

Resolver = Callable[[str], RSAPublicKey]
Loader = Callable[[str], dict[str, Any]]
VARIANTS = ["variant_a", "variant_b_with_request_target"]


@pytest.fixture(scope="module")
def request_vector(load_vector: Loader) -> dict[str, Any]:
    return load_vector("request_get_signed.json")


def _verify(headers: dict[str, str], body: bytes, request: dict[str, Any], resolver: Resolver, now: datetime,
            **overrides: Any) -> bytes:
    options: dict[str, Any] = {
        "request_method": request["method"],
        "request_target": request["request_target"],
        "request_id": request["headers"]["X-Request-Id"],
        "request_signature": request["signature_b64"],
    }
    options.update(overrides)
    return verify_response(headers=HeaderView(headers.items()), body=body, now=now,
                           resolve_server_key=resolver, **options)


@pytest.mark.parametrize("variant", VARIANTS)
def test_both_response_vector_variants_verify(
    variant: str, load_vector: Loader, request_vector: dict[str, Any], resolve_server_key: Resolver,
    now: datetime,
) -> None:
    vector = load_vector("response_signed.json")

    body = _verify(vector[variant]["headers"], vector["body"], request_vector, resolve_server_key, now)

    assert body == vector["body"]
    assert body.decode() == vector["body_text"]


def test_variant_b_is_bound_to_the_request_target(
    load_vector: Loader, request_vector: dict[str, Any], resolve_server_key: Resolver, now: datetime
) -> None:
    vector = load_vector("response_signed.json")
    headers = vector["variant_b_with_request_target"]["headers"]

    with pytest.raises(errors.ResponseVerificationError) as caught:
        _verify(headers, vector["body"], request_vector, resolve_server_key, now, request_target="/ewp/echo")
    assert isinstance(caught.value.__cause__, errors.BadSignature)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    ("tamper", "cause", "check"),
    [
        (lambda h, b: (h, b + b" "), errors.DigestMismatch, "digest"),
        (lambda h, b: ({**h, "Content-Type": "text/html"}, b), errors.BadSignature, "signature"),
        (lambda h, b: ({**h, "Date": "Tue, 07 Jan 2025 12:00:02 GMT"}, b), errors.BadSignature, "signature"),
        (lambda h, b: ({**h, "Date": "Tue, 07 Jan 2025 11:00:01 GMT"}, b), errors.DateOutOfWindow, "date"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Content-Type"}, b), errors.MissingHeader,
         "signed-headers"),
        (lambda h, b: ({**h, "Signature": h["Signature"].replace("rsa-sha256", "rsa-sha1")}, b),
         errors.UnsupportedAlgorithm, "algorithm"),
    ],
)
def test_tampered_responses_fail_with_the_precise_cause(
    variant: str, tamper: Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]],
    cause: type[errors.SecurityError], check: str, load_vector: Loader, request_vector: dict[str, Any],
    resolve_server_key: Resolver, now: datetime,
) -> None:
    vector = load_vector("response_signed.json")
    headers, body = tamper(vector[variant]["headers"], vector["body"])

    with pytest.raises(errors.ResponseVerificationError) as caught:
        _verify(headers, body, request_vector, resolve_server_key, now)
    assert isinstance(caught.value.__cause__, cause)
    assert caught.value.check == check


@pytest.mark.parametrize(
    ("overrides", "header_changes", "error"),
    [
        ({"request_id": "00000000-1111-4222-8333-444444444444"}, {}, errors.RequestIdMismatch),
        ({"request_id": None}, {}, errors.RequestIdMismatch),
        ({}, {"X-Request-Id": None}, errors.RequestIdMismatch),
        ({"request_signature": "AAAA"}, {}, errors.RequestSignatureMismatch),
        ({"request_signature": None}, {}, errors.RequestSignatureMismatch),
        ({}, {"Signature": None}, errors.ResponseNotSigned),
    ],
)
def test_echo_and_presence_checks(
    overrides: dict[str, Any], header_changes: dict[str, str | None], error: type[errors.SecurityError],
    load_vector: Loader, request_vector: dict[str, Any], resolve_server_key: Resolver, now: datetime,
) -> None:
    vector = load_vector("response_signed.json")
    headers = {k: v for k, v in vector["variant_a"]["headers"].items() if header_changes.get(k, v) is not None}

    with pytest.raises(error):
        _verify(headers, vector["body"], request_vector, resolve_server_key, now, **overrides)


def test_a_response_signed_by_a_key_not_serving_this_host_is_refused(
    load_vector: Loader, request_vector: dict[str, Any], now: datetime
) -> None:
    vector = load_vector("response_signed.json")

    def only_other_keys(key_id: str) -> RSAPublicKey:
        raise errors.UntrustedServerKey(f"key {key_id} is not a server key of this host")

    with pytest.raises(errors.UntrustedServerKey):
        _verify(vector["variant_a"]["headers"], vector["body"], request_vector, only_other_keys, now)


def test_the_encrypted_response_vector_verifies_and_decrypts(
    load_vector: Loader, client_key: RSAPrivateKey, resolve_server_key: Resolver, now: datetime
) -> None:
    request = load_vector("encrypted_request.json")
    vector = load_vector("encrypted_response.json")

    body = _verify(vector["headers"], vector["body"], request, resolve_server_key, now)

    assert decrypt(body, {fingerprint(client_key.public_key()): client_key}).decode() == (
        load_vector("response_signed.json")["body_text"]
    )


def _signed_response(server_key: RSAPrivateKey, now: datetime, headers: dict[str, str], body: bytes,
                     request_id: str | None, request_signature: str | None) -> dict[str, str]:
    added = sign_response(headers=headers, body=body, private_key=server_key,
                          key_id=fingerprint(server_key.public_key()), now=now - timedelta(seconds=1),
                          request_id=request_id, request_signature=request_signature)
    return {**headers, **added}


def test_sign_response_adds_original_date_and_signs_what_the_client_must_trust(
    server_key: RSAPrivateKey, request_vector: dict[str, Any], resolve_server_key: Resolver, now: datetime
) -> None:
    body = b"<response/>"
    given = {"Content-Type": "application/xml;charset=utf-8", "Content-Encoding": "gzip", "Vary": "Accept"}

    sent = _signed_response(server_key, now, given, body, request_vector["headers"]["X-Request-Id"],
                            request_vector["signature_b64"])

    assert set(sent) - set(given) == {"Original-Date", "Digest", "X-Request-Id", "X-Request-Signature",
                                      "Signature"}
    assert not sent["Signature"].startswith("Signature ")
    assert parse_signature_params(sent["Signature"]).headers == (
        "original-date", "digest", "x-request-id", "x-request-signature", "content-type", "content-encoding",
    )
    sent["Date"] = format_http_date(now)  # added later by the WSGI server, unsigned
    assert _verify(sent, body, request_vector, resolve_server_key, now) == body


def test_sign_response_to_an_anonymous_request_without_request_id(
    server_key: RSAPrivateKey, request_vector: dict[str, Any], resolve_server_key: Resolver, now: datetime
) -> None:
    sent = _signed_response(server_key, now, {}, b"", None, None)

    assert parse_signature_params(sent["Signature"]).headers == ("original-date", "digest")
    assert _verify(sent, b"", request_vector, resolve_server_key, now, request_id=None,
                   request_signature=None) == b""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rsa-sha256", True),
        ("RSA-SHA256", True),
        ("rsa-sha256, unknown-algorithm", True),
        ("unknown-algorithm ,  rsa-sha256", True),
        ("unknown-algorithm", False),
        ("rsa-sha2566", False),
        ("", False),
        (None, False),
    ],
)
def test_wants_signed_response(value: str | None, expected: bool) -> None:
    assert wants_signed_response(value) is expected
