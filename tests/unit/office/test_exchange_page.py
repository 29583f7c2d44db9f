"""One exchange in the console: its headers and bodies (XML pretty-printed, hostile bodies shown as escaped
text, secrets redacted, cuts said), readable by viewers, scoped to the user's HEIs, in English and French."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from ewp_node.config import CapturePolicy
from ewp_node.office.models import Role
from ewp_node.store.audit import Direction, Exchange
from ewp_node.store.captures import Capture

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


def _record(ctx, url: str, response: bytes, *, capture_bytes: int = 65536) -> None:  # type: ignore[no-untyped-def]
    ctx.audit._capture_bytes = capture_bytes
    ctx.audit.record(Exchange(at=datetime.now(UTC), direction=Direction.IN, api="echo", method="POST", status=200,
                              duration_ms=2, capture=Capture(url, [("content-type", "text/xml")], b"<q/>",
                                                             [("Content-Type", "text/xml")], response)))
    ctx.audit.flush()


def test_a_viewer_opens_a_served_exchange_with_headers_and_pretty_xml(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    assert node.call("POST", "/ewp/echo", [("echo", "bonjour")],
                     headers={"Proxy-Authorization": "Basic stolen"}).status_code == 200
    node.ctx.audit.flush()
    viewer = console(node.app, node.ctx, "vera", Role.VIEWER)
    listing = viewer.get("/office/exchanges").get_data(as_text=True)
    assert 'href="/office/exchanges/1"' in listing
    page = viewer.get("/office/exchanges/1").get_data(as_text=True)
    assert "<code>/ewp/echo</code>" in page
    assert "<code>authorization</code>" in page and "Signature keyId=" in page  # the HTTP signature is kept
    assert "stolen" not in page and "(redacted)" in page
    assert "echo=bonjour" in page  # the form body as text
    assert "\n  &lt;echo&gt;bonjour&lt;/echo&gt;" in page  # the answer re-indented, escaped
    assert "<code>Signature</code>" in page  # the response's signature header


def test_hostile_and_cut_bodies_are_shown_as_escaped_text(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    _record(node.ctx, "/ewp/echo", b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;<script>alert(1)</script></x>')
    _record(node.ctx, "/ewp/echo", b"<a>" + b"x" * 100 + b"</a>", capture_bytes=20)
    _record(node.ctx, "/ewp/echo", b"\xff\xfe\x00binary")
    officer = console(node.app, node.ctx, "olga", Role.OFFICER)
    doctype = officer.get("/office/exchanges/1").get_data(as_text=True)
    assert "&lt;!DOCTYPE x" in doctype and "<script>" not in doctype
    assert "&lt;x&gt;&amp;e;&lt;script&gt;alert(1)" in doctype  # shown as sent: never parsed, never expanded
    cut = officer.get("/office/exchanges/2").get_data(as_text=True)
    assert "Cut: the first 20 of 107 bytes are kept." in cut and "&lt;a&gt;" + "x" * 17 in cut
    assert "9 bytes that are not text." in officer.get("/office/exchanges/3").get_data(as_text=True)


def test_an_exchange_without_a_capture_says_so_in_french(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    node.ctx.audit.record(Exchange(at=datetime.now(UTC), direction=Direction.OUT, api="echo", method="GET",
                                   status=0, duration_ms=1))
    node.ctx.audit.flush()
    viewer = console(node.app, node.ctx, "vera", Role.VIEWER)
    assert "they are kept 14 days" in viewer.get("/office/exchanges/1").get_data(as_text=True)
    viewer.post("/office/lang", lang="fr")
    page = viewer.get("/office/exchanges/1").get_data(as_text=True)
    assert "ils sont conservés 14 jours" in page
    _record(node.ctx, "/ewp/echo", b"<ok/>")
    french = viewer.get("/office/exchanges/2").get_data(as_text=True)
    assert "Corps de la réponse" in french and "En-têtes" in french


def test_a_successful_exchange_on_a_failures_only_node_says_why_it_has_none(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    node.ctx.settings = dataclasses.replace(node.ctx.settings, exchange_capture=CapturePolicy.FAILURES)
    assert node.call("POST", "/ewp/echo", [("echo", "bonjour")]).status_code == 200
    node.ctx.audit.flush()
    viewer = console(node.app, node.ctx, "vera", Role.VIEWER)
    assert "keeps them for failed exchanges only, 14 days" in viewer.get("/office/exchanges/1").get_data(as_text=True)
    viewer.post("/office/lang", lang="fr")
    assert "que pour les échanges en échec, 14 jours" in viewer.get("/office/exchanges/1").get_data(as_text=True)


def test_headers_and_bodies_follow_the_users_hei_scope(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node(heis=("uni-a.example.eu", "uni-b.example.eu"))
    _record(node.ctx, "/hei/uni-a.example.eu/ewp/echo", b"<for-a/>")
    _record(node.ctx, "/hei/uni-b.example.eu/ewp/echo", b"<for-b/>")
    _record(node.ctx, "/ewp/echo", b"<shared/>")
    scoped = console(node.app, node.ctx, "bob", Role.VIEWER, ("uni-b.example.eu",))
    everyone = console(node.app, node.ctx, "ada", Role.VIEWER)
    hidden = "concern another HEI than yours"
    first = scoped.get("/office/exchanges/1").get_data(as_text=True)
    assert hidden in first and "for-a" not in first
    assert "&lt;for-b/&gt;" in scoped.get("/office/exchanges/2").get_data(as_text=True)
    assert hidden in scoped.get("/office/exchanges/3").get_data(as_text=True)
    assert all(hidden not in everyone.get(f"/office/exchanges/{n}").get_data(as_text=True) for n in (1, 2, 3))
