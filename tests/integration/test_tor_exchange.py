"""Transcripts between two nodes (in-process, both outboxes and workers): B, the receiving HEI, imports grades
and publishes the signed transcript, its ToR CNR reaches A, A's worker fetches, verifies and converts it, and
matches it against the approved learning agreement. The converted grades are checked against all 219
conversions of ``vectors/grade-conversion.json`` (73 grades: midpoint, max-overlap and the overlapping range).
A transcript altered after signing, or signed by a key the partner does not publish, is rejected and recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from ewp_node.cnr.senders import SendServices, load_sender_modules
from ewp_node.cnr.worker import AttemptAudit, OutboxWorker
from ewp_node.elmo import sign_elmo
from ewp_node.elmo.sign import DS
from ewp_node.mobilities.records import ComponentKind, Direction
from ewp_node.tors import repository as repo
from ewp_node.tors.certificate import self_signed_certificate
from ewp_node.tors.conversion import POLICY_FILE, load_policy
from ewp_node.tors.importer import read_document
from ewp_node.tors.models import IssuedTranscriptRow
from ewp_node.tors.receive import Receiver, fetch_transcripts
from ewp_node.tors.records import ReceiptState, ReceivedTranscript
from ewp_node.tors.service import issue_transcripts
from ewp_node.xml.parse import parse_xml

from ..unit.tors.conftest import TERM, approved_mobility, courses_of_scale, store_mobility

A, B = "uni-a.example.eu", "uni-b.example.eu"
RULES = ("midpoint", "overlap")


def _isced(pair: int, rule: str) -> str:
    """One ISCED code per conversion pair and rule, so that A's policy picks the scales and the rule by code."""
    return f"9{pair}{RULES.index(rule) + 1}"


@pytest.fixture
def vectors(specs_dir) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return json.loads((specs_dir / "vectors" / "grade-conversion.json").read_text(encoding="utf-8"))


@pytest.fixture
def exchange(make_pair, vectors: dict[str, Any]):  # type: ignore[no-untyped-def]
    """A sends the student (approved LA), B receives; A's policy covers every conversion of the vectors."""
    load_sender_modules()
    pair = make_pair(a_heis=(A,), b_heis=(B,))
    mobility, versions = approved_mobility(A, B)
    store_mobility(pair.a, mobility, versions, Direction.OUTGOING)
    store_mobility(pair.b, mobility, versions, Direction.INCOMING)
    partners = [{"hei_id": B, "isced_prefix": _isced(index, rule), "host_scale": conversion["from"],
                 "home_scale": conversion["to"], "rule": rule}
                for index, conversion in enumerate(vectors["conversions"]) for rule in RULES]
    policy = {"scales": vectors["scales"], "partners": partners}
    (pair.a.settings.home / POLICY_FILE).write_text(json.dumps(policy), encoding="utf-8")
    return pair, mobility, versions


def _transcript(vectors: dict[str, Any], omobility_id: str, planned: str) -> dict[str, Any]:
    """Every grade of every conversion's host scale, once per rule, and one course planned in the LA."""
    schemes, courses = [], []
    for index, conversion in enumerate(vectors["conversions"]):
        scale_id = conversion["from"]
        if scale_id not in [s["id"] for s in schemes]:
            schemes.append({"id": scale_id, "description": vectors["scales"][scale_id].get("description", scale_id)})
        for rule in RULES:
            for course in courses_of_scale(vectors["scales"][scale_id], _isced(index, rule), f"C{index}{rule[0]}"):
                courses.append({**course, "grading_scheme": scale_id})
    it = vectors["scales"]["IT-18-30"]["distribution"]
    courses.append({"code": "PLANNED", "title": planned, "isced_code": _isced(0, "midpoint"), "ects": "6",
                    "result": "28", "distribution": it, "term": TERM, "date": "2027-01-25",
                    "grading_scheme": "IT-18-30"})
    return {"format": "ewp-node-tor/1", "transcripts": [{"sending_hei_id": A, "omobility_id": omobility_id,
                                                         "grading_schemes": schemes, "courses": courses}]}


def _settle(pair) -> None:  # type: ignore[no-untyped-def]
    workers = [OutboxWorker(ctx.sessions, SendServices(pair.client(ctx), ctx.sessions, ctx.settings),
                            AttemptAudit(ctx.audit.record)) for ctx in (pair.a, pair.b)]
    for _ in range(4):
        if sum(worker.drain() for worker in workers) == 0:
            return
    pytest.fail("the outboxes did not settle")


def _received(pair) -> list[ReceivedTranscript]:  # type: ignore[no-untyped-def]
    with pair.a.sessions() as session:
        return repo.received(session, {A})


def test_grades_travel_verified_and_converted_by_the_method(exchange, vectors: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    pair, mobility, versions = exchange
    studied = [c.title for c in versions[-1].components if c.kind is ComponentKind.STUDIED]
    issue_transcripts(pair.b, read_document(_transcript(vectors, mobility.omobility_id, studied[0])))
    _settle(pair)  # B's ToR CNR -> A's handler queues the fetch -> A's worker fetches, verifies, converts
    [received] = _received(pair)
    assert received.state is ReceiptState.ACCEPTED, received.reason
    assert received.recognition is not None
    results = {r.code: r for r in received.recognition.results}
    checked, wrong = 0, []
    for index, conversion in enumerate(vectors["conversions"]):
        for rule in RULES:
            for position, case in enumerate(conversion["expected"]):
                result = results[f"C{index}{rule[0]}{position:03d}"]
                got = {rule: result.home_grade, **({"range": list(result.overlapping)} if rule == "midpoint" else {})}
                expected = {key: case[key] for key in got}
                checked += len(got)
                if got != expected:
                    wrong.append((conversion["from"], conversion["to"], case["grade"], got, expected))
    assert not wrong
    assert checked == 219
    planned = results["PLANNED"]
    assert (planned.host_grade, planned.home_grade, planned.planned_as) == ("28", "14", studied[0])
    assert "ToR table of ISCED 901" in planned.explanation
    assert received.recognition.missing == tuple(studied[1:])
    assert all(r.planned_as is None for code, r in results.items() if code != "PLANNED")
    [handed] = (pair.a.settings.home / "sis-outbox").glob("recognition-*.json")  # the SIS hand-off
    record = json.loads(handed.read_text(encoding="utf-8"))
    assert record["student"]["esi"] == mobility.student.global_id
    assert len(record["courses"]) == len(results) and record["planned_but_missing"] == studied[1:]
    assert {"code": "PLANNED", "suggested_home_grade": "14", "planned_as": studied[0]}.items() <= next(
        c for c in record["courses"] if c["code"] == "PLANNED").items()


def _replace_elmo(pair, change) -> None:  # type: ignore[no-untyped-def]
    with pair.b.sessions.begin() as session:
        row = session.scalars(select(IssuedTranscriptRow)).one()
        row.elmo = change(row.elmo)


def _fetch(pair, omobility_id: str) -> ReceivedTranscript:  # type: ignore[no-untyped-def]
    home = pair.a.settings.home
    receiver = Receiver(pair.client(pair.a), pair.a.sessions, {A}, load_policy(home), home)
    [received] = fetch_transcripts(receiver, B, [omobility_id])
    return received


def test_an_altered_or_foreign_signed_transcript_is_rejected_and_recorded(exchange, vectors: dict[str, Any]
                                                                            ) -> None:  # type: ignore[no-untyped-def]
    """Rejected transcripts are recorded with the reason, and nothing reaches the SIS."""
    pair, mobility, versions = exchange
    issue_transcripts(pair.b, read_document(_transcript(vectors, mobility.omobility_id, "nothing planned")))

    _replace_elmo(pair, lambda elmo: elmo.replace(b"<resultLabel>28<", b"<resultLabel>30<", 1))
    tampered = _fetch(pair, mobility.omobility_id)
    assert tampered.state is ReceiptState.REJECTED and tampered.recognition is None
    assert "InvalidSignature" in (tampered.reason or "")

    unpublished = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def resign(elmo: bytes) -> bytes:
        root = parse_xml(elmo)
        root.remove(root.find(f"{{{DS}}}Signature"))
        return sign_elmo(root, unpublished, self_signed_certificate(unpublished, B, datetime.now(UTC)))

    _replace_elmo(pair, resign)
    foreign = _fetch(pair, mobility.omobility_id)
    assert foreign.state is ReceiptState.REJECTED and "SignerNotTrusted" in (foreign.reason or "")
    assert [r.state for r in _received(pair)] == [ReceiptState.REJECTED, ReceiptState.REJECTED]
    assert not list((pair.a.settings.home / "sis-outbox").glob("*.json"))


def test_a_partner_on_tors_v2_is_read_as_elmo_1_7(make_pair, vectors: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    """B publishes only IMobility ToRs v2: A falls back to it, verifies the ELMO 1.7 and converts the same."""
    from lxml import etree

    from ewp_node.xml.ns import IMOBILITY_TORS_ENTRY, REGISTRY, q

    def v2_only(manifests) -> None:  # type: ignore[no-untyped-def]
        for manifest in manifests:
            if manifest.find(f".//{{{REGISTRY}}}hei[@id='{B}']") is not None:
                for entry in manifest.iter(q(IMOBILITY_TORS_ENTRY, "imobility-tors")):
                    entry.getparent().remove(entry)

    pair = make_pair(a_heis=(A,), b_heis=(B,), edit_manifests=v2_only)
    mobility, versions = approved_mobility(A, B)
    store_mobility(pair.a, mobility, versions, Direction.OUTGOING)
    store_mobility(pair.b, mobility, versions, Direction.INCOMING)
    it = vectors["scales"]["IT-18-30"]
    (pair.a.settings.home / POLICY_FILE).write_text(json.dumps({"scales": vectors["scales"], "partners": [
        {"hei_id": B, "isced_prefix": "", "host_scale": "IT-18-30", "home_scale": "FR-0-20"}]}), encoding="utf-8")
    courses = [{**c, "grading_scheme": "IT-18-30"} for c in courses_of_scale(it, "0421", "LAW")]
    issue_transcripts(pair.b, read_document({"format": "ewp-node-tor/1", "transcripts": [{
        "sending_hei_id": A, "omobility_id": mobility.omobility_id,
        "grading_schemes": [{"id": "IT-18-30", "description": "Italian 18-30"}], "courses": courses}]}))
    assert pair.a.registry.index.lookup(B, "imobility-tors", 3) is None
    received = _fetch(pair, mobility.omobility_id)
    assert received.state is ReceiptState.ACCEPTED, received.reason
    assert received.recognition is not None
    [expected] = [c for c in vectors["conversions"] if (c["from"], c["to"]) == ("IT-18-30", "FR-0-20")]
    assert [r.home_grade for r in received.recognition.results] == [case["midpoint"] for case in expected["expected"]]
    assert etree.QName(etree.fromstring(received_elmo(pair, received.id))).namespace == \
        "https://github.com/emrex-eu/elmo-schemas/tree/v1"


def received_elmo(pair, received_id: int) -> bytes:  # type: ignore[no-untyped-def]
    with pair.a.sessions() as session:
        found = repo.received_by_id(session, {A}, received_id)
    assert found is not None
    return found[1]
