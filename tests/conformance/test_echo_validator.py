"""Echo as the official validator probes it (VALIDATOR.md 1.1, 1.3, 1.4 and 0.3), for HTTT and HHTT, GET and POST.

Every exchange also goes through the validator's common response checks (``Prober.exchange``: R2, R4-R12,
R14-R18), so a test only states what is specific to its row. Test names carry the validator's row number.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from ewp_node.config import HeiConfig, Settings
from ewp_node.manifest import build_manifest
from ewp_node.security.digest import digest_header
from ewp_node.security.httpsig import parse_signature_params
from ewp_node.security.keys import load_private_key_pem, public_key_b64

COMBOS = [("GET", False), ("GET", True), ("POST", False), ("POST", True)]
COMBO_IDS = ["GHTTT", "GHHTT", "PHTTT", "PHHTT"]
REQUIRED_SIGNED = ("(request-target)", "host", "date", "digest", "x-request-id")


@pytest.fixture(params=COMBOS, ids=COMBO_IDS)
def combo(request: pytest.FixtureRequest) -> tuple[str, bool]:
    """(method, srvauth=H) of one validator security combination."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=[False, True], ids=["PHTTT", "PHHTT"])
def srvauth(request: pytest.FixtureRequest) -> bool:
    """POST-only rows: with and without server signatures."""
    return request.param  # type: ignore[no-any-return]


ECHO_ABA = [("echo", "a"), ("echo", "b"), ("echo", "a")]


# -- 1.1 functional ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_e1_put_and_delete_get_405(probe, srvauth, method) -> None:  # type: ignore[no-untyped-def]
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth)
    probe.fails(sent, 405, "method")


def test_e2_post_echoes_values_in_order_for_every_hei_of_the_key(make_probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    probe = make_probe(partner_heis=("partner-1.example.eu", "partner-2.example.eu"))
    reply = probe.ok(probe.request("POST", ECHO_ABA, srvauth=srvauth))
    assert reply.echo() == ({"partner-1.example.eu", "partner-2.example.eu"}, ["a", "b", "a"])


def test_e3_post_ignores_the_query_string(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    reply = probe.ok(probe.request("POST", ECHO_ABA, query="echo=c&echo=c", srvauth=srvauth))
    assert reply.echo()[1] == ["a", "b", "a"]


def test_e4_gzip_accepted_gives_200(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    values = [("echo", f"value-{i:03d}") for i in range(60)]  # big enough to be worth compressing
    reply = probe.ok(probe.request("POST", values, srvauth=srvauth, headers={"Accept-Encoding": "gzip, identity"}))
    assert reply.headers.get("content-encoding") == "gzip"
    assert reply.echo()[1] == [v for _, v in values]


def test_e5_get_echoes_values_in_order(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    reply = probe.ok(probe.request("GET", ECHO_ABA, srvauth=srvauth))
    assert reply.echo()[1] == ["a", "b", "a"]


def test_echo_without_values_lists_only_the_heis(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    assert probe.ok(probe.request(method, srvauth=srvauth)).echo()[1] == []


def test_echo_values_survive_percent_encoding_and_unicode(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    values = [("echo", "b c"), ("echo", "zażółć&=?"), ("echo", "")]
    assert probe.ok(probe.request(method, values, srvauth=srvauth)).echo()[1] == ["b c", "zażółć&=?", ""]


# -- 1.2 / 1.3 client authentication ------------------------------------------------------------------------


def test_e6_anonymous_request_gets_the_401_challenge(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    probe.fails(probe.request(method, ECHO_ABA, srvauth=srvauth, signed=False), 401, "authorization")


def test_e7_a_key_unknown_to_the_registry_gets_403(probe, combo, make_node) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    stranger = make_node().partner_key  # a real key, published in another node's registry only
    probe.fails(probe.request(method, ECHO_ABA, srvauth=srvauth, key=stranger), 403, "registry")


def test_e7_an_unknown_key_triggers_one_early_registry_refresh(probe, make_node) -> None:  # type: ignore[no-untyped-def]
    stranger = make_node().partner_key
    probe.fails(probe.request("GET", key=stranger), 403)
    assert probe.node.ctx.registry.unknown_key_refreshes == 1


def test_e8_a_known_key_id_with_a_signature_by_another_key_gets_400(probe, combo, make_node) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    other = make_node().partner_key
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, key=other, key_id=probe.node.partner_key_id)
    probe.fails(sent, 400, "signature")


@pytest.mark.parametrize("removed", ["Date", "Digest", "X-Request-Id"])
def test_e9_a_signed_header_removed_after_signing_gets_400(probe, combo, removed) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    probe.fails(probe.request(method, ECHO_ABA, srvauth=srvauth, after={removed: None}), 400, removed)


def test_e10_original_date_instead_of_date_is_accepted(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    date = probe.request(method).header("Date")
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, headers={"Date": None, "Original-Date": date})
    assert sent.header("Date") is None
    assert probe.ok(sent).echo()[1] == ["a", "b", "a"]


@pytest.mark.parametrize("omitted", REQUIRED_SIGNED)
def test_e11_to_e15_each_required_header_must_be_signed(probe, combo, omitted) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    names = [n for n in probe.request(method, srvauth=srvauth).headers if n[0] != "Authorization"]
    signed = [n for n in ["(request-target)", *(name.lower() for name, _ in names)] if n != omitted]
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, sign=signed)
    probe.fails(sent, 400, omitted if omitted != "date" else "date or original-date")


def test_e16_headers_signed_in_another_order_are_accepted(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    names = ["(request-target)", *(n.lower() for n, _ in probe.request(method, srvauth=srvauth, signed=False).headers)]
    probe.ok(probe.request(method, ECHO_ABA, srvauth=srvauth, sign=list(reversed(names))))


def test_e17_an_extra_signed_header_is_accepted(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, headers={"Some-Custom-Header": "Some value"})
    assert "some-custom-header" in parse_signature_params(sent.header("Authorization") or "").headers
    probe.ok(sent)


def test_e18_the_partners_server_key_is_not_a_client_key(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, key=probe.node.partner_server_key)
    probe.fails(sent, 403, "client credential")


def test_e19_an_original_date_20_minutes_old_is_refused(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    old = probe.request(method, now=datetime.now(UTC) - timedelta(minutes=20)).header("Date")
    names = ["(request-target)", "host", "original-date", "digest", "x-request-id"]
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, headers={"Original-Date": old}, sign=names)
    probe.fails(sent, 400, "original-date")


@pytest.mark.parametrize("minutes", [-6, 6])
def test_a_date_outside_five_minutes_is_refused(probe, combo, minutes) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth,
                         now=datetime.now(UTC) + timedelta(minutes=minutes))
    probe.fails(sent, 400, "date")


def test_e20_a_non_canonical_request_id_is_refused(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    request_id = (probe.request(method).header("X-Request-Id") or "").replace("-", "").upper()
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth, headers={"X-Request-Id": request_id})
    probe.fails(sent, 400, "x-request-id")


def test_a_replayed_request_is_refused(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, srvauth = combo
    sent = probe.request(method, ECHO_ABA, srvauth=srvauth)
    probe.ok(sent)
    probe.fails(sent, 400, "already used")


def test_e21_a_body_changed_after_signing_is_refused(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    sent = probe.request("POST", ECHO_ABA, srvauth=srvauth, body_after=b"echo=a&echo=b&echo=c")
    probe.fails(sent, 400, "digest")


def _sha256_b64(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode()


def test_e22_extra_unknown_digest_algorithms_are_ignored(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    body = b"echo=b&echo=b"
    digest = f"SHA-256={_sha256_b64(body)}, Unknown-Digest-Algorithm=SomeValue"
    reply = probe.ok(probe.request("POST", body=body, srvauth=srvauth, headers={"Digest": digest}))
    assert reply.echo()[1] == ["b", "b"]


def test_e23_a_sha1_digest_alone_is_refused(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    body = b"echo=b&echo=b"
    digest = "SHA=" + base64.b64encode(hashlib.sha1(body).digest()).decode()  # noqa: S324 (the test's point)
    probe.fails(probe.request("POST", body=body, srvauth=srvauth, headers={"Digest": digest}), 400, "sha-256")


def test_e24_the_digest_algorithm_name_is_case_insensitive(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    body = b"echo=b"
    digest = {"Digest": f"shA-256={_sha256_b64(body)}"}
    reply = probe.ok(probe.request("POST", body=body, srvauth=srvauth, headers=digest))
    assert reply.echo()[1] == ["b"]


# -- 1.4 server authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_e25_only_unknown_signature_algorithms_gives_an_unsigned_200(probe, method) -> None:  # type: ignore[no-untyped-def]
    reply = probe.ok(probe.request(method, ECHO_ABA, headers={"Accept-Signature": "unknown-algorithm"}))
    assert reply.headers.get("signature") is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_e26_a_known_algorithm_among_unknown_ones_gives_a_signed_200(probe, method) -> None:  # type: ignore[no-untyped-def]
    sent = probe.request(method, ECHO_ABA, headers={"Accept-Signature": "rsa-sha256, unknown-algorithm"})
    assert probe.ok(sent).headers.get("signature") is not None  # verified by the common checks


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_e27_an_anonymous_request_id_is_echoed_and_signed(probe, method) -> None:  # type: ignore[no-untyped-def]
    reply = probe.fails(probe.request(method, ECHO_ABA, signed=False), 401)
    signed = parse_signature_params(reply.headers.get("signature") or "").headers
    assert "x-request-id" in signed and "x-request-signature" not in signed
    assert reply.headers.get("x-request-signature") is None


# -- 0.3 response rules, stated on their own ------------------------------------------------------------------


def test_r6_signed_responses_cover_the_request_binding_headers(probe, combo) -> None:  # type: ignore[no-untyped-def]
    method, _ = combo
    sent = probe.request(method, ECHO_ABA)
    reply = probe.ok(sent)
    params = parse_signature_params(reply.headers.get("signature") or "")
    assert {"digest", "x-request-id", "x-request-signature", "original-date"} <= set(params.headers)
    assert params.key_id == probe.node.ctx.server_key.key_id
    assert reply.headers.get("x-request-signature") == sent.signature
    assert reply.headers.get("digest") == digest_header(reply.raw)


def test_r11_a_tampered_signed_response_fails_verification(probe) -> None:  # type: ignore[no-untyped-def]
    """The common checks really verify: flip one byte of a signed body and they must fail."""
    sent = probe.request("GET", ECHO_ABA)
    response = probe.send(sent)
    response.set_data(response.get_data().replace(b">a<", b">z<", 1))
    probe.send = lambda _sent: response
    with pytest.raises(Exception, match="[Dd]igest"):
        probe.exchange(sent)


@pytest.mark.parametrize(("accept_encoding", "gzipped"), [
    (None, False), ("identity", False), ("gzip;q=0, identity", False), ("deflate", False),
    ("gzip", True), ("GZIP;q=0.5", True), ("*", True), ("ewp-rsa-aes128gcm;q=0, gzip, identity;q=0.1", True),
])
def test_r12_gzip_only_when_accepted_and_the_digest_covers_the_gzipped_bytes(probe, accept_encoding, gzipped) -> None:  # type: ignore[no-untyped-def]
    values = [("echo", f"value-{i:03d}") for i in range(60)]
    sent = probe.request("GET", values, headers={"Accept-Encoding": accept_encoding} if accept_encoding else {})
    reply = probe.ok(sent)
    assert (reply.headers.get("content-encoding") == "gzip") is gzipped
    assert reply.headers.get("digest") == digest_header(reply.raw)
    if gzipped:
        assert gzip.decompress(reply.raw) == reply.body
        assert "content-encoding" in parse_signature_params(reply.headers.get("signature") or "").headers


def test_r14_and_r15_bodies_validate_against_the_official_schemas(probe, validate_official) -> None:  # type: ignore[no-untyped-def]
    ok = probe.ok(probe.request("GET", ECHO_ABA))
    error = probe.fails(probe.request("GET", ECHO_ABA, signed=False), 401)
    validate_official(ok.body)
    validate_official(error.body)
    assert etree.QName(ok.root).localname == "response" and etree.QName(error.root).localname == "error-response"


def test_r16_to_r18_the_401_challenge(probe) -> None:  # type: ignore[no-untyped-def]
    reply = probe.fails(probe.request("POST", ECHO_ABA, signed=False), 401)
    assert reply.headers.get("www-authenticate") == 'Signature realm="EWP"'
    assert reply.headers.get("want-digest") == "SHA-256"


# -- the official negative request vectors, replayed against a node (where the clock does not decide) ---------

#: Cases whose outcome is decided before the Date check: replayable with the vectors' 2025 dates against a
#: node running on the real clock. The others (tampered, digest, skew, UUID, the accepted variants) are
#: decided after it, so they are verified with the vectors' fixed clock in tests/unit/security/.
CLOCK_INDEPENDENT = {
    "no_authorization": "authorization",
    "unknown_key": "key",
    "server_key_used_as_client_key": "key",
    "x_request_id_not_signed": "signed-headers",
}


@pytest.fixture
def vector_probe(make_probe, vectors_dir: Path):  # type: ignore[no-untyped-def]
    """A node at the vectors' host whose registry lists the vector client key as a client credential and
    the vector server key as a server credential only (the catalogue the negative cases assume)."""
    import dataclasses

    probe = make_probe()
    ctx = probe.node.ctx
    vector = json.loads((vectors_dir / "request_negative_cases.json").read_text())
    ctx.settings = dataclasses.replace(ctx.settings, base_url=f"https://{vector['server_host']}")
    keys = [load_private_key_pem((vectors_dir / f"{who}_private.pem").read_bytes()) for who in ("client", "server")]
    partner = Settings(home=ctx.settings.home, base_url="https://partner.test.example.eu",
                       heis=(HeiConfig(id="vector.example.eu", names={"en": "Vector HEI"}),))
    manifest = build_manifest(partner, [], partner.heis[0], *(public_key_b64(k.public_key()) for k in keys))
    own = [etree.fromstring(m) for m in _own_manifests(probe)]
    ctx.registry.set_manifests([*own, manifest])
    return probe, vector


def _own_manifests(probe) -> list[bytes]:  # type: ignore[no-untyped-def]
    from ewp_node.app import manifest_bytes

    ctx = probe.node.ctx
    return [manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, h.id) for h in ctx.settings.heis]


def test_every_negative_vector_is_replayed_here_or_in_the_unit_tests(vectors_dir: Path) -> None:
    cases = json.loads((vectors_dir / "request_negative_cases.json").read_text())["cases"]
    unit = (Path(__file__).parents[1] / "unit" / "security" / "test_httpsig_request.py").read_text()
    assert "request_negative_cases.json" in unit
    assert set(CLOCK_INDEPENDENT) <= {case["name"] for case in cases}


@pytest.mark.parametrize("name", sorted(CLOCK_INDEPENDENT))
def test_negative_vector_against_a_running_node(vector_probe, name: str) -> None:  # type: ignore[no-untyped-def]
    probe, vector = vector_probe
    case = next(c for c in vector["cases"] if c["name"] == name)
    sent = type(probe.request("GET"))("GET", vector["request_target"], list(case["headers"].items()), b"")
    response = probe.send(sent)
    assert response.status_code in case["expected_status"]
    assert response.headers["X-EWP-Verification-Message"].startswith(CLOCK_INDEPENDENT[name] + ":")
    for header, value in case.get("expected_extra_headers", {}).items():
        assert response.headers[header] == value
    assert etree.fromstring(response.get_data()).tag.endswith("error-response")
