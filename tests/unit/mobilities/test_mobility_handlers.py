"""OMobilities v3, OMobility LAs v1.2, IMobilities v2 and the mobility CNRs against a running node, GET and
POST, with the validator's rows (VALIDATOR.md 2.1-2.4, 9, 10). Every answer is validated against the official
XSDs by the node itself (``settings.specs_dir``) and again here."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from lxml import etree
from sqlalchemy import select

from ewp_node.cnr.outbox import OutboxRow
from ewp_node.mobilities import service
from ewp_node.mobilities.build import (
    IMOBILITIES_GET,
    LAS_GET,
    LAS_INDEX,
    LAS_STATS,
    LAS_UPDATE_REQUEST,
    OMOBILITIES_GET,
    OMOBILITIES_INDEX,
    build_las_update_request,
    build_omobilities_update_request,
)
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction, LearningAgreement, ProposalState, Signature
from ewp_node.responses import serialize
from ewp_node.xml.ns import q

from .conftest import HEI, PARTNER_HEI, outgoing_with

FAKE = "this-is-some-unknown-and-unexpected-id"
OTHER_HEI = "other.example.eu"
STATS_HEI = "stats.erasmuswithoutpaper.eu"
METHODS = ["GET", "POST"]
SIGNER = Signature(datetime(2026, 5, 9, 9, 0, tzinfo=UTC), "Piotr Zieliński", "Coordinator", "p@partner.example.eu",
                   "tests")
OUTGOING = [m.omobility_id for m, _ in demo_mobilities(HEI, PARTNER_HEI) if m.direction is Direction.OUTGOING]
INCOMING = [m.omobility_id for m, _ in demo_mobilities(HEI, PARTNER_HEI) if m.direction is Direction.INCOMING]
K = OUTGOING[0]


@pytest.fixture
def node(mobility_node):  # type: ignore[no-untyped-def]
    return mobility_node()


def _ok(response, validate_official) -> etree._Element:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data
    validate_official(response.data)
    return etree.fromstring(response.data)


def _error(response, status: int, fragment: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.data
    validate_official(response.data)
    assert fragment in response.data.decode(), response.data


def _ids(root: etree._Element, path: str) -> list[str]:
    return [el.text or "" for el in root.iterfind(path)]


def _xml_post(node, path: str, body: bytes):  # type: ignore[no-untyped-def]
    return node.call("POST", path, body=body, headers={"Content-Type": "text/xml"})


OMOB_ID = f"{{{OMOBILITIES_GET}}}student-mobility/{{{OMOBILITIES_GET}}}omobility-id"
LA_ID = f"{{{LAS_GET}}}la/{{{LAS_GET}}}omobility-id"


# -- OMobilities v3 get (OG1, G2, G3, G5, G10, G12, G14, G16) and index ---------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_omobilities_get(node, method, validate_official):  # type: ignore[no-untyped-def]
    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/omobilities/get", params), validate_official), OMOB_ID)

    assert ids([("omobility_id", K)]) == [K]
    assert ids([("omobility_id", FAKE)]) == []
    assert ids([("omobility_id", K), ("omobility_id", FAKE)]) == [K]
    assert ids([("omobility_id", K)] * 3) == [K]
    assert ids([("omobility_id", i) for i in INCOMING]) == []  # incoming ones are not ours to nominate
    _error(node.call(method, "/ewp/omobilities/get", []), 400, "'omobility_id' is required", validate_official)
    _error(node.call(method, "/ewp/omobilities/get", [("omobility_id", K)] * 4), 400, "too many", validate_official)
    _error(node.call(method, "/ewp/omobilities/get", [("omobility_id", FAKE)] * 4), 400, "too many",
           validate_official)
    _error(node.call(method, "/ewp/omobilities/get", [("omobility_id_param", K)]), 400, "required", validate_official)


@pytest.mark.parametrize("method", METHODS)
def test_omobilities_index(node, method, validate_official):  # type: ignore[no-untyped-def]
    path = f"{{{OMOBILITIES_INDEX}}}omobility-id"

    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/omobilities/index", params), validate_official), path)

    assert ids([]) == OUTGOING
    assert ids([("receiving_academic_year_id", "2026/2027")]) == OUTGOING
    assert ids([("receiving_academic_year_id", "2010/2011")]) == []
    assert ids([("receiving_academic_year_id", "1653/1654")]) == []
    assert ids([("modified_since", "2000-02-12T15:19:21+01:00")]) == OUTGOING
    assert ids([("modified_since", f"{datetime.now(UTC).year + 20}-02-12T15:19:21+01:00")]) == []
    for bad in ([("receiving_academic_year_id", "test/test")], [("modified_since", "FAKE")],
                [("modified_since", "2004-02-12")], [("modified_since", "05/29/2015 05:50")],
                [("modified_since", "2004-02-12T15:19:21+01:00")] * 2):
        assert node.call(method, "/ewp/omobilities/index", bad).status_code == 400


def test_other_participants_see_nothing(mobility_node, validate_official):  # type: ignore[no-untyped-def]
    other = mobility_node(partner_heis=(OTHER_HEI,))
    assert _ids(_ok(other.call("GET", "/ewp/omobilities/get", [("omobility_id", K)]), validate_official),
                OMOB_ID) == []
    assert len(_ok(other.call("GET", "/ewp/omobilities/index", []), validate_official)) == 0
    assert _ids(_ok(other.call("GET", "/ewp/omobility-las/get", [("sending_hei_id", HEI), ("omobility_id", K)]),
                    validate_official), LA_ID) == []
    assert len(_ok(other.call("GET", "/ewp/omobility-las/index", [("sending_hei_id", HEI)]), validate_official)) == 0
    assert len(_ok(other.call("GET", "/ewp/imobilities/get", [("omobility_id", INCOMING[0])]),
                   validate_official)) == 0
    mobility, (proposal,) = outgoing_with(ProposalState.PENDING)
    _error(_xml_post(other, "/ewp/omobility-las/update", serialize(build_las_update_request(
        HEI, mobility.omobility_id, proposal.proposal_id, SIGNER))), 400, "no outgoing mobility", validate_official)
    _error(_xml_post(other, "/ewp/omobilities/update", serialize(build_omobilities_update_request(
        mobility.omobility_id, mobility.nomination.proposal_id))), 400, "no outgoing mobility", validate_official)
    _error(other.call("GET", "/ewp/omobility-las/stats"), 403, "Stats Portal", validate_official)
    _error(other.call("POST", "/ewp/omobility-la-cnr/stats"), 403, "Stats Portal", validate_official)


# -- OMobilities v3 update (OV1-OV6) -------------------------------------------------------------------------------

def _nomination(node, omobility_id: str) -> etree._Element:  # type: ignore[no-untyped-def]
    response = node.call("GET", "/ewp/omobilities/get", [("omobility_id", omobility_id)])
    [mobility] = etree.fromstring(response.data)
    return mobility


def test_omobilities_update(node, validate_official):  # type: ignore[no-untyped-def]
    nomination = _nomination(node, K)
    proposal_id = nomination.find(q(OMOBILITIES_GET, "nomination")).get("proposal-id")
    assert nomination.findtext(q(OMOBILITIES_GET, "status")) == "pending"

    def update(omobility_id: str, proposal: str, comment: str | None = None):  # type: ignore[no-untyped-def]
        body = serialize(build_omobilities_update_request(omobility_id, proposal, reject_comment=comment))
        return _xml_post(node, "/ewp/omobilities/update", body)

    _error(update(K, FAKE), 409, "not the current nomination", validate_official)
    _error(update(FAKE, proposal_id), 400, "no outgoing mobility", validate_official)
    assert etree.tostring(_nomination(node, K)) == etree.tostring(nomination)  # refused: unchanged
    assert _queued(node) == []
    _ok(update(K, proposal_id), validate_official)
    assert _queued(node) == [("omobility-cnr", HEI, PARTNER_HEI, K)]
    assert _nomination(node, K).findtext(q(OMOBILITIES_GET, "status")) == "approved"
    _ok(update(K, proposal_id, "no more places"), validate_official)
    rejected = _nomination(node, K)
    assert rejected.findtext(q(OMOBILITIES_GET, "status")) == "rejected"
    assert rejected.findtext(f"{q(OMOBILITIES_GET, 'nomination')}/{q(OMOBILITIES_GET, 'comment')}") == \
        "no more places"
    _error(update(FAKE, FAKE, "x"), 400, "no outgoing mobility", validate_official)
    _error(node.call("GET", "/ewp/omobilities/update"), 405, "", validate_official)
    _error(_xml_post(node, "/ewp/omobilities/update", b"<x/>"), 400, "invalid update request", validate_official)


# -- OMobility LAs get (LG1 + template 2.1 with sending_hei_id) and index (template 2.4) ----------------------------

@pytest.mark.parametrize("method", METHODS)
def test_las_get(node, method, validate_official):  # type: ignore[no-untyped-def]
    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/omobility-las/get", params), validate_official), LA_ID)

    hei = ("sending_hei_id", HEI)
    assert ids([hei, ("omobility_id", K)]) == [K]
    assert ids([hei, ("omobility_id", FAKE)]) == []
    assert ids([hei, ("omobility_id", K), ("omobility_id", FAKE)]) == [K]
    assert ids([hei] + [("omobility_id", i) for i in OUTGOING]) == OUTGOING
    for params, message in (([], "required"), ([("omobility_id", K)], "'sending_hei_id' is required"),
                            ([hei], "'omobility_id' is required"),
                            ([("sending_hei_id", FAKE), ("omobility_id", K)], "unknown sending_hei_id"),
                            ([hei] + [("omobility_id", K)] * 4, "too many"),
                            ([hei, hei, ("omobility_id", K)], "must not be repeated"),
                            ([hei, ("sending_hei_id", FAKE), ("omobility_id", K)], "must not be repeated"),
                            ([hei, ("omobility_id_param", K)], "required")):
        _error(node.call(method, "/ewp/omobility-las/get", params), 400, message, validate_official)


@pytest.mark.parametrize("method", METHODS)
def test_las_index(node, method, validate_official):  # type: ignore[no-untyped-def]
    path = f"{{{LAS_INDEX}}}omobility-id"
    hei = ("sending_hei_id", HEI)

    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/omobility-las/index", params), validate_official), path)

    assert ids([hei]) == OUTGOING
    assert ids([hei, ("receiving_hei_id", FAKE)]) == []
    assert ids([hei, ("receiving_hei_id", PARTNER_HEI), ("receiving_hei_id", FAKE)]) == OUTGOING
    assert ids([hei, ("receiving_hei_id", FAKE), ("receiving_hei_id", FAKE)]) == []
    assert ids([hei, ("receiving_academic_year_id", "2026/2027")]) == OUTGOING
    assert ids([hei, ("modified_since", "2000-02-12T15:19:21+01:00")]) == OUTGOING
    student = demo_mobilities(HEI, PARTNER_HEI)[1][0].student.global_id
    assert ids([hei, ("global_id", student)]) == [OUTGOING[1]]
    for bad in ([hei, hei], [("receiving_hei_id", PARTNER_HEI)], [hei, ("sending_hei_id", FAKE)], [],
                [("sending_hei_id", FAKE)], [hei, ("receiving_academic_year_id", "test/test")],
                [hei, ("modified_since", "2004-02-12")]):
        assert node.call(method, "/ewp/omobility-las/index", bad).status_code == 400, bad


# -- OMobility LAs update (LU1-LU13): the approval is visible at once -----------------------------------------------

def _la(node, omobility_id: str) -> etree._Element:  # type: ignore[no-untyped-def]
    response = node.call("GET", "/ewp/omobility-las/get", [("sending_hei_id", HEI), ("omobility_id", omobility_id)])
    [la] = etree.fromstring(response.data)
    return la


def test_las_update(node, validate_official):  # type: ignore[no-untyped-def]
    mobility, (proposal,) = outgoing_with(ProposalState.PENDING)
    omobility_id = mobility.omobility_id
    before = _la(node, omobility_id)
    assert before.find(q(LAS_GET, "changes-proposal")).get("id") == proposal.proposal_id
    assert before.find(q(LAS_GET, "first-version")) is None

    def body(proposal_id: str, comment: str | None = None, *, sending: str = HEI, target: str = omobility_id
             ) -> bytes:
        return serialize(build_las_update_request(sending, target, proposal_id, SIGNER, comment=comment))

    def update(proposal_id: str, comment: str | None = None, **kwargs: str):  # type: ignore[no-untyped-def]
        return _xml_post(node, "/ewp/omobility-las/update", body(proposal_id, comment, **kwargs))

    ns = LAS_GET
    request = f'<omobility-las-update-request xmlns="{LAS_UPDATE_REQUEST}"><sending-hei-id>{HEI}</sending-hei-id>'
    _error(_xml_post(node, "/ewp/omobility-las/update", (request + "</omobility-las-update-request>").encode()),
           400, "no known update element", validate_official)
    _error(_xml_post(node, "/ewp/omobility-las/update", (request + "<test/></omobility-las-update-request>")
                     .encode()), 400, "no known update element", validate_official)
    unsigned = body(proposal.proposal_id).replace(b"signature", b"unsigned")
    _error(_xml_post(node, "/ewp/omobility-las/update", unsigned), 400, "signature&gt; is required",
           validate_official)
    _error(update(proposal.proposal_id, target=FAKE), 400, "no outgoing mobility", validate_official)
    _error(update(proposal.proposal_id, sending=FAKE), 400, "sending-hei-id", validate_official)
    _error(update(FAKE), 409, "not the current changes proposal", validate_official)
    _error(update(FAKE, "test"), 409, "not the current changes proposal", validate_official)
    assert etree.tostring(_la(node, omobility_id)) == etree.tostring(before)  # refused: unchanged
    assert _queued(node) == []
    _error(node.call("GET", "/ewp/omobility-las/update"), 405, "", validate_official)

    _ok(update(proposal.proposal_id), validate_official)
    after = _la(node, omobility_id)
    first = after.find(q(ns, "first-version"))
    assert after.find(q(ns, "changes-proposal")) is None and first is not None
    assert first.findtext(f"{q(ns, 'receiving-hei-signature')}/{q(ns, 'signer-name')}") == SIGNER.signer_name
    assert _queued(node) == [("omobility-la-cnr", HEI, PARTNER_HEI, omobility_id)]
    _error(update(proposal.proposal_id, "too late"), 409, "not the current changes proposal", validate_official)


def test_las_comment(node, validate_official):  # type: ignore[no-untyped-def]
    mobility, (proposal,) = outgoing_with(ProposalState.PENDING)
    body = serialize(build_las_update_request(HEI, mobility.omobility_id, proposal.proposal_id, SIGNER,
                                              comment="please add a course"))
    _ok(_xml_post(node, "/ewp/omobility-las/update", body), validate_official)
    la = _la(node, mobility.omobility_id)
    assert la.find(q(LAS_GET, "changes-proposal")) is None and la.find(q(LAS_GET, "first-version")) is None


def test_las_stats_for_the_stats_portal_only(mobility_node, validate_official):  # type: ignore[no-untyped-def]
    portal = mobility_node(partner_heis=(STATS_HEI,))
    mobility, versions = outgoing_with(ProposalState.APPROVED)
    theirs = replace(mobility, omobility_id="their-1", sending=replace(mobility.sending, hei_id=PARTNER_HEI),
                     receiving=replace(mobility.receiving, hei_id=HEI))
    service.receive_partner_las(portal.ctx.sessions, PARTNER_HEI, {HEI},
                                [(LearningAgreement(theirs, versions), b"<la/>")])
    for method in METHODS:
        [year] = _ok(portal.call(method, "/ewp/omobility-las/stats"), validate_official)
        assert [el.text for el in year] == ["2026/2027", "3", "1", "0", "1", "0", "2"]
        assert year.tag == q(LAS_STATS, "academic-year-la-stats")
        [year] = _ok(portal.call(method, "/ewp/omobility-la-cnr/stats"), validate_official)
        assert [el.text for el in year] == ["2026/2027", "1", "1", "1", "0", "0"]


def test_omobility_stats_count_our_pending_and_approved_nominations(mobility_node, validate_official):  # type: ignore[no-untyped-def]
    from ewp_node.mobilities.records import NominationStatus
    from ewp_node.xml.ns import OMOBILITY_STATS

    portal = mobility_node(partner_heis=(STATS_HEI,))
    mobility, _ = outgoing_with(ProposalState.APPROVED)
    extra = [("old-1", "2019/2020", NominationStatus.APPROVED),  # before 2021/2022: not reported
             ("next-1", "2027/2028", NominationStatus.APPROVED), ("next-2", "2027/2028", NominationStatus.REJECTED),
             ("next-3", "2027/2028", NominationStatus.CANCELLED)]
    with portal.ctx.sessions.begin() as session:
        for omobility_id, year, status in extra:
            service.save_mobility(session, replace(mobility, omobility_id=omobility_id, receiving_academic_year_id=year,
                                                   nomination=replace(mobility.nomination, status=status)))
    for method in METHODS:  # the demo: 2 pending and 1 approved nominations we send, 2 incoming (not ours)
        root = _ok(portal.call(method, "/ewp/omobility-stats"), validate_official)
        assert root.tag == q(OMOBILITY_STATS, "omobility-stats-response")
        assert [[el.text for el in year] for year in root] == [["2026/2027", "2", "1"], ["2027/2028", "0", "1"]]
    _error(mobility_node().call("GET", "/ewp/omobility-stats"), 403, "Stats Portal", validate_official)


# -- IMobilities v2 get (IM1' + template 2.1 without hei) -----------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_imobilities_get(node, method, validate_official):  # type: ignore[no-untyped-def]
    path = f"{{{IMOBILITIES_GET}}}student-mobility/{{{IMOBILITIES_GET}}}omobility-id"

    def ids(params):  # type: ignore[no-untyped-def]
        return _ids(_ok(node.call(method, "/ewp/imobilities/get", params), validate_official), path)

    assert ids([("omobility_id", INCOMING[0])]) == [INCOMING[0]]
    assert ids([("omobility_id", INCOMING[1]), ("omobility_id", FAKE), ("omobility_id", K)]) == [INCOMING[1]]
    for bad in ([], [("omobility_id", FAKE)] * 4, [("omobility_id_param", FAKE)]):
        assert node.call(method, "/ewp/imobilities/get", bad).status_code == 400


# -- CNR receivers: POST only, record what to fetch, answer at once -------------------------------------------------

def _queued(node) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    with node.ctx.sessions() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    return [(r.kind, r.owner_hei, r.partner_hei, r.object_id) for r in rows]


@pytest.mark.parametrize(("path", "params", "kind"), [
    ("/ewp/omobility-cnr", [("omobility_id", "their-1")], "omobility-fetch"),
    ("/ewp/imobility-cnr", [("omobility_id", K)], "imobility-fetch"),
    ("/ewp/omobility-la-cnr", [("sending_hei_id", PARTNER_HEI), ("omobility_id", "their-1")], "omobility-la-fetch"),
])
def test_cnr_receivers(node, path, params, kind, validate_official):  # type: ignore[no-untyped-def]
    _ok(node.call("POST", path, params), validate_official)
    _ok(node.call("POST", path, params), validate_official)  # merged into the pending fetch
    assert _queued(node) == [(kind, HEI, PARTNER_HEI, params[-1][1])]
    _error(node.call("POST", path, []), 400, "required", validate_official)
    _error(node.call("POST", path, params[:-1] + [("omobility_id", "x")] * 4), 400, "too many", validate_official)
    _error(node.call("GET", path, params), 405, "", validate_official)


def test_la_cnr_about_another_hei_is_ignored(node, validate_official):  # type: ignore[no-untyped-def]
    _ok(node.call("POST", "/ewp/omobility-la-cnr", [("sending_hei_id", OTHER_HEI), ("omobility_id", "1")]),
        validate_official)
    assert _queued(node) == []
