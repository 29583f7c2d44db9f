"""The validator's IIA rows (VALIDATOR.md 8.1 IG1-IG9, 8.2 II1-II9, 8.3 IC1-IC2, M1-M2) over GET and POST,
through the real security chain with the common response checks (R2, R4-R18); every 200 body validates
against the official v7 XSDs. Approval API v2 and Approval CNR v2 (not covered by the validator) by the spec.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ewp_node.cnr import OutboxRow
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.validate import check_iia
from ewp_node.xml import ns

HEI, PARTNER, OTHER = "uni-a.example.eu", "partner.example.eu", "other.example.eu"
STATS_PORTAL = "stats.erasmuswithoutpaper.eu"
FAKE = "this-is-some-unknown-and-unexpected-id"
METHODS = ["GET", "POST"]
MAX = 3
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _raw(iia_id: str, partner: str, first: str = "2025/2026", last: str = "2027/2028") -> dict:  # type: ignore[type-arg]
    return {"partners": [{"hei_id": HEI, "iia_id": iia_id, "iia_code": f"A/{iia_id}"},
                         {"hei_id": partner}],
            "in_effect": False,
            "conditions": [{"kind": "student-studies-mobility-spec", "sending_hei_id": HEI, "receiving_hei_id": partner,
                            "receiving_first_academic_year_id": first, "receiving_last_academic_year_id": last,
                            "mobilities_per_year": 2, "recommended_language_skills": [{"language": "en"}],
                            "blended": False},
                           {"kind": "staff-training-mobility-spec", "sending_hei_id": partner,
                            "receiving_hei_id": HEI, "receiving_first_academic_year_id": first,
                            "receiving_last_academic_year_id": first, "mobilities_per_year": 1}]}


def _load(node, *raws) -> None:  # type: ignore[no-untyped-def]
    with node.ctx.sessions.begin() as session:
        for raw in raws:
            service.create(session, HEI, check_iia(copy.deepcopy(raw)), T0)


@pytest.fixture
def probe(make_probe):  # type: ignore[no-untyped-def]
    probe = make_probe(limits={"max-iia-ids": MAX})
    _load(probe.node, _raw("iia-1", PARTNER), _raw("iia-2", PARTNER, "2030/2031", "2030/2031"), _raw("iia-9", OTHER))
    return probe


def _ids(reply, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.text for e in reply.root.iterfind(path)]


GET_IDS = f"{{{ns.IIAS_GET}}}iia/{{{ns.IIAS_GET}}}partner[1]/{{{ns.IIAS_GET}}}iia-id"
INDEX_IDS = f"{{{ns.IIAS_INDEX}}}iia-id"


@pytest.mark.parametrize("method", METHODS)
def test_get_rows(probe, method) -> None:  # type: ignore[no-untyped-def]
    def get(params) -> list[str]:  # type: ignore[no-untyped-def]
        reply = probe.exchange(probe.request(method, params, path="/ewp/iias/get"))
        assert reply.status == 200, reply.body
        return _ids(reply, GET_IDS)

    assert get([("iia_id", "iia-1")]) == ["iia-1"]  # IG1
    assert get([("iia_id", FAKE)]) == []  # IG2
    assert get([("iia_id", "iia-1"), ("iia_id", FAKE)]) == ["iia-1"]  # IG3
    probe.fails(probe.request(method, [], path="/ewp/iias/get"), 400, "iia_id")  # IG4
    probe.fails(probe.request(method, [("iia_id", "iia-1")] * (MAX + 1), path="/ewp/iias/get"), 400, "too many")
    probe.fails(probe.request(method, [("iia_id", FAKE)] * (MAX + 1), path="/ewp/iias/get"), 400, "too many")
    assert "iia-1" in get([("iia_id", "iia-1")] * MAX)  # IG7
    probe.fails(probe.request(method, [("iia_id_param", "iia-1")], path="/ewp/iias/get"), 400, "iia_id")  # IG8
    assert get([("iia_id", "iia-9")]) == []  # another partner's IIA is invisible
    assert get([("iia_id", "iia-1"), ("extra", "ignored")]) == ["iia-1"]  # extra unknown parameters ignored


@pytest.mark.parametrize("method", METHODS)
def test_get_serves_the_hash_of_what_it_serves(probe, method) -> None:  # type: ignore[no-untyped-def]
    reply = probe.exchange(probe.request(method, [("iia_id", "iia-1"), ("iia_id", "iia-2")], path="/ewp/iias/get"))
    iias = reply.root.findall(f"{{{ns.IIAS_GET}}}iia")
    assert len(iias) == 2
    for iia in iias:  # IG9
        assert iia.findtext(f"{{{ns.IIAS_GET}}}iia-hash") == hash_iia(iia).sha256
        assert iia.findtext(f"{{{ns.IIAS_GET}}}partner[1]/{{{ns.IIAS_GET}}}hei-id") == HEI  # we are the first partner


@pytest.mark.parametrize("method", METHODS)
def test_index_rows(probe, method) -> None:  # type: ignore[no-untyped-def]
    def index(params) -> list[str]:  # type: ignore[no-untyped-def]
        reply = probe.exchange(probe.request(method, params, path="/ewp/iias/index"))
        assert reply.status == 200, reply.body
        return _ids(reply, INDEX_IDS)

    assert index([]) == ["iia-1", "iia-2"]  # II1, II5: only the caller's IIAs
    assert index([("receiving_academic_year_id", "2010/2011")]) == []  # II2
    probe.fails(probe.request(method, [("receiving_academic_year_id", "test/test")], path="/ewp/iias/index"),
                400, "receiving_academic_year_id")  # II3
    probe.fails(probe.request(method, [("modified_since", "2004-02-12T15:19:21+01:00")] * 2,
                              path="/ewp/iias/index"), 400, "modified_since")  # II4
    assert index([("receiving_academic_year_id", "2026/2027")]) == ["iia-1"]  # II6
    assert index([("receiving_academic_year_id", "2026/2027"),
                  ("receiving_academic_year_id", "2030/2031")]) == ["iia-1", "iia-2"]
    assert index([("receiving_academic_year_id", "2028/2029")]) == []  # a gap between the two IIAs' years
    assert index([("receiving_academic_year_id", "1653/1654")]) == []  # II7
    assert index([("modified_since", f"{datetime.now(UTC).year + 5}-02-12T15:19:21+01:00")]) == []  # II8
    assert index([("modified_since", "2000-02-12T15:19:21+01:00")]) == ["iia-1", "iia-2"]  # II9
    probe.fails(probe.request(method, [("modified_since", "2000-02-12")], path="/ewp/iias/index"), 400,
                "modified_since")  # a date without time


@pytest.mark.parametrize("method", METHODS)
def test_stats_only_for_the_stats_portal(make_probe, probe, method) -> None:  # type: ignore[no-untyped-def]
    probe.fails(probe.request(method, [], path="/ewp/iias/stats"), 403, STATS_PORTAL)
    portal = make_probe(partner_heis=(STATS_PORTAL,))
    _load(portal.node, _raw("iia-1", PARTNER), _raw("iia-2", OTHER))
    reply = portal.exchange(portal.request(method, [], path="/ewp/iias/stats"))
    assert reply.status == 200, reply.body
    assert reply.root.findtext(f"{{{ns.IIAS_STATS}}}iia-fetchable") == "2"
    assert reply.root.findtext(f"{{{ns.IIAS_STATS}}}iia-both-approved") == "0"


def _approve_partner_copy(node, iia_id: str, partner_iia_id: str) -> str:  # type: ignore[no-untyped-def]
    """Map our ``iia_id`` to the partner's ``partner_iia_id``, store the partner's copy, approve it."""
    from ewp_node.iias.build import build_get_response, build_iia
    from ewp_node.iias.parse import parse_get_response
    from ewp_node.responses import serialize

    with node.ctx.sessions.begin() as session:
        service.map_partner_id(session, HEI, iia_id, partner_iia_id, T0)
        ours = repo.record_of(repo.find(session, HEI, iia_id))
        theirs = replace(ours, partners=(replace(ours.partner, iia_id=partner_iia_id), ours.owner))
        document = serialize(build_get_response([build_iia(theirs, hash_iia(build_iia(theirs, None)).sha256)]))
        [received] = parse_get_response(document)
        service.save_partner_copy(session, HEI, PARTNER, received, T0)
        return service.approve_partner_copy(session, HEI, iia_id, "operator", T0)


APPROVAL = f"{{{ns.IIAS_APPROVAL}}}approval"


@pytest.mark.parametrize("method", METHODS)
def test_approval_api(probe, method) -> None:  # type: ignore[no-untyped-def]
    approved = _approve_partner_copy(probe.node, "iia-1", "p-1")

    def approvals(params) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
        reply = probe.exchange(probe.request(method, params, path="/ewp/iias-approval"))
        assert reply.status == 200, reply.body
        return [(a.findtext(f"{{{ns.IIAS_APPROVAL}}}iia-id"), a.findtext(f"{{{ns.IIAS_APPROVAL}}}iia-hash"))
                for a in reply.root.iterfind(APPROVAL)]

    assert approvals([("iia_id", "p-1")]) == [("p-1", approved)]  # the caller's id, the hash we approved
    assert approvals([("iia_id", FAKE), ("iia_id", "p-1")]) == [("p-1", approved)]
    assert approvals([("iia_id", "iia-1")]) == []  # our id is not the caller's
    probe.fails(probe.request(method, [], path="/ewp/iias-approval"), 400, "iia_id")
    probe.fails(probe.request(method, [("iia_id", "p-1")] * 101, path="/ewp/iias-approval"), 400, "too many")


@pytest.mark.parametrize(("path", "kind", "root"), [
    ("/ewp/iia-cnr", "iia-fetch", f"{{{ns.IIA_CNR}}}iia-cnr-response"),
    ("/ewp/iia-approval-cnr", "iia-approval-fetch", f"{{{ns.IIA_APPROVAL_CNR}}}iia-approval-cnr-response"),
])
def test_cnr_receivers(probe, path, kind, root) -> None:  # type: ignore[no-untyped-def]
    reply = probe.exchange(probe.request("POST", [("iia_id", "iia-1")], path=path))  # IC1
    assert reply.status == 200 and reply.root.tag == root and len(reply.root) == 0
    probe.exchange(probe.request("POST", [("iia_id", "iia-1")], path=path))  # a repeat merges
    probe.fails(probe.request("POST", [], path=path), 400, "iia_id")  # IC2
    probe.fails(probe.request("POST", [("iia_id", "x" * 65)], path=path), 400, "identifier")
    probe.fails(probe.request("POST", [("iia_id", "a"), ("iia_id", "b")], path=path), 400, "repeated")
    for method in ("GET", "PUT", "DELETE"):  # POST only; M1, M2
        assert probe.send(probe.request(method, [("iia_id", "iia-1")], path=path)).status_code == 405
    reply = probe.exchange(probe.request("POST", [("iia_id", FAKE)], path=path))
    assert reply.status == 200
    with probe.node.ctx.sessions() as session:
        queued = [(r.kind, r.owner_hei, r.partner_hei, r.object_id)
                  for r in session.scalars(select(OutboxRow).where(OutboxRow.kind == kind).order_by(OutboxRow.id))]
    expected = [(kind, HEI, PARTNER, "iia-1")] + ([(kind, HEI, PARTNER, FAKE)] if kind == "iia-fetch" else [])
    assert queued == expected  # an approval CNR counts only for our copies shared with the caller


def test_validator_cnrs_are_acknowledged_without_side_effects(make_probe) -> None:  # type: ignore[no-untyped-def]
    probe = make_probe(partner_heis=("validator-hei01.developers.erasmuswithoutpaper.eu",))
    for path in ("/ewp/iia-cnr", "/ewp/iia-approval-cnr"):
        assert probe.exchange(probe.request("POST", [("iia_id", "1")], path=path)).status == 200  # IC1
    with probe.node.ctx.sessions() as session:
        assert session.scalars(select(OutboxRow)).all() == []


@pytest.mark.parametrize("method", METHODS)
def test_put_and_delete_are_refused(probe, method) -> None:  # type: ignore[no-untyped-def]
    for path in ("/ewp/iias/get", "/ewp/iias/index", "/ewp/iias/stats", "/ewp/iias-approval"):
        for verb in ("PUT", "DELETE"):
            assert probe.send(probe.request(verb, [("iia_id", "iia-1")], path=path)).status_code == 405


def test_multi_hei_node_serves_iias_per_hei(make_probe) -> None:  # type: ignore[no-untyped-def]
    probe = make_probe(heis=(HEI, "uni-b.example.eu"))
    _load(probe.node, _raw("iia-1", PARTNER))
    reply = probe.exchange(probe.request("GET", [("iia_id", "iia-1")], path=f"/hei/{HEI}/ewp/iias/get"))
    assert _ids(reply, GET_IDS) == ["iia-1"]
    other = probe.exchange(probe.request("GET", [("iia_id", "iia-1")], path="/hei/uni-b.example.eu/ewp/iias/get"))
    assert _ids(other, GET_IDS) == []
    probe.fails(probe.request("GET", [("iia_id", "iia-1")], path="/ewp/iias/get"), 404, "/hei/")
