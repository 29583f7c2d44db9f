"""ewp-rsa-aes128gcm against a running node (VALIDATOR.md 1.5-1.6, E28-E35; SECURITY.md c.2, c.3)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from ewp_node.security.httpsig import HeaderView, parse_signature_params, sign_request, verify_response
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.security.rsa_aes import decrypt, encrypt
from ewp_node.xml import ns

PATH = "/ewp/echo"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _send(node, method: str, body: bytes, signed: dict[str, str], unsigned: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Sign ``signed`` headers with the partner's client key, then add ``unsigned`` ones."""
    headers = sign_request(method=method, target=PATH, headers={"Host": node.ctx.settings.host, **signed},
                           body=body, private_key=node.partner_key, key_id=node.partner_key_id,
                           now=datetime.now(UTC))
    response = node.client.open(PATH, method=method, data=body, headers={**headers, **(unsigned or {})},
                                base_url=node.ctx.settings.base_url)
    return headers, response


def _plaintext(node, headers, response, key) -> bytes:  # type: ignore[no-untyped-def]
    """Verify the signed response over the encrypted bytes, then decrypt with ``key``."""
    verified = verify_response(
        headers=HeaderView(response.headers.items()), body=response.data, now=datetime.now(UTC),
        request_method="POST", request_target=PATH, request_id=headers["X-Request-Id"],
        request_signature=parse_signature_params(headers["Authorization"]).signature,
        resolve_server_key=lambda key_id: node.ctx.server_key.private.public_key())
    assert response.headers["Content-Encoding"] == "ewp-rsa-aes128gcm"
    return decrypt(verified, {fingerprint(key.public_key()): key})


def _echoes(body: bytes) -> list[str]:
    return [e.text or "" for e in etree.fromstring(body).iter(f"{{{ns.ECHO}}}echo")]


@pytest.fixture
def node(make_node):  # type: ignore[no-untyped-def]
    return make_node(rsa_aes128gcm=True)


def test_manifest_declares_both_methods_and_stays_valid(node, validate_official) -> None:  # type: ignore[no-untyped-def]
    manifest = node.client.get("/manifest.xml").data
    validate_official(manifest)
    root = etree.fromstring(manifest)
    assert root.find(f".//{{{ns.REQENCR_RSA_AES}}}ewp-rsa-aes128gcm") is not None
    assert root.find(f".//{{{ns.RESENCR_RSA_AES}}}ewp-rsa-aes128gcm") is not None


def test_encrypted_request_is_decrypted(node) -> None:  # type: ignore[no-untyped-def]
    body = encrypt(b"echo=a&echo=b", node.ctx.server_key.private.public_key())
    _, response = _send(node, "POST", body, {**FORM, "Content-Encoding": "ewp-rsa-aes128gcm"})
    assert response.status_code == 200
    assert _echoes(response.data) == ["a", "b"]


def test_e28_encrypted_request_as_get_is_405(node) -> None:  # type: ignore[no-untyped-def]
    body = encrypt(b"echo=a", node.ctx.server_key.private.public_key())
    _, response = _send(node, "GET", body, {"Content-Encoding": "ewp-rsa-aes128gcm"})
    assert response.status_code == 405


def test_e29_truncated_encrypted_body_is_400(node) -> None:  # type: ignore[no-untyped-def]
    body = encrypt(b"echo=a", node.ctx.server_key.private.public_key())[:34]
    _, response = _send(node, "POST", body, {**FORM, "Content-Encoding": "ewp-rsa-aes128gcm"})
    assert response.status_code == 400
    assert b"encrypt" in response.data or b"truncated" in response.data


@pytest.mark.parametrize("accept", ["invalid-coding", "ewp-rsa-aes128gcm;q=0, identity;q=1"])
def test_e31_e33_no_encryption_unless_accepted(node, accept: str) -> None:  # type: ignore[no-untyped-def]
    _, response = _send(node, "POST", b"echo=a", {**FORM, "Accept-Encoding": accept})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert _echoes(response.data) == ["a"]


def test_e32_encrypted_response_for_the_signing_client(node) -> None:  # type: ignore[no-untyped-def]
    headers, response = _send(node, "POST", b"echo=a", {**FORM, "Accept-Signature": "rsa-sha256",
                                                        "Accept-Encoding": "  ewp-rsa-AES128GCM ; q=1 , *;q=0"})
    assert response.status_code == 200
    assert _echoes(_plaintext(node, headers, response, node.partner_key)) == ["a"]


def test_e34_unsigned_response_key_is_ignored(node) -> None:  # type: ignore[no-untyped-def]
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers, response = _send(node, "POST", b"echo=a",
                              {**FORM, "Accept-Signature": "rsa-sha256", "Accept-Encoding": "ewp-rsa-aes128gcm"},
                              {"Accept-Response-Encryption-Key": public_key_b64(attacker.public_key())})
    assert response.status_code == 200
    assert _echoes(_plaintext(node, headers, response, node.partner_key)) == ["a"]


def test_e35_signed_response_key_is_used(node) -> None:  # type: ignore[no-untyped-def]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    headers, response = _send(node, "POST", b"echo=a", {
        **FORM, "Accept-Signature": "rsa-sha256", "Accept-Encoding": "ewp-rsa-aes128gcm",
        "Accept-Response-Encryption-Key": public_key_b64(other.public_key())})
    assert response.status_code == 200
    assert _echoes(_plaintext(node, headers, response, other)) == ["a"]


def test_gzip_then_encryption_when_both_are_accepted(node) -> None:  # type: ignore[no-untyped-def]
    values = "&".join(f"echo=value-{i}" for i in range(100)).encode()
    headers, response = _send(node, "POST", values, {**FORM, "Accept-Encoding": "gzip, ewp-rsa-aes128gcm"})
    assert response.headers["Content-Encoding"] == "gzip, ewp-rsa-aes128gcm"
    inner = decrypt(response.data, {node.partner_key_id: node.partner_key})
    assert len(_echoes(gzip.decompress(inner))) == 100


def test_node_without_encryption_refuses_encrypted_requests_with_415(make_node) -> None:  # type: ignore[no-untyped-def]
    plain = make_node()
    body = encrypt(b"echo=a", plain.ctx.server_key.private.public_key())
    _, response = _send(plain, "POST", body, {**FORM, "Content-Encoding": "ewp-rsa-aes128gcm"})
    assert response.status_code == 415
    _, response = _send(plain, "POST", b"echo=a", {**FORM, "Accept-Encoding": "ewp-rsa-aes128gcm"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
