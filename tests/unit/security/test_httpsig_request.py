"""Client authentication with HTTP signatures: the request vectors, the negative catalogue, edge cases."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from ewp_node.security import errors
from ewp_node.security.errors import SecurityError
from ewp_node.security.httpsig import (
    CLOCK_SKEW,
    HeaderView,
    SignatureParams,
    format_http_date,
    parse_http_date,
    parse_signature_params,
    sign_request,
    signing_string,
    verify_request,
)
from ewp_node.security.keys import fingerprint

HOST = "ewp.example-university.eu"
TARGET = "/ewp/echo?echo=a&echo=b%20c"
SIGNER_SET = ("Date", "X-Request-Id", "Digest", "Authorization")

Resolver = Callable[[str], RSAPublicKey]
Loader = Callable[[str], dict[str, Any]]


def test_the_now_fixture_is_the_vectors_verification_time(now: datetime, load_vector: Loader) -> None:
    vector = load_vector("request_get_signed.json")
    assert now.timestamp() == vector["verification_time_unix"]
    assert format_http_date(now) == vector["verification_time_http"]


# -- dates ------------------------------------------------------------------------------------------------


def test_http_date_round_trip() -> None:
    moment = datetime(2025, 1, 7, 12, 0, tzinfo=UTC)
    assert format_http_date(moment) == "Tue, 07 Jan 2025 12:00:00 GMT"
    assert parse_http_date("Tue, 07 Jan 2025 12:00:00 GMT") == moment
    assert format_http_date(moment.astimezone(timezone(timedelta(hours=1)))) == "Tue, 07 Jan 2025 12:00:00 GMT"


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 07 Jan 2025 12:00:00 GMT",  # wrong weekday
        "Tue, 07 Jan 2025 12:00:00 UTC",
        "Tue, 07 Jan 2025 12:00:00 +0000",
        "2025-01-07T12:00:00Z",
        "Tue, 7 Jan 2025 12:00:00 GMT",
        "Tue, 07 Jan 2025 25:00:00 GMT",
        "Tue, 32 Jan 2025 12:00:00 GMT",
        "Tue, ٠٧ Jan 2025 12:00:00 GMT",  # non-ASCII digits
        "",
    ],
)
def test_parse_http_date_is_strict(value: str) -> None:
    with pytest.raises(ValueError):
        parse_http_date(value)


def test_format_http_date_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_http_date(datetime(2025, 1, 7, 12, 0))


# -- headers and parameters -------------------------------------------------------------------------------


def test_header_view_is_case_insensitive_and_joins_repeated_headers_in_wire_order() -> None:
    wire = Headers([("Accept", " text/xml "), ("Host", HOST), ("accept", "application/xml")])
    view = HeaderView(wire.items())

    assert view.get("ACCEPT") == "text/xml, application/xml"
    assert view.get("host") == HOST
    assert "HOST" in view
    assert "digest" not in view
    assert view.get("digest") is None
    assert HeaderView({"X-Request-Id": "abc"}.items()).get("x-request-id") == "abc"


@pytest.mark.parametrize("moment", [
    datetime(2025, 1, 7, 12, 0, tzinfo=UTC),
    datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC),
    datetime(999, 12, 31, 1, 2, 3, tzinfo=UTC),
])
def test_format_http_date_matches_the_email_package(moment: datetime) -> None:
    assert format_http_date(moment) == format_datetime(moment, usegmt=True)


def test_header_view_from_a_wsgi_environ_reads_what_werkzeug_reads() -> None:
    environ = EnvironBuilder(path="/ewp/echo", method="POST", data=b"echo=a",
                             content_type="application/x-www-form-urlencoded",
                             headers=[("X-Request-Id", " abc "), ("Accept-Signature", "rsa-sha256")]).get_environ()
    environ["HTTP_CONTENT_TYPE"] = "text/plain"  # a duplicate the WSGI server leaves behind: CONTENT_TYPE wins
    view = HeaderView.from_wsgi_environ(environ)

    assert view._values == HeaderView(Request(environ).headers.items())._values
    assert view.get("X-Request-Id") == "abc"
    assert view.get("content-type") == "application/x-www-form-urlencoded"
    assert view.get("content-length") == "6"


def test_parse_and_format_signature_params_round_trip(load_vector: Loader) -> None:
    vector = load_vector("request_get_signed.json")
    authorization = vector["headers"]["Authorization"]

    params = parse_signature_params(authorization)

    assert params == SignatureParams(
        key_id=vector["expected_key_id"],
        algorithm="rsa-sha256",
        headers=tuple(vector["signed_headers"]),
        signature=vector["signature_b64"],
    )
    assert "Signature " + params.format() == authorization
    assert parse_signature_params(params.format()) == params
    assert parse_signature_params("signature " + params.format()) == params


def test_parse_signature_params_is_lenient_with_spacing_case_escapes_and_tokens() -> None:
    params = parse_signature_params(
        'SIGNATURE  KEYID = "a\\"b" , algorithm=rsa-sha256,created=1,headers="Date  Digest",signature="AA=="'
    )
    assert params == SignatureParams("a\"b", "rsa-sha256", ("date", "digest"), "AA==")
    assert parse_signature_params('keyId="k",algorithm="rsa-sha256",signature="AA=="').headers == ("date",)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Signature",
        "keyId",
        'keyId="k"',
        ",,,",
        'keyId="k",algorithm="rsa-sha256",signature="!!not base64!!"',
        'keyId="k",keyId="j",algorithm="rsa-sha256",signature="AA=="',
        'keyId="unterminated,algorithm="rsa-sha256",signature="AA==',
        'keyId="k" algorithm="rsa-sha256" signature="AA=="',
        "a=" * 2000,
        '"keyId"="k"',
    ],
)
def test_parse_signature_params_rejects_garbage(value: str) -> None:
    with pytest.raises(errors.MalformedSignature):
        parse_signature_params(value)


def test_signing_string_needs_every_listed_header_and_the_request_target() -> None:
    view = HeaderView({"Host": HOST}.items())

    assert signing_string(["(request-target)", "host"], view, f"get {TARGET}") == (
        f"(request-target): get {TARGET}\nhost: {HOST}"
    )
    with pytest.raises(errors.MissingHeader, match="digest"):
        signing_string(["host", "digest"], view, None)
    with pytest.raises(errors.MissingHeader, match="request-target"):
        signing_string(["(request-target)"], view, None)


# -- the signed vectors -----------------------------------------------------------------------------------


def _given_headers(vector: dict[str, Any]) -> dict[str, str]:
    return {name: value for name, value in vector["headers"].items() if name not in SIGNER_SET}


@pytest.mark.parametrize("name", ["request_get_signed.json", "request_post_signed.json"])
def test_sign_request_reproduces_the_vector_byte_for_byte(
    name: str, load_vector: Loader, client_key: RSAPrivateKey
) -> None:
    vector = load_vector(name)
    headers = vector["headers"]

    sent = sign_request(
        method=vector["method"],
        target=vector["request_target"],
        headers=_given_headers(vector),
        body=vector["body"],
        private_key=client_key,
        key_id=fingerprint(client_key.public_key()),
        now=parse_http_date(headers["Date"]),
        request_id=headers["X-Request-Id"],
    )

    assert list(sent.items()) == list(headers.items())
    view = HeaderView(sent.items())
    target = f"{vector['method'].lower()} {vector['request_target']}"
    assert signing_string(vector["signed_headers"], view, target) == vector["signing_string"]


@pytest.mark.parametrize("name", ["request_get_signed.json", "request_post_signed.json"])
def test_verify_request_accepts_the_vector(
    name: str, load_vector: Loader, resolve_client_key: Resolver, now: datetime
) -> None:
    vector = load_vector(name)

    verified = verify_request(
        method=vector["method"],
        target=vector["request_target"],
        headers=HeaderView(vector["headers"].items()),
        body=vector["body"],
        now=now,
        expected_host=vector["server_host"],
        resolve_client_key=resolve_client_key,
    )

    assert verified.key_id == vector["expected_key_id"]
    assert verified.signed_headers == frozenset(vector["signed_headers"])
    assert verified.signature == vector["signature_b64"]
    assert verified.request_id == vector["headers"]["X-Request-Id"]


EXPECTED_ERROR = {
    "no_authorization": errors.MissingSignature,
    "tampered_after_signing": errors.BadSignature,
    "digest_mismatch": errors.DigestMismatch,
    "unknown_key": errors.UnknownKey,
    "server_key_used_as_client_key": errors.NotAClientKey,
    "x_request_id_not_signed": errors.UnsignedHeader,
    "date_skew_20_minutes": errors.DateOutOfWindow,
    "x_request_id_not_canonical": errors.BadRequestId,
    "only_sha1_digest": errors.DigestUnsupported,
}
ACCEPTED = {"original_date_instead_of_date", "sha256_token_mixed_case", "multiple_digests"}


def test_the_negative_catalogue_is_fully_covered(load_vector: Loader) -> None:
    names = {case["name"] for case in load_vector("request_negative_cases.json")["cases"]}
    assert names == set(EXPECTED_ERROR) | ACCEPTED
    assert len(names) == 12


@pytest.mark.parametrize("case_name", sorted(set(EXPECTED_ERROR) | ACCEPTED))
def test_negative_catalogue_case_gets_the_expected_status(
    case_name: str, load_vector: Loader, resolve_client_key: Resolver, now: datetime
) -> None:
    vector = load_vector("request_negative_cases.json")
    case = next(case for case in vector["cases"] if case["name"] == case_name)

    def verify() -> None:
        verify_request(
            method=vector["method"],
            target=vector["request_target"],
            headers=HeaderView(case["headers"].items()),
            body=vector["body"],
            now=now,
            expected_host=vector["server_host"],
            resolve_client_key=resolve_client_key,
        )

    if case_name in ACCEPTED:
        assert case["expected_status"] == [200]
        verify()
        return
    with pytest.raises(EXPECTED_ERROR[case_name]) as caught:
        verify()
    assert caught.value.status in case["expected_status"]
    assert "BEGIN" not in str(caught.value)
    assert case["headers"].get("Authorization", "x")[-40:] not in str(caught.value)


# -- edge cases on a freshly signed GET -------------------------------------------------------------------


def _sign_get(client_key: RSAPrivateKey, now: datetime, **options: Any) -> dict[str, str]:
    extra = options.pop("headers", {})
    return sign_request(
        method="GET",
        target=TARGET,
        headers={"Host": HOST, "Accept-Signature": "rsa-sha256", **extra},
        body=b"",
        private_key=client_key,
        key_id=fingerprint(client_key.public_key()),
        now=now - timedelta(seconds=30),
        **options,
    )


def _resign(headers: dict[str, str], names: list[str], key: RSAPrivateKey, key_id: str) -> dict[str, str]:
    """Replace the Authorization of ``headers`` with one over ``names`` (in that order), signed by ``key``."""
    unsigned = {name: value for name, value in headers.items() if name != "Authorization"}
    text = signing_string(names, HeaderView(unsigned.items()), f"get {TARGET}")
    signature = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    params = SignatureParams(key_id, "rsa-sha256", tuple(names), signature)
    return {**unsigned, "Authorization": "Signature " + params.format()}


def _verify(headers: dict[str, str], resolver: Resolver, now: datetime, **options: Any) -> Any:
    options.setdefault("expected_host", HOST)
    return verify_request(
        method="GET", target=TARGET, headers=HeaderView(headers.items()), body=b"", now=now,
        resolve_client_key=resolver, **options,
    )


def test_sign_request_output_verifies_with_a_fresh_uuid4(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    first, second = _sign_get(client_key, now), _sign_get(client_key, now)

    verified = _verify(first, resolve_client_key, now)

    assert verified.request_id == first["X-Request-Id"] != second["X-Request-Id"]
    assert first["X-Request-Id"][14] == "4"  # version 4
    assert verified.signed_headers == {
        "(request-target)", "host", "date", "digest", "x-request-id", "accept-signature",
    }


def test_headers_signed_in_a_different_order_are_accepted(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    names = ["x-request-id", "accept-signature", "digest", "date", "host", "(request-target)"]
    headers = _resign(_sign_get(client_key, now), names, client_key, fingerprint(client_key.public_key()))

    assert _verify(headers, resolve_client_key, now).signed_headers == set(names)


def test_an_extra_signed_header_is_accepted(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now, headers={"Some-Custom-Header": "Some value"})

    assert "some-custom-header" in _verify(headers, resolve_client_key, now).signed_headers


def test_original_date_only_is_accepted(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now, use_original_date=True)

    assert "Date" not in headers
    assert "original-date" in _verify(headers, resolve_client_key, now).signed_headers


@pytest.mark.parametrize("signed", [True, False])
def test_a_20_minute_old_original_date_is_refused_even_beside_a_fresh_date(
    signed: bool, client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)
    headers["Original-Date"] = format_http_date(now - timedelta(minutes=20))
    names = parse_signature_params(headers["Authorization"]).headers + (("original-date",) if signed else ())
    headers = _resign(headers, list(names), client_key, fingerprint(client_key.public_key()))

    with pytest.raises(errors.DateOutOfWindow, match="original-date"):
        _verify(headers, resolve_client_key, now)


def test_the_clock_window_is_five_minutes_both_ways(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)  # dated now - 30 s
    _verify(headers, resolve_client_key, now - timedelta(seconds=30) + CLOCK_SKEW)
    _verify(headers, resolve_client_key, now - timedelta(seconds=30) - CLOCK_SKEW)
    with pytest.raises(errors.DateOutOfWindow):
        _verify(headers, resolve_client_key, now + CLOCK_SKEW)


def test_an_unparseable_date_is_refused(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)
    headers["Date"] = "2025-01-07T12:00:00Z"
    with pytest.raises(errors.MalformedDate):
        _verify(_resign(headers, list(parse_signature_params(headers["Authorization"]).headers), client_key,
                        fingerprint(client_key.public_key())), resolve_client_key, now)


def test_an_upper_case_request_id_is_refused(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    with pytest.raises(ValueError, match="canonical"):
        _sign_get(client_key, now, request_id="3F2B1C9E-8D7A-4B6C-9E5F-1A2B3C4D5E6F")
    headers = _sign_get(client_key, now)
    headers["X-Request-Id"] = headers["X-Request-Id"].upper()
    headers = _resign(headers, list(parse_signature_params(headers["Authorization"]).headers), client_key,
                      fingerprint(client_key.public_key()))

    with pytest.raises(errors.BadRequestId):
        _verify(headers, resolve_client_key, now)


def test_a_replayed_request_is_refused_once_verified(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    seen: set[str] = set()
    headers = _sign_get(client_key, now)

    def is_replay(request_id: str) -> bool:
        known = request_id in seen
        seen.add(request_id)
        return known

    _verify(headers, resolve_client_key, now, is_replay=is_replay)
    with pytest.raises(errors.ReplayedRequest):
        _verify(headers, resolve_client_key, now, is_replay=is_replay)


def test_a_request_that_fails_verification_is_not_remembered(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    asked: list[str] = []
    headers = _sign_get(client_key, now)
    forged = {**headers, "Accept-Signature": "forged"}

    with pytest.raises(errors.BadSignature):
        _verify(forged, resolve_client_key, now, is_replay=lambda rid: asked.append(rid) is not None)
    assert asked == []


def test_the_host_must_be_ours(client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime) -> None:
    headers = _sign_get(client_key, now)

    _verify(headers, resolve_client_key, now, expected_host=HOST.upper())
    _verify(headers, resolve_client_key, now, expected_host=None)
    with pytest.raises(errors.HostMismatch) as caught:
        _verify(headers, resolve_client_key, now, expected_host=f"{HOST}:8443")
    assert caught.value.status == 400


@pytest.mark.parametrize("left_out", ["(request-target)", "host", "date", "digest", "x-request-id"])
def test_each_required_header_must_be_signed(
    left_out: str, client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)
    names = [name for name in parse_signature_params(headers["Authorization"]).headers if name != left_out]
    headers = _resign(headers, names, client_key, fingerprint(client_key.public_key()))

    with pytest.raises(errors.UnsignedHeader, match=left_out.replace("(", r"\(").replace(")", r"\)")):
        _verify(headers, resolve_client_key, now)


def test_a_signed_header_removed_after_signing_is_refused(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)
    del headers["Accept-Signature"]

    with pytest.raises(errors.MissingHeader, match="accept-signature"):
        _verify(headers, resolve_client_key, now)


def test_a_known_key_id_with_a_signature_by_another_key_is_refused(
    client_key: RSAPrivateKey, server_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)
    names = list(parse_signature_params(headers["Authorization"]).headers)
    headers = _resign(headers, names, server_key, fingerprint(client_key.public_key()))

    with pytest.raises(errors.BadSignature):
        _verify(headers, resolve_client_key, now)


@pytest.mark.parametrize(
    ("authorization", "error"),
    [
        (None, errors.MissingSignature),
        ("Basic dXNlcjpwYXNz", errors.MissingSignature),
        ("Signature", errors.MalformedSignature),
        ("Signature ", errors.MalformedSignature),
        ("Signature keyId", errors.MalformedSignature),
        ('Signature keyId="x"', errors.MalformedSignature),
        ('Signature keyId="x",algorithm="hmac-sha256",signature="AA=="', errors.UnsupportedAlgorithm),
        ('Signature keyId="x",algorithm="rsa-sha256",signature="AA=="', errors.UnsignedHeader),
        ("Signature " + "\x00\xff" * 100, errors.MalformedSignature),
    ],
)
def test_garbage_authorization_values_raise_a_security_error(
    authorization: str | None, error: type[SecurityError], resolve_client_key: Resolver, now: datetime
) -> None:
    headers = {"Host": HOST, "Date": format_http_date(now)}
    if authorization is not None:
        headers["Authorization"] = authorization

    with pytest.raises(error) as caught:
        _verify(headers, resolve_client_key, now)
    assert caught.value.status in (400, 401)


def test_an_unknown_key_id_is_refused_with_403(
    client_key: RSAPrivateKey, resolve_client_key: Resolver, now: datetime
) -> None:
    headers = _sign_get(client_key, now)
    names = list(parse_signature_params(headers["Authorization"]).headers)
    headers = _resign(headers, names, client_key, "0" * 64)

    with pytest.raises(errors.UnknownKey) as caught:
        _verify(headers, resolve_client_key, now)
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Accept": "text/xml"}, "Host"),
        ({"Host": HOST, "Date": "Tue, 07 Jan 2025 12:00:00 GMT"}, "Date"),
        ({"Host": HOST, "authorization": "Basic x"}, "authorization"),
    ],
)
def test_sign_request_refuses_headers_it_cannot_sign_correctly(
    headers: dict[str, str], message: str, client_key: RSAPrivateKey, now: datetime
) -> None:
    with pytest.raises(ValueError, match=message):
        sign_request(method="GET", target="/", headers=headers, body=b"", private_key=client_key,
                     key_id="k", now=now)


ERROR_STATUSES = {
    errors.MissingSignature: 401, errors.MalformedSignature: 400, errors.UnsupportedAlgorithm: 400,
    errors.UnsignedHeader: 400, errors.MissingHeader: 400, errors.HostMismatch: 400, errors.UnknownKey: 403,
    errors.NotAClientKey: 403, errors.DateOutOfWindow: 400, errors.MissingDate: 400,
    errors.BadRequestId: 400, errors.ReplayedRequest: 400, errors.BadSignature: 400,
    errors.DigestMissing: 400, errors.DigestMismatch: 400, errors.DigestUnsupported: 400,
    errors.DecryptionError: 400, errors.EncodingNotAcceptable: 406,
}


@pytest.mark.parametrize(("error", "status"), ERROR_STATUSES.items(), ids=lambda v: getattr(v, "__name__", v))
def test_error_classes_carry_their_status_and_check(error: type[SecurityError], status: int) -> None:
    instance = error("message")
    assert isinstance(instance, SecurityError)
    assert instance.status == status
    assert instance.check and instance.check != SecurityError.check
