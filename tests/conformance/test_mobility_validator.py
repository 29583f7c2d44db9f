"""The validator's mobility rows (VALIDATOR.md 9 and 10), driven exactly as the official validator drives them:
Outgoing Mobilities v3 get/index (+Complex), OMobility LAs v1 get/index (+Complex) and update (LU1-LU13),
OMobilities v3 update (OV1-OV6), the mobility CNRs (9.5) and Incoming Mobilities v2 (10), with the templates of
section 2 (G, MS, AY, RR rows) and the method checks M1/M2 (0.4).

Every read row runs for the four baseline combinations ``GHTTT``, ``PHTTT``, ``GHHTT``, ``PHHTT`` (0.2, 0.3)
through the real security chain; ``probe.exchange`` applies the common response checks (R2, R4-R18, every 200
validated against the official XSD of its API, every error against ``error-response``). The ``max-omobility-ids``
used is the one the node's manifest advertises (1 when absent, as the validator does). The node declares
OMobilities 3.x and IMobilities 2.x, so the validator runs only the v3 / v2 suites of those APIs: the v2-only
OMobilities rows (OG with ``sending_hei_id``) and IMobilities v1 rows (``receiving_hei_id``) do not apply.
The "another participant" rows (OI22, LU8, IM14) sign with a second EWP participant registered in the same
registry (its own client key and HEI), against the same node and data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from ewp_node.app import manifest_bytes
from ewp_node.config import HeiConfig, Settings
from ewp_node.manifest import build_manifest
from ewp_node.mobilities.build import (
    IMOBILITIES_GET,
    LAS_GET,
    LAS_INDEX,
    LAS_UPDATE_REQUEST,
    OMOBILITIES_GET,
    OMOBILITIES_INDEX,
    build_las_update_request,
    build_omobilities_update_request,
)
from ewp_node.mobilities.demo import demo_mobilities, load_demo_mobilities
from ewp_node.mobilities.records import Direction, Signature
from ewp_node.responses import serialize
from ewp_node.security.keys import public_key_b64
from ewp_node.xml import ns

HEI = "uni-a.example.eu"  # the node's covered HEI: the sending HEI of its outgoing mobilities
PARTNER = "partner.example.eu"  # the validator's HEI (its client key covers it)
SECOND = "validator-hei02.example.eu"  # a second EWP participant (its own key), with no mobilities with us
THIRD = "third.example.eu"  # a valid HEI the validator does not cover, with which we do have mobilities
VALIDATOR_HEI = "validator-hei01.developers.erasmuswithoutpaper.eu"
FAKE = "this-is-some-unknown-and-unexpected-id"
MAX = 3
FUTURE = f"{datetime.now(UTC).year + 20}-02-12T15:19:21+01:00"
#: (method, srvauth): the baseline HTTT and the HHTT extra, each as GET and POST.
COMBOS = [pytest.param(m, s, id=f"{m[0]}H{'H' if s else 'T'}TT") for s in (False, True) for m in ("GET", "POST")]
SIGNER = Signature(datetime(2026, 5, 9, 9, 0, tzinfo=UTC), "Validator Signer", "Coordinator",
                   "signer@partner.example.eu", "EWP validator")

PATHS = {"og": "/ewp/omobilities/get", "oi": "/ewp/omobilities/index", "ou": "/ewp/omobilities/update",
         "lg": "/ewp/omobility-las/get", "li": "/ewp/omobility-las/index", "lu": "/ewp/omobility-las/update",
         "ig": "/ewp/imobilities/get"}
OMOB_IDS = f"{{{OMOBILITIES_GET}}}student-mobility/{{{OMOBILITIES_GET}}}omobility-id"
OINDEX_IDS = f"{{{OMOBILITIES_INDEX}}}omobility-id"
LA_IDS = f"{{{LAS_GET}}}la/{{{LAS_GET}}}omobility-id"
LINDEX_IDS = f"{{{LAS_INDEX}}}omobility-id"
IMOB_IDS = f"{{{IMOBILITIES_GET}}}student-mobility/{{{IMOBILITIES_GET}}}omobility-id"


def _demo_ids(partner: str, direction: Direction) -> list[str]:
    return [m.omobility_id for m, _ in demo_mobilities(HEI, partner) if m.direction is direction]


PARTNER_OUT, PARTNER_IN = _demo_ids(PARTNER, Direction.OUTGOING), _demo_ids(PARTNER, Direction.INCOMING)
THIRD_OUT = _demo_ids(THIRD, Direction.OUTGOING)


@cache
def _second_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _register_second_participant(node) -> None:  # type: ignore[no-untyped-def]
    """Rebuild the node's registry with one more EWP host: ``SECOND``, with its own client key."""
    ctx = node.ctx
    manifests = [etree.fromstring(manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, h.id))
                 for h in ctx.settings.heis]
    hosts = ((node.partner_heis, "https://partner.test.example.eu", node.partner_key, node.partner_server_key),
             ((SECOND,), "https://second.test.example.eu", _second_key(), _second_key()))
    for heis, url, client, server in hosts:
        settings = Settings(home=ctx.settings.home, base_url=url,
                            heis=tuple(HeiConfig(id=h, names={"en": h}) for h in heis))
        keys = public_key_b64(client.public_key()), public_key_b64(server.public_key())
        manifests += [build_manifest(settings, [], hei, *keys) for hei in settings.heis]
    ctx.registry.set_manifests(manifests)


def _advertised_max(node, entry_ns: str, entry: str) -> int:  # type: ignore[no-untyped-def]
    """``max-omobility-ids`` of the API's manifest entry, 1 when absent (VALIDATOR.md notation)."""
    manifest = etree.fromstring(manifest_bytes(node.ctx.settings, node.ctx.client_key, node.ctx.server_key))
    [api] = manifest.iter(f"{{{entry_ns}}}{entry}")
    value = api.findtext(f"{{{entry_ns}}}max-omobility-ids")
    return int(value) if value else 1


@pytest.fixture
def probe(make_probe):  # type: ignore[no-untyped-def]
    """A node covering ``HEI`` with mobilities with ``PARTNER`` (the validator) and ``THIRD``; the validator's
    key covers ``PARTNER``; ``SECOND`` is another participant."""
    probe = make_probe(partner_heis=(PARTNER,), limits={"max-omobility-ids": MAX})
    load_demo_mobilities(probe.node.ctx.sessions, HEI, PARTNER)
    load_demo_mobilities(probe.node.ctx.sessions, HEI, THIRD)
    _register_second_participant(probe.node)
    return probe


@dataclass
class Validator:
    """One security combination of the validator against one endpoint."""

    probe: object
    method: str
    srvauth: bool
    path: str

    def send(self, params, *, second: bool = False):  # type: ignore[no-untyped-def]
        return self.probe.request(self.method, params, path=self.path, srvauth=self.srvauth,  # type: ignore[attr-defined]
                                  key=_second_key() if second else None)

    def ids(self, params, select: str, *, second: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
        """A 200 (XSD-valid: R14) and the ids the row's verifier selects."""
        reply = self.probe.exchange(self.send(params, second=second))  # type: ignore[attr-defined]
        assert reply.status == 200, (params, reply.status, reply.body)
        return [e.text or "" for e in reply.root.iterfind(select)]

    def fails(self, params, *mentions: str) -> None:  # type: ignore[no-untyped-def]
        """A 400 ``error-response`` whose developer message names ``mentions`` (the reason, not just any 400)."""
        self.probe.fails(self.send(params), 400, *mentions)  # type: ignore[attr-defined]


def _methods_refused(probe, path: str, params) -> None:  # type: ignore[no-untyped-def]
    for verb in ("PUT", "DELETE"):  # M1, M2
        assert probe.exchange(probe.request(verb, params, path=path)).status == 405, (verb, path)


# -- 9.1 OMobilities v3 get: OG1 + template 2.1 without hei (G2, G3, G5, G10, G12, G14, G16) ------------------------

def _ids_template_without_hei(v: Validator, k: str, top: int, ids_path: str) -> None:
    """Template 2.1 without a hei parameter and without codes (VALIDATOR.md 9.1 v3, 10 v2): 7 rows."""
    assert v.ids([("omobility_id", FAKE)], ids_path) == []  # G2
    if top > 1:
        assert v.ids([("omobility_id", k), ("omobility_id", FAKE)], ids_path) == [k]  # G3
    v.fails([], "required")  # G5
    v.fails([("omobility_id", k)] * (top + 1), "too many")  # G10
    v.fails([("omobility_id", FAKE)] * (top + 1), "too many")  # G12
    assert k in v.ids([("omobility_id", k)] * top, ids_path)  # G14
    v.fails([("omobility_id_param", k)], "required")  # G16


@pytest.mark.parametrize(("method", "srvauth"), COMBOS)
def test_omobilities_v3_get(probe, method, srvauth) -> None:  # type: ignore[no-untyped-def]
    top = _advertised_max(probe.node, ns.OMOBILITIES_ENTRY, "omobilities")
    index = Validator(probe, method, srvauth, PATHS["oi"])
    k = index.ids([], OINDEX_IDS)[0]  # the omobility_id comes from the index endpoint
    v = Validator(probe, method, srvauth, PATHS["og"])
    assert v.ids([("omobility_id", k)], OMOB_IDS) == [k]  # OG1
    _ids_template_without_hei(v, k, top, OMOB_IDS)
    if method == "POST":
        _methods_refused(probe, PATHS["og"], [("omobility_id", k)])


# -- 9.2 OMobilities v3 index: OI1' + template 2.3 and 2.2 without hei, and the v3 Complex suite (OX1-OX3) ----------

def _selected_year(probe, method, srvauth, path: str, params, year_path: str) -> str:  # type: ignore[no-untyped-def]
    """The Complex suites' selected mobility: its ``receiving-academic-year-id``, read through get."""
    reply = probe.exchange(probe.request(method, params, path=path, srvauth=srvauth))
    assert reply.status == 200, reply.body
    year = reply.root.findtext(year_path)
    assert year, reply.body
    return year


@pytest.mark.parametrize(("method", "srvauth"), COMBOS)
def test_omobilities_v3_index(probe, method, srvauth) -> None:  # type: ignore[no-untyped-def]
    v = Validator(probe, method, srvauth, PATHS["oi"])
    ids = v.ids([], OINDEX_IDS)
    assert ids, "OI1': the validator's partner has outgoing mobilities"  # OI1'
    assert set(ids) <= set(PARTNER_OUT)  # only the caller's: nothing of THIRD's
    _academic_year_rows(v, [], OINDEX_IDS)  # OI11'-OI13' (AY1-AY3)
    _modified_since_rows(v, [], OINDEX_IDS)  # OI14'-OI20' (MS1-MS7)
    # v3 Complex
    k = ids[0]
    year = _selected_year(probe, method, srvauth, PATHS["og"], [("omobility_id", k)],
                          f".//{{{OMOBILITIES_GET}}}receiving-academic-year-id")
    assert k in v.ids([], OINDEX_IDS)  # OX1
    assert k in v.ids([("receiving_academic_year_id", year)], OINDEX_IDS)  # OX2
    assert k in v.ids([("modified_since", "2000-02-12T15:19:21+01:00")], OINDEX_IDS)  # OX3
    if method == "POST":
        _methods_refused(probe, PATHS["oi"], [])


def _academic_year_rows(v: Validator, hei, select: str) -> None:  # type: ignore[no-untyped-def]
    """Template 2.3 (``hei``: the hei parameter prepended, or none)."""
    v.ids([*hei, ("receiving_academic_year_id", "2010/2011")], select)  # AY1 (OI11): 200
    v.fails([*hei, ("receiving_academic_year_id", "test/test")], "academic")  # AY2 (OI12): 400
    assert v.ids([*hei, ("receiving_academic_year_id", "1653/1654")], select) == []  # AY3 (OI13): 200 empty


def _modified_since_rows(v: Validator, hei, select: str) -> None:  # type: ignore[no-untyped-def]
    """Template 2.2 (``hei``: the hei parameter prepended, or none)."""
    v.fails([*hei, ("modified_since", "2004-02-12T15:19:21+01:00")] + [("modified_since", FUTURE)],
            "repeated")  # MS1 (OI14)
    assert v.ids([*hei, ("modified_since", FUTURE)], select) == []  # MS2 (OI15)
    assert v.ids([*hei, ("modified_since", "2000-02-12T15:19:21+01:00")], select) != []  # MS3 (OI16)
    v.ids([*hei, ("modified_since", "2004-02-12T15:19:21+01:00")], select)  # MS4 (OI17): 200
    v.fails([*hei, ("modified_since", FAKE)], "modified_since")  # MS5 (OI18)
    v.fails([*hei, ("modified_since", "2004-02-12")], "modified_since")  # MS6 (OI19)
    v.fails([*hei, ("modified_since", "05/29/2015 05:50")], "modified_since")  # MS7 (OI20)


# -- 9.3 OMobility LAs get: LG1 + template 2.1 with sending_hei_id, unknown hei -> 400 (12 checks) -------------------

@pytest.mark.parametrize(("method", "srvauth"), COMBOS)
def test_las_get(probe, method, srvauth) -> None:  # type: ignore[no-untyped-def]
    top = _advertised_max(probe.node, ns.OMOBILITY_LAS_ENTRY, "omobility-las")
    hei = ("sending_hei_id", HEI)
    k = Validator(probe, method, srvauth, PATHS["li"]).ids([hei], LINDEX_IDS)[0]
    v = Validator(probe, method, srvauth, PATHS["lg"])
    assert v.ids([hei, ("omobility_id", k)], LA_IDS) == [k]  # LG1
    assert v.ids([hei, ("omobility_id", FAKE)], LA_IDS) == []  # G2
    if top > 1:
        assert v.ids([hei, ("omobility_id", k), ("omobility_id", FAKE)], LA_IDS) == [k]  # G3
    v.fails([], "required")  # G5
    v.fails([("omobility_id", k)], "sending_hei_id")  # G6
    v.fails([hei], "omobility_id")  # G7
    v.fails([("sending_hei_id", FAKE), ("omobility_id", k)], "unknown")  # G8 (unknown hei -> 400)
    v.fails([hei] + [("omobility_id", k)] * (top + 1), "too many")  # G10
    v.fails([hei] + [("omobility_id", FAKE)] * (top + 1), "too many")  # G12
    assert k in v.ids([hei] + [("omobility_id", k)] * top, LA_IDS)  # G14
    v.fails([("omobility_id_param", k)], "required")  # G16
    v.fails([hei, hei, ("omobility_id", k)], "repeated")  # G18
    v.fails([hei, ("sending_hei_id", FAKE), ("omobility_id", k)], "repeated")  # G19
    if method == "POST":
        _methods_refused(probe, PATHS["lg"], [hei, ("omobility_id", k)])


# -- 9.3 OMobility LAs index: OI1-OI22 (as OMobilities index v2) and the Complex suite (OX1-OX3) ----------------------

@pytest.mark.parametrize(("method", "srvauth"), COMBOS)
def test_las_index(probe, method, srvauth) -> None:  # type: ignore[no-untyped-def]
    hei, fake_hei = ("sending_hei_id", HEI), ("sending_hei_id", FAKE)
    v = Validator(probe, method, srvauth, PATHS["li"])
    ids = v.ids([hei], LINDEX_IDS)
    assert ids  # OI1: 200 non-empty
    assert set(ids) <= set(PARTNER_OUT)  # only the caller's: nothing of THIRD's
    # OI2-OI10: template 2.4, responding = sending_hei_id, requesting = receiving_hei_id, unknown responding -> 400
    v.fails([hei, hei], "repeated")  # OI2 (RR1)
    v.fails([("receiving_hei_id", PARTNER)], "sending_hei_id")  # OI3 (RR2)
    v.fails([hei, fake_hei], "sending_hei_id")  # OI4 (RR3)
    v.fails([], "sending_hei_id")  # OI5 (RR4)
    assert v.ids([hei, ("receiving_hei_id", FAKE)], LINDEX_IDS) == []  # OI6 (RR5)
    assert v.ids([hei], LINDEX_IDS) != []  # OI7 (RR6)
    v.fails([fake_hei], "unknown")  # OI8 (RR7)
    assert v.ids([hei, ("receiving_hei_id", PARTNER), ("receiving_hei_id", FAKE)], LINDEX_IDS) != []  # OI9 (RR8)
    assert v.ids([hei, ("receiving_hei_id", FAKE), ("receiving_hei_id", FAKE)], LINDEX_IDS) == []  # OI10 (RR9)
    _academic_year_rows(v, [hei], LINDEX_IDS)  # OI11-OI13
    _modified_since_rows(v, [hei], LINDEX_IDS)  # OI14-OI20
    assert v.ids([hei, ("receiving_hei_id", THIRD)], LINDEX_IDS) == []  # OI21: no leak to non-partners
    assert v.ids([hei], LINDEX_IDS, second=True) == []  # OI22: another participant sees nothing
    # Complex
    k = ids[0]
    year = _selected_year(probe, method, srvauth, PATHS["lg"], [hei, ("omobility_id", k)],
                          f".//{{{LAS_GET}}}receiving-academic-year-id")
    assert k in v.ids([hei], LINDEX_IDS)  # OX1
    assert k in v.ids([hei, ("receiving_academic_year_id", year)], LINDEX_IDS)  # OX2
    assert k in v.ids([hei, ("modified_since", "2000-02-12T15:19:21+01:00")], LINDEX_IDS)  # OX3
    if method == "POST":
        _methods_refused(probe, PATHS["li"], [hei])


# -- 9.4 Update endpoints: LA approve/comment (LU1-LU13), OMobilities v3 approve/reject (OV1-OV6) ---------------------

def _xml(probe, path: str, document: etree._Element | bytes, *, srvauth: bool,  # type: ignore[no-untyped-def]
         second: bool = False):
    """POST an update request (``text/xml``) as the validator's (or the second participant's) client."""
    body = document if isinstance(document, bytes) else serialize(document)
    return probe.exchange(probe.request("POST", path=path, body=body, headers={"Content-Type": "text/xml"},
                                        srvauth=srvauth, key=_second_key() if second else None))


def _expect(reply, statuses: tuple[int, ...], mention: str = "") -> None:  # type: ignore[no-untyped-def]
    assert reply.status in statuses, (reply.status, reply.body)
    if reply.status != 200:
        assert mention.lower() in reply.developer_message.lower(), (mention, reply.developer_message)


def _without(document: etree._Element, local: str) -> etree._Element:
    for el in list(document.iter(f"{{{LAS_UPDATE_REQUEST}}}{local}")):
        el.getparent().remove(el)
    return document


def _pending_la(probe) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The update suite's setup: an omobility_id from the index whose LA (read through get) has a
    ``changes-proposal``, and that proposal's id."""
    hei = ("sending_hei_id", HEI)
    for k in Validator(probe, "GET", False, PATHS["li"]).ids([hei], LINDEX_IDS):
        reply = probe.exchange(probe.request("GET", [hei, ("omobility_id", k)], path=PATHS["lg"]))
        proposal = reply.root.find(f"{{{LAS_GET}}}la/{{{LAS_GET}}}changes-proposal")
        if proposal is not None:
            return k, proposal.get("id")
    raise AssertionError("no LA with a changes proposal")


@pytest.mark.parametrize("srvauth", [False, True], ids=["HTTT", "HHTT"])
def test_las_update(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    path = PATHS["lu"]
    k, proposal = _pending_la(probe)
    post = partial(_xml, probe, path, srvauth=srvauth)
    _expect(probe.exchange(probe.request("GET", path=path, srvauth=srvauth)), (405,))  # the GET combination

    def head() -> bytes:
        return (f'<omobility-las-update-request xmlns="{LAS_UPDATE_REQUEST}">'
                f"<sending-hei-id>{HEI}</sending-hei-id>").encode()

    _expect(post(head() + b"</omobility-las-update-request>"), (400,), "update element")  # LU1
    _expect(post(head() + b"</omobility-las-update-request>"), (400,), "update element")  # LU2
    _expect(post(head() + b"<test/></omobility-las-update-request>"), (400,), "update element")  # LU3

    def rows(comment: str | None) -> None:
        """LU4-LU8 (approve-proposal-v1, ``comment`` None), LU9-LU13 (comment-proposal-v1)."""
        def request(omobility_id: str = k, proposal_id: str = proposal) -> etree._Element:
            return build_las_update_request(HEI, omobility_id, proposal_id, SIGNER, comment=comment)

        _expect(post(request()), (200, 409), "changes proposal")  # LU4 / LU9: 200 or 409
        _expect(post(request(omobility_id=FAKE)), (400,), "no outgoing mobility")  # LU5 / LU10
        _expect(post(request(proposal_id=FAKE)), (409,), "changes proposal")  # LU6 / LU11
        _expect(post(_without(request(), "signature")), (400,), "signature")  # LU7 / LU12
        # LU8 / LU13: sent as another EWP participant
        _expect(post(request(), second=True), (400,), "no outgoing mobility")  # LU8 / LU13

    rows(None)  # LU4-LU8
    rows("test")  # LU9-LU13


@pytest.mark.parametrize("srvauth", [False, True], ids=["HTTT", "HHTT"])
def test_omobilities_update(probe, srvauth) -> None:  # type: ignore[no-untyped-def]
    path = PATHS["ou"]
    _expect(probe.exchange(probe.request("GET", path=path, srvauth=srvauth)), (405,))  # the GET combination
    k = Validator(probe, "GET", False, PATHS["oi"]).ids([], OINDEX_IDS)[0]
    reply = probe.exchange(probe.request("GET", [("omobility_id", k)], path=PATHS["og"]))
    nomination = reply.root.find(f"{{{OMOBILITIES_GET}}}student-mobility/{{{OMOBILITIES_GET}}}nomination")
    assert nomination is not None, reply.body
    proposal = nomination.get("proposal-id")
    post = partial(_xml, probe, path, srvauth=srvauth)
    for comment in (None, "test"):  # approve-proposal-v1 (OV1-OV3), reject-proposal-v1 (OV4-OV6)
        def request(omobility_id: str = k, proposal_id: str = proposal, comment: str | None = comment
                    ) -> etree._Element:
            return build_omobilities_update_request(omobility_id, proposal_id, reject_comment=comment)

        _expect(post(request()), (200,))  # OV1 / OV4
        _expect(post(request(omobility_id=FAKE)), (400,), "no outgoing mobility")  # OV2 / OV5
        _expect(post(request(proposal_id=FAKE)), (409,), "nomination")  # OV3 / OV6


# -- 9.5 CNRs for mobilities: POST only, with M1/M2 -------------------------------------------------------------------

@pytest.mark.parametrize("srvauth", [False, True], ids=["PHTTT", "PHHTT"])
@pytest.mark.parametrize(("path", "params", "root"), [
    ("/ewp/omobility-cnr", [("omobility_id", "1")], f"{{{ns.OMOBILITY_CNR}}}omobility-cnr-response"),
    ("/ewp/omobility-la-cnr", [("sending_hei_id", VALIDATOR_HEI), ("omobility_id", "1")],
     f"{{{ns.OMOBILITY_LA_CNR}}}omobility-la-cnr-response"),
    ("/ewp/imobility-cnr", [("omobility_id", "1")], f"{{{ns.IMOBILITY_CNR}}}imobility-cnr-response"),
], ids=["omobility-cnr", "omobility-la-cnr", "imobility-cnr"])
def test_mobility_cnrs(make_probe, srvauth, path, params, root) -> None:  # type: ignore[no-untyped-def]
    probe = make_probe(partner_heis=(VALIDATOR_HEI,))
    reply = probe.exchange(probe.request("POST", params, path=path, srvauth=srvauth))  # CNR 200 row
    assert reply.status == 200 and reply.root.tag == root, reply.body
    probe.fails(probe.request("POST", [], path=path, srvauth=srvauth), 400, "required")  # CNR no-params row
    _methods_refused(probe, path, params)  # M1, M2


# -- 10. Incoming Mobilities v2: IM1' + template 2.1 without hei (7 checks) + another participant ---------------------

@pytest.mark.parametrize(("method", "srvauth"), COMBOS)
def test_imobilities_v2_get(probe, method, srvauth) -> None:  # type: ignore[no-untyped-def]
    top = _advertised_max(probe.node, ns.IMOBILITIES_ENTRY, "imobilities")
    k = PARTNER_IN[0]  # the sending HEI's (the validator's) id of a student we receive
    v = Validator(probe, method, srvauth, PATHS["ig"])
    assert v.ids([("omobility_id", k)], IMOB_IDS) == [k]  # IM1'
    _ids_template_without_hei(v, k, top, IMOB_IDS)
    assert v.ids([("omobility_id", k)], IMOB_IDS, second=True) == []  # IM14': as another participant, 200 empty
    if method == "POST":
        _methods_refused(probe, PATHS["ig"], [("omobility_id", k)])


def test_manifest_declares_the_validated_majors(probe) -> None:  # type: ignore[no-untyped-def]
    """Which suites the validator picks (0.1): OMobilities v3, IMobilities v2, LAs v1, CNRs; all with the max."""
    manifest = etree.fromstring(manifest_bytes(probe.node.ctx.settings, probe.node.ctx.client_key,
                                               probe.node.ctx.server_key))
    for entry_ns, entry, major in ((ns.OMOBILITIES_ENTRY, "omobilities", "3"),
                                   (ns.IMOBILITIES_ENTRY, "imobilities", "2"),
                                   (ns.OMOBILITY_LAS_ENTRY, "omobility-las", "1")):
        [api] = manifest.iter(f"{{{entry_ns}}}{entry}")
        assert api.get("version").split(".")[0] == major
        assert _advertised_max(probe.node, entry_ns, entry) == MAX
