"""The validator's Incoming Mobility ToRs rows (VALIDATOR.md 11: TG1 + template 2.1 with the "unknown
receiving_hei_id -> 200 empty" G8 variant; TI1-TI19 with templates 2.4 and 2.2) for ToRs v3 and v2, over GET and
POST, plus M1/M2 (0.4), through the real security chain with the common response checks (R2, R4-R18): every 200
body validates against the official XSD. The IMobility ToR CNR (not covered by the validator) by its v2 README:
POST only, ``omobility_id`` (repeatable, required) its only parameter; v1's ``receiving_hei_id`` is gone (the
caller's key names the HEI).

Row ids: TG2-TG13 are the 12 template rows G2, G3, G5, G6, G7, G8, G10, G12, G14, G16, G18, G19 (no codes);
TI2-TI10 are RR1-RR9 and TI11-TI17 are MS1-MS7, in order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy import select

from ewp_node.app import manifest_bytes
from ewp_node.cnr.outbox import OutboxRow
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.mobilities.service import save_mobility
from ewp_node.tors.build import TORS_V2, TORS_V3, TorsMajor
from ewp_node.tors.fetches import TOR_FETCH
from ewp_node.tors.importer import FORMAT, read_document
from ewp_node.tors.service import issue_transcripts
from ewp_node.xml.ns import IMOBILITY_TOR_CNR, IMOBILITY_TORS_ENTRY, IMOBILITY_TORS_V2_ENTRY

H = "uni-b.example.eu"  # the receiving HEI this node covers (the data owner, "responding")
PARTNER = "uni-a.example.eu"  # the validator's HEI: the sending HEI of the student K
OTHER = "uni-other.example.eu"  # a sending HEI the caller does not cover ("not-permitted")
STRANGER = "stranger.example.eu"  # "another participant"
FAKE = "this-is-some-unknown-and-unexpected-id"
METHODS = ["GET", "POST"]
MAX = 3
VERSIONS = {"v3": ("/ewp/imobility-tors", TORS_V3, IMOBILITY_TORS_ENTRY),
            "v2": ("/ewp/imobility-tors-v2", TORS_V2, IMOBILITY_TORS_V2_ENTRY)}
CNR = "/ewp/imobility-tor-cnr"
TERM = {"title": "Winter semester 2026/2027", "start": "2026-09-01", "end": "2027-01-31"}
GRADES = [{"label": label, "count": count} for label, count in (("30", 4), ("27", 10), ("24", 6), ("18", 2))]


def _transcript(sending: str, omobility_id: str) -> dict:  # type: ignore[type-arg]
    courses = [{"code": f"LAW{i}", "title": f"Course LAW{i}", "isced_code": "0421", "ects": "6", "result": grade,
                "passed": True, "distribution": GRADES, "term": TERM, "date": "2027-01-20", "language": "en"}
               for i, grade in enumerate(("30", "24"))]
    return {"sending_hei_id": sending, "omobility_id": omobility_id, "courses": courses,
            "grading_schemes": [{"id": "IT-18-30", "description": "The IT-18-30 scale, best grade first"}]}


def _load(ctx) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One issued transcript per sending HEI (PARTNER, OTHER) at H: ``{sending: omobility_id}``."""
    ids = {}
    for sending in (PARTNER, OTHER):
        mobility, versions = next((m, v) for m, v in demo_mobilities(sending, H)
                                  if m.direction is Direction.OUTGOING and v and v[-1].receiving_signature)
        with ctx.sessions.begin() as session:
            save_mobility(session, replace(mobility, direction=Direction.INCOMING), versions)
        ids[sending] = mobility.omobility_id
    documents = [_transcript(sending, omobility_id) for sending, omobility_id in ids.items()]
    issue_transcripts(ctx, read_document({"format": FORMAT, "transcripts": documents}))
    return ids


def _probe(make_probe, caller: str):  # type: ignore[no-untyped-def]
    probe = make_probe(partner_heis=(caller,), heis=(H,), limits={"max-omobility-ids": MAX})
    probe.ids = _load(probe.node.ctx)
    return probe


@pytest.fixture
def probe(make_probe):  # type: ignore[no-untyped-def]
    """H's node with a transcript of PARTNER's student (K) and one of OTHER's; the validator signs as PARTNER."""
    return _probe(make_probe, PARTNER)


def _advertised_max(probe, entry_ns: str) -> int:  # type: ignore[no-untyped-def]
    """``<max-omobility-ids>`` of the API's manifest entry, as the validator reads it (1 if missing)."""
    ctx = probe.node.ctx
    manifest = etree.fromstring(manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, H))
    [entry] = manifest.iter(f"{{{entry_ns}}}imobility-tors")
    return int(entry.findtext(f"{{{entry_ns}}}max-omobility-ids") or 1)


class Api:
    """One ToRs major at one prober: ``get``/``index`` return the verifier's id list of a 200 reply."""

    def __init__(self, probe, version: str, method: str) -> None:  # type: ignore[no-untyped-def]
        self.probe, self.method = probe, method
        self.base, self.major, entry_ns = VERSIONS[version]
        self.max = _advertised_max(probe, entry_ns)

    def sent(self, endpoint: str, params, method: str | None = None):  # type: ignore[no-untyped-def]
        return self.probe.request(method or self.method, params, path=f"{self.base}/{endpoint}")

    def ids(self, endpoint: str, params) -> list[str]:  # type: ignore[no-untyped-def]
        reply = self.probe.exchange(self.sent(endpoint, params))  # R14: the XSD of this major
        assert reply.status == 200, (params, reply.status, reply.body)
        major: TorsMajor = self.major
        if endpoint == "get":  # verifier tor/omobility-id
            return [e.text or "" for e in reply.root.iterfind(f"{{{major.get_ns}}}tor/{{{major.get_ns}}}omobility-id")]
        return [e.text or "" for e in reply.root.iterfind(f"{{{major.index_ns}}}omobility-id")]  # omobility-id

    def get(self, *params: tuple[str, str]) -> list[str]:
        return self.ids("get", list(params))

    def index(self, *params: tuple[str, str]) -> list[str]:
        return self.ids("index", list(params))

    def bad(self, endpoint: str, *params: tuple[str, str], mentions: str = "") -> None:
        self.probe.fails(self.sent(endpoint, list(params)), 400, *([mentions] if mentions else []))


@pytest.fixture(params=list(VERSIONS))
def version(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


@pytest.mark.parametrize("method", METHODS)
def test_get_rows(probe, version, method) -> None:  # type: ignore[no-untyped-def]
    api = Api(probe, version, method)
    k = probe.ids[PARTNER]
    hei, rid = ("receiving_hei_id", H), "receiving_hei_id"
    assert api.max == MAX
    assert api.get(hei, ("omobility_id", k)) == [k]  # TG1
    assert api.get(hei, ("omobility_id", FAKE)) == []  # TG2 (G2)
    assert api.get(hei, ("omobility_id", k), ("omobility_id", FAKE)) == [k]  # TG3 (G3)
    api.bad("get", mentions=rid)  # TG4 (G5)
    api.bad("get", ("omobility_id", k), mentions=rid)  # TG5 (G6)
    api.bad("get", hei, mentions="omobility_id")  # TG6 (G7)
    assert api.get((rid, FAKE), ("omobility_id", k)) == []  # TG7 (G8 variant: unknown receiving_hei_id)
    api.bad("get", hei, *[("omobility_id", k)] * (api.max + 1), mentions="too many")  # TG8 (G10)
    api.bad("get", hei, *[("omobility_id", FAKE)] * (api.max + 1), mentions="too many")  # TG9 (G12)
    assert k in api.get(hei, *[("omobility_id", k)] * api.max)  # TG10 (G14)
    api.bad("get", ("omobility_id_param", k))  # TG11 (G16)
    api.bad("get", hei, hei, ("omobility_id", k), mentions=rid)  # TG12 (G18)
    api.bad("get", hei, (rid, FAKE), ("omobility_id", k), mentions=rid)  # TG13 (G19)


@pytest.mark.parametrize("method", METHODS)
def test_index_rows(probe, version, method) -> None:  # type: ignore[no-untyped-def]
    api = Api(probe, version, method)
    k, rid, sid = probe.ids[PARTNER], "receiving_hei_id", "sending_hei_id"
    hei = (rid, H)
    assert api.index(hei) == [k]  # TI1: non-empty, and only the caller's student
    api.bad("index", hei, hei, mentions=rid)  # TI2 (RR1)
    api.bad("index", (sid, PARTNER), mentions=rid)  # TI3 (RR2)
    api.bad("index", hei, (rid, FAKE), mentions=rid)  # TI4 (RR3)
    api.bad("index", mentions=rid)  # TI5 (RR4)
    assert api.index(hei, (sid, FAKE)) == []  # TI6 (RR5)
    assert api.index(hei) != []  # TI7 (RR6)
    assert api.index((rid, FAKE)) == []  # TI8 (RR7: unknown responding -> 200 empty)
    assert api.index(hei, (sid, PARTNER), (sid, FAKE)) == [k]  # TI9 (RR8)
    assert api.index(hei, (sid, FAKE), (sid, FAKE)) == []  # TI10 (RR9)
    api.bad("index", hei, *[("modified_since", "2004-02-12T15:19:21+01:00")] * 2, mentions="modified_since")  # TI11
    assert api.index(hei, ("modified_since", f"{datetime.now(UTC).year + 20}-02-12T15:19:21+01:00")) == []  # TI12
    assert api.index(hei, ("modified_since", "2000-02-12T15:19:21+01:00")) == [k]  # TI13 (MS3: non-empty)
    assert api.index(hei, ("modified_since", "2004-02-12T15:19:21+01:00")) == [k]  # TI14 (MS4: 200)
    for since in ("this-is-some-unknown-and-unexpected-id", "2004-02-12", "05/29/2015 05:50"):
        api.bad("index", hei, ("modified_since", since), mentions="modified_since")  # TI15, TI16, TI17
    assert api.index(hei, (sid, OTHER)) == []  # TI18: a sending HEI the caller may not see


@pytest.mark.parametrize("method", METHODS)
def test_another_participant_sees_nothing(make_probe, version, method) -> None:  # type: ignore[no-untyped-def]
    stranger = _probe(make_probe, STRANGER)
    api = Api(stranger, version, method)
    assert api.index(("receiving_hei_id", H)) == []  # TI19
    assert api.get(("receiving_hei_id", H), ("omobility_id", stranger.ids[PARTNER])) == []  # (as IM14)


@pytest.mark.parametrize("endpoint", ["get", "index"])
def test_put_and_delete_are_refused(probe, version, endpoint) -> None:  # type: ignore[no-untyped-def]
    api = Api(probe, version, "POST")
    params = [("receiving_hei_id", H), ("omobility_id", probe.ids[PARTNER])][: 2 if endpoint == "get" else 1]
    for verb in ("PUT", "DELETE"):  # M1, M2
        probe.fails(api.sent(endpoint, params, verb), 405)


# -- IMobility ToR CNR v2 (POST only; omobility_id repeatable, required; no receiving_hei_id any more) ---------

@pytest.fixture
def cnr_probe(make_probe):  # type: ignore[no-untyped-def]
    """PARTNER's node (the sending HEI) notified by H (the receiving HEI, which issued the transcripts)."""
    return make_probe(heis=(PARTNER,), partner_heis=(H,))


def _queued(probe) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    with probe.node.ctx.sessions() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    return [(r.kind, r.owner_hei, r.partner_hei, r.object_id) for r in rows]


def test_tor_cnr_accepts_its_parameters(cnr_probe) -> None:  # type: ignore[no-untyped-def]
    params = [("omobility_id", "m-1"), ("omobility_id", "m-2")]
    reply = cnr_probe.exchange(cnr_probe.request("POST", params, path=CNR))  # R14: the CNR response XSD
    assert reply.status == 200, reply.body
    assert reply.root.tag == f"{{{IMOBILITY_TOR_CNR}}}imobility-tor-cnr-response" and len(reply.root) == 0
    assert _queued(cnr_probe) == [(TOR_FETCH, PARTNER, H, "m-1"), (TOR_FETCH, PARTNER, H, "m-2")]
    reply = cnr_probe.exchange(cnr_probe.request("POST", [("omobility_id", FAKE)], path=CNR))
    assert reply.status == 200  # unknown ids are not a bad request (DIGEST.md 1, CNR semantics)


@pytest.mark.parametrize("params", [[], [("receiving_hei_id", H)]], ids=["none", "only-v1-receiving_hei_id"])
def test_tor_cnr_refuses_a_notification_without_ids(cnr_probe, params) -> None:  # type: ignore[no-untyped-def]
    cnr_probe.fails(cnr_probe.request("POST", params, path=CNR), 400, "omobility_id")
    assert _queued(cnr_probe) == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_tor_cnr_is_post_only(cnr_probe, method) -> None:  # type: ignore[no-untyped-def]
    cnr_probe.fails(cnr_probe.request(method, [("omobility_id", "m-1")], path=CNR), 405)  # POST only; M1, M2
    assert _queued(cnr_probe) == []
