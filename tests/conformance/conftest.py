"""A black-box prober modelled on the official EWP validator (VALIDATOR.md 0.1, 0.3, 1.3, 1.4).

``probe.request(...)`` builds a request the way the validator's signer does (``Host``, ``Date``,
``X-Request-Id``, ``Digest`` and, for srvauth=H, ``Accept-Signature``/``Want-Digest``; ``(request-target)``
plus every header signed), with hooks to mutate it before or after signing. ``probe.exchange(sent)`` sends it
through the real security chain and applies the checks the validator runs on EVERY response (R2, R4-R12,
R14-R18), so each test only asserts what is specific to its case.
"""

from __future__ import annotations

import base64
import gzip
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from lxml import etree

from ewp_node.security.digest import digest_header
from ewp_node.security.errors import MalformedSignature, UntrustedServerKey
from ewp_node.security.httpsig import (
    ALGORITHM,
    HeaderView,
    SignatureParams,
    format_http_date,
    parse_signature_params,
    signing_string,
    verify_response,
    wants_signed_response,
)
from ewp_node.security.keys import fingerprint
from ewp_node.security.rsa_aes import accepts_coding
from ewp_node.xml import ns

ERROR_RESPONSE = f"{{{ns.COMMON}}}error-response"
DEVELOPER_MESSAGE = f"{{{ns.COMMON}}}developer-message"
ECHO_PATH = "/ewp/echo"
#: VALIDATOR.md 0.1: the headers a validator 401 challenge may list must include at least these.
CHALLENGE_HEADERS = ("(request-target)", "host", "digest", "x-request-id", "date")

#: Header overrides: a value replaces (or adds) the header, ``None`` removes it.
Overrides = Mapping[str, "str | None"]


def rsa_sign(key: RSAPrivateKey, text: str) -> str:
    """base64 RSASSA-PKCS1-v1_5/SHA-256 of ``text``: what an HTTP signature carries."""
    return base64.b64encode(key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def _apply(headers: list[tuple[str, str]], overrides: Overrides) -> list[tuple[str, str]]:
    """Replace, add or (value None) remove headers, keeping the position of replaced ones."""
    out = list(headers)
    for name, value in overrides.items():
        index = next((i for i, (n, _) in enumerate(out) if n.lower() == name.lower()), None)
        if value is None:
            out = [(n, v) for n, v in out if n.lower() != name.lower()]
        elif index is None:
            out.append((name, value))
        else:
            out[index] = (name, value)
    return out


@dataclass(frozen=True)
class Sent:
    """One request as it goes on the wire (headers in wire order, duplicates allowed)."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return HeaderView(self.headers).get(name)

    @property
    def signature(self) -> str | None:
        """The ``signature`` value of an ``Authorization: Signature`` header, if one parses."""
        value = next((v for n, v in self.headers if n.lower() == "authorization"), "")
        if not value.lower().startswith("signature "):
            return None
        try:
            return parse_signature_params(value).signature
        except MalformedSignature:
            return None


@dataclass
class Reply:
    """A response, its body decoded (gzip) and parsed."""

    status: int
    headers: HeaderView
    raw: bytes
    body: bytes
    root: etree._Element = field(repr=False)

    @property
    def developer_message(self) -> str:
        return self.root.findtext(DEVELOPER_MESSAGE) or ""

    def echo(self) -> tuple[set[str], list[str]]:
        """(``<hei-id>`` set, ``<echo>`` list) of an Echo response."""
        heis = {e.text or "" for e in self.root.iterfind(f"{{{ns.ECHO}}}hei-id")}
        return heis, [e.text or "" for e in self.root.iterfind(f"{{{ns.ECHO}}}echo")]


class Prober:
    """Sends validator-style requests to a :class:`TestNode` and checks every response (VALIDATOR.md 0.3)."""

    def __init__(self, node, validate: Callable[[bytes], None]) -> None:  # type: ignore[no-untyped-def]
        self.node = node
        self.validate = validate

    # -- building requests ------------------------------------------------------------------------------

    def request(self, method: str, params: Sequence[tuple[str, str]] = (), *, path: str = ECHO_PATH,
                query: str = "", srvauth: bool = True, headers: Overrides | None = None,
                sign: Sequence[str] | None = None, signed: bool = True, key: RSAPrivateKey | None = None,
                key_id: str | None = None, after: Overrides | None = None, body: bytes | None = None,
                body_after: bytes | None = None, now: datetime | None = None) -> Sent:
        """A validator-style request to the node.

        :param params: Echo parameters: the query (GET) or the form body (POST).
        :param query: a query string for a POST (E3); ignored for GET.
        :param srvauth: add ``Accept-Signature: rsa-sha256`` and ``Want-Digest`` (the ``xHxx`` combinations).
        :param headers: overrides applied before signing (the Digest is computed over ``body`` first).
        :param sign: the signed header list; default ``(request-target)`` plus every header, in wire order.
        :param signed: False sends no ``Authorization`` at all (anonymous).
        :param key: the signing key (default: the partner's client key); ``key_id`` defaults to its own.
        :param after: overrides applied after signing (tampering).
        :param body_after: a body swapped in after signing (tampering).
        """
        if method == "GET":
            target, payload = path + (f"?{urlencode(list(params))}" if params else ""), b""
        else:
            target = path + (f"?{query}" if query else "")
            payload = body if body is not None else urlencode(list(params)).encode()
        wire = [("Host", self.node.ctx.settings.host),
                ("Date", format_http_date(now or datetime.now(UTC))),
                ("X-Request-Id", str(uuid.uuid4())), ("Digest", digest_header(payload))]
        if method != "GET":
            wire.append(("Content-Type", "application/x-www-form-urlencoded"))
        if srvauth:
            wire += [("Accept-Signature", ALGORITHM), ("Want-Digest", "SHA-256")]
        wire = _apply(wire, headers or {})
        if signed:
            key = key or self.node.partner_key
            names = list(sign) if sign is not None else ["(request-target)", *(n.lower() for n, _ in wire)]
            text = signing_string(names, HeaderView(wire), f"{method.lower()} {target}")
            params_ = SignatureParams(key_id or fingerprint(key.public_key()), ALGORITHM, tuple(names),
                                      rsa_sign(key, text))
            wire.append(("Authorization", "Signature " + params_.format()))
        wire = _apply(wire, after or {})
        return Sent(method, target, wire, body_after if body_after is not None else payload)

    # -- sending and the common response checks ---------------------------------------------------------

    def send(self, sent: Sent):  # type: ignore[no-untyped-def]
        """Send as-is through the node's WSGI app; the werkzeug TestResponse."""
        return self.node.client.open(sent.target, method=sent.method, data=sent.body, headers=sent.headers,
                                     base_url=self.node.ctx.settings.base_url)

    def exchange(self, sent: Sent) -> Reply:
        """Send and run the checks the validator applies to every response."""
        response = self.send(sent)
        assert response.status_code != 500, response.data
        received = HeaderView(response.headers.items())
        raw = response.get_data()
        self._check_request_id(sent, received)
        if wants_signed_response(sent.header("Accept-Signature")):
            self._check_signature(sent, received, raw)
        else:  # our design: no signature unless asked (R3 would only be a notice)
            assert received.get("signature") is None
        body = self._check_encoding(sent, received, raw)
        root = etree.fromstring(body)
        self.validate(body)  # R14 (200: the API's XSD) and R15 (else: error-response)
        if response.status_code != 200:
            assert root.tag == ERROR_RESPONSE, body
            assert (root.findtext(DEVELOPER_MESSAGE) or "").strip(), "an error needs a developer message"
        if response.status_code == 401:
            self._check_challenge(received)
        return Reply(response.status_code, received, raw, body, root)

    @staticmethod
    def _check_request_id(sent: Sent, received: HeaderView) -> None:
        """R2: an X-Request-Id in the response equals the request's; none if the request had none."""
        echoed = received.get("x-request-id")
        assert echoed is None or echoed == sent.header("x-request-id"), "R2"

    def _check_signature(self, sent: Sent, received: HeaderView, raw: bytes) -> None:
        """R4-R11: a parseable rsa-sha256 signature by a registered server key covering the echo headers."""
        value = received.get("signature")
        assert value is not None, "R4: Accept-Signature: rsa-sha256 was sent but the response is not signed"
        params = parse_signature_params(value)
        assert params.algorithm == ALGORITHM
        required = {"digest"}
        if sent.header("x-request-id") is not None:
            required.add("x-request-id")
        if sent.signature is not None:
            required.add("x-request-signature")
        assert required <= set(params.headers), f"R6: {params.headers} lacks {required - set(params.headers)}"
        assert {"date", "original-date"} & set(params.headers), "R6: no date is signed"
        assert received.get("x-request-signature") == sent.signature, "R10"
        verify_response(headers=received, body=raw, now=datetime.now(UTC),
                        request_method=sent.method, request_target=sent.target,
                        request_id=sent.header("x-request-id"), request_signature=sent.signature,
                        resolve_server_key=self.resolve_server_key)

    def resolve_server_key(self, key_id: str) -> RSAPublicKey:
        """R5: the key must be a server credential of the catalogue host that serves this Echo URL."""
        index = self.node.ctx.registry.index
        entry = index.lookup(self.node.ctx.settings.heis[0].id, "echo")
        key = index.server_key(key_id) if entry is not None and key_id in entry.server_key_ids else None
        if key is None:
            raise UntrustedServerKey(f"{key_id} is not a registered server key of the Echo host")
        return key

    @staticmethod
    def _check_encoding(sent: Sent, received: HeaderView, raw: bytes) -> bytes:
        """R12: only codings the request accepted; the decoded body."""
        codings = [c.strip().lower() for c in (received.get("content-encoding") or "").split(",") if c.strip()]
        for coding in codings:
            assert accepts_coding(sent.header("accept-encoding"), coding), f"R12: {coding} was not accepted"
        assert codings in ([], ["gzip"]), codings
        return gzip.decompress(raw) if codings else raw

    @staticmethod
    def _check_challenge(received: HeaderView) -> None:
        """R16-R18: a 401 carries a usable httpsig challenge."""
        challenge = received.get("www-authenticate")
        assert challenge is not None, "R16: 401 without WWW-Authenticate"
        assert challenge.lower().startswith("signature ")
        params = {k.strip().lower(): v.strip().strip('"') for k, _, v in
                  (p.partition("=") for p in challenge[len("signature "):].split(","))}
        assert params.get("realm") == "EWP", "R17"
        if "algorithms" in params:
            assert ALGORITHM in params["algorithms"].split()
        if "headers" in params:
            assert set(CHALLENGE_HEADERS) <= set(params["headers"].split())
        assert "SHA-256" in (received.get("want-digest") or "").upper(), "R18"

    # -- assertions -------------------------------------------------------------------------------------

    def ok(self, sent: Sent) -> Reply:
        """Exchange and expect a valid 200 Echo response for the partner's HEIs."""
        reply = self.exchange(sent)
        assert reply.status == 200, reply.body
        assert reply.echo()[0] == set(self.node.partner_heis)
        return reply

    def fails(self, sent: Sent, status: int, *mentions: str) -> Reply:
        """Exchange and expect an ``error-response`` with ``status`` whose message names ``mentions``."""
        reply = self.exchange(sent)
        assert reply.status == status, (reply.status, reply.body)
        message = reply.developer_message.lower()
        for word in mentions:
            assert word.lower() in message, f"{word!r} not in developer message {message!r}"
        return reply


@pytest.fixture
def make_probe(make_node, validate_official) -> Callable[..., Prober]:  # type: ignore[no-untyped-def]
    """``make_probe(partner_heis=..., **make_node_kwargs)``: a prober of a node built as asked."""

    def build(partner_heis: tuple[str, ...] = ("partner.example.eu",), **kwargs: object) -> Prober:
        node = make_node(partner_heis=partner_heis, **kwargs)
        node.partner_heis = partner_heis
        return Prober(node, validate_official)

    return build


@pytest.fixture
def probe(make_probe: Callable[..., Prober]) -> Prober:
    """A prober of a fresh node whose registry knows one partner (a client key and a server key)."""
    return make_probe()
