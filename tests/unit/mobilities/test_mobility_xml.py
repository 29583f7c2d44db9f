"""Builders and parsers of the mobility documents: every document we build validates against the official
XSDs, and what we parse from a document gives back the records it was built from."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ewp_node.mobilities import build
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.parse import (
    InvalidDocument,
    LaDecision,
    NominationDecision,
    parse_imobilities_get,
    parse_la_update,
    parse_las_get,
    parse_nomination_update,
    parse_omobilities_get,
)
from ewp_node.mobilities.records import (
    Component,
    ComponentKind,
    Contact,
    Credit,
    Direction,
    LaVersion,
    LaYearStats,
    LearningAgreement,
    NominationStatus,
    ProposalState,
    Signature,
)
from ewp_node.responses import serialize
from ewp_node.xml.ns import IMOBILITY_CNR, OMOBILITY_CNR, OMOBILITY_LA_CNR

from .conftest import HEI, PARTNER_HEI

SIGNER = Signature(datetime(2026, 5, 8, 9, 0, tzinfo=UTC), "Piotr Zieliński", "Coordinator", "p@partner.example.eu",
                   "tests")
FULL_COMPONENT = Component(ComponentKind.VIRTUAL, "Online seminar", los_id="CR/sem1", los_code="SEM1",
                           loi_id="CRI/sem1-2026", term_number=2, total_terms=2,
                           credits=(Credit("ects", Decimal("2.5")),), recognition_conditions="pass",
                           short_description="Weekly online seminar", status="inserted",
                           reason_code="adding-virtual-component", reason_text="offered online")


def _outgoing() -> list[tuple]:  # type: ignore[type-arg]
    return [(m, v) for m, v in demo_mobilities(HEI, PARTNER_HEI) if m.direction is Direction.OUTGOING]


def _full_la() -> LearningAgreement:
    """An LA with all three versions shown, every optional component field and a phone number."""
    mobility, (first,) = next((m, v) for m, v in _outgoing() if v[0].state is ProposalState.APPROVED)
    mobility = replace(mobility, isced_clarification="Computer science",
                       receiving=replace(mobility.receiving, ounit_id="iro",
                                         contact=Contact("Piotr", "Zieliński", "p@partner.example.eu", "+48123456789")))
    changes = replace(first, proposal_id="v2", components=(*first.components, FULL_COMPONENT))
    proposal = LaVersion("v3", ProposalState.PENDING, first.student_signature, first.sending_signature,
                         (replace(FULL_COMPONENT, status="deleted", reason_code="not-available"),))
    return LearningAgreement(mobility, (first, changes, proposal))


def test_omobilities_documents_validate(validate_official) -> None:  # type: ignore[no-untyped-def]
    mobilities = [m for m, _ in _outgoing()]
    mobilities[0] = replace(mobilities[0], sending_term_id=None, agreement_isced_code="0611",
                            nomination=replace(mobilities[0].nomination, status=NominationStatus.REJECTED,
                                               comment="no places left"))
    for document in (build.build_omobilities_get(mobilities), build.build_omobilities_get([]),
                     build.build_omobilities_index([m.omobility_id for m in mobilities]),
                     build.build_omobilities_update_response("done"),
                     build.build_omobilities_update_request("m1", "p1"),
                     build.build_omobilities_update_request("m1", "p1", reject_comment="no"),
                     build.build_imobilities_get([replace(mobilities[1], actual_arrival=date(2026, 9, 2))]),
                     build.build_cnr_response(OMOBILITY_CNR, "omobility-cnr-response"),
                     build.build_cnr_response(IMOBILITY_CNR, "imobility-cnr-response"),
                     build.build_cnr_response(OMOBILITY_LA_CNR, "omobility-la-cnr-response")):
        validate_official(document)


def test_la_documents_validate(validate_official) -> None:  # type: ignore[no-untyped-def]
    las = [LearningAgreement(m, v) for m, v in _outgoing()] + [_full_la()]
    for document in (build.build_las_get(las), build.build_las_index(["a", "b"]),
                     build.build_las_update_response("approved"),
                     build.build_las_update_request(HEI, "m1", "p1", SIGNER),
                     build.build_las_update_request(HEI, "m1", "p1", SIGNER, comment="please add a course"),
                     build.build_las_stats([LaYearStats("2026/2027", 3, 2, 1, 0, 1, 0, 2)]), build.build_las_stats([]),
                     build.build_las_incoming_stats([LaYearStats("2026/2027", 3, 2, 1, 0, 1, 0, 2)])):
        validate_official(document)


def test_omobilities_get_parses_back_to_its_records() -> None:
    mobilities = [replace(m, language_skills=(), planned_arrival=None, planned_departure=None,
                          sending=replace(m.sending, ounit_name=None, contact=None),
                          receiving=replace(m.receiving, ounit_name=None, contact=None),
                          direction=Direction.INCOMING) for m, _ in _outgoing()]
    parsed = parse_omobilities_get(serialize(build.build_omobilities_get(mobilities)))
    assert [m for m, _ in parsed] == mobilities
    assert parsed[0][1].startswith(b"<student-mobility") and mobilities[0].omobility_id.encode() in parsed[0][1]


def test_las_get_parses_back_to_its_records() -> None:
    la = _full_la()
    [(parsed, raw)] = parse_las_get(serialize(build.build_las_get([la])), {la.mobility.omobility_id:
                                                                           la.mobility.nomination})
    expected = replace(la.mobility, direction=Direction.INCOMING, sending_term_id=None,
                       sending=replace(la.mobility.sending, iia_id=None),
                       receiving=replace(la.mobility.receiving, iia_id=None))
    assert parsed.mobility == expected
    assert [v.proposal_id for v in parsed.versions] == ["first-version", "approved-changes", "v3"]
    assert [v.components for v in parsed.versions] == [v.components for v in la.versions]
    assert parsed.versions[0].receiving_signature == la.versions[0].receiving_signature
    assert parsed.changes_proposal is not None and parsed.changes_proposal.receiving_signature is None
    assert b"Online seminar" in raw


def test_imobilities_get_parses() -> None:
    mobility = replace(_outgoing()[0][0], actual_arrival=date(2026, 9, 2))
    [(facts, _)] = parse_imobilities_get(serialize(build.build_imobilities_get([mobility])))
    assert (facts.omobility_id, facts.actual_arrival, facts.actual_departure) == (mobility.omobility_id,
                                                                                 date(2026, 9, 2), None)


def test_update_requests_parse_back() -> None:
    assert parse_nomination_update(serialize(build.build_omobilities_update_request("m1", "p1"))) == \
        NominationDecision("m1", "p1")
    assert parse_nomination_update(serialize(build.build_omobilities_update_request("m1", "p1", reject_comment="x"))
                                   ) == NominationDecision("m1", "p1", "x")
    assert parse_la_update(serialize(build.build_las_update_request(HEI, "m1", "p1", SIGNER, comment="c"))) == \
        LaDecision(HEI, "m1", "p1", SIGNER, "c")


def _la_request(action: str) -> bytes:
    ns = build.LAS_UPDATE_REQUEST
    return (f'<omobility-las-update-request xmlns="{ns}"><sending-hei-id>{HEI}</sending-hei-id>{action}'
            "</omobility-las-update-request>").encode()


@pytest.mark.parametrize(("body", "message"), [
    (_la_request(""), "no known update element"),
    (_la_request("<test/>"), "no known update element"),
    (_la_request("<approve-proposal-v1><omobility-id>m</omobility-id><changes-proposal-id>p</changes-proposal-id>"
                 "</approve-proposal-v1>"), "<signature> is required"),
    (_la_request("<approve-proposal-v1><changes-proposal-id>p</changes-proposal-id><signature>"
                 f'<timestamp xmlns="{build.LAS_GET}">2026-01-01T10:00:00Z</timestamp></signature>'
                 "</approve-proposal-v1>"), "signer-name"),
    (_la_request("<comment-proposal-v1><omobility-id>m</omobility-id><changes-proposal-id>p</changes-proposal-id>"
                 "</comment-proposal-v1>"), "<signature> is required"),
    (b"<omobilities-update-request/>", "expected <omobility-las-update-request>"),
    (b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>", "DOCTYPE"),
    (b"not xml", "not well-formed"),
])
def test_bad_la_update_requests_are_refused(body: bytes, message: str) -> None:
    with pytest.raises(InvalidDocument, match=message):
        parse_la_update(body)
