"""The mobility scenario of ``ewp-node demo``: node A sends a student to node B.

Nomination -> approval; learning agreement proposal -> comment -> new proposal -> approval; a change during
the mobility -> approval. The offices act on their node's database as ``ewp-node mobility|la HOME ...`` does
(A imports the nomination and proposes from JSON documents, its courses taken from its copy of B's course
catalogue; B answers through A's update endpoints with signed requests); A's CNRs and B's follow-up fetches
go through the nodes' outbox workers. Each step checks what both nodes stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select

from ewp_node.client import EwpClient, PartnerUnavailable
from ewp_node.demo import Step, node_context, play_until_failure, wait_for
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.importer import FORMAT, MobilityImportFailed, export_record, import_mobilities
from ewp_node.mobilities.parse import InvalidDocument
from ewp_node.mobilities.partner import answer_proposal, decide_nomination
from ewp_node.mobilities.proposals import catalogue_titles, read_proposal
from ewp_node.mobilities.records import (
    Component,
    Direction,
    LaVersion,
    LearningAgreement,
    NominationStatus,
    ProposalState,
    Signature,
)
from ewp_node.publish.models import Loi, Los
from ewp_node.publish.records import InvalidRecords, Reader
from ewp_node.sandbox import SandboxNode
from ewp_node.security.errors import ResponseVerificationError

#: What stops the scenario with a message rather than a trace (nothing half-done: each call is all or nothing).
FAILURES = (service.MobilityError, PartnerUnavailable, ResponseVerificationError, InvalidDocument, InvalidRecords,
            MobilityImportFailed)
#: The studied courses the scenario needs from the receiving HEI's catalogue.
COURSES = 5
STUDENT = {"given_names": "Léa", "family_name": "Moreau", "birth_date": "2005-03-14", "citizenship": "FR",
           "gender": 2}


class Office:
    """One node's international office: its HEI, its store, and its signed calls to the partner's node."""

    def __init__(self, node: SandboxNode) -> None:
        self.hei_id = node.hei_id
        self.ctx = node_context(node)
        self.client = EwpClient(self.ctx)

    def la(self, sending_hei: str, omobility_id: str) -> LearningAgreement | None:
        """The stored mobility with its LA versions (None when this node does not know it)."""
        with self.ctx.sessions() as session:
            row = repo.find(session, sending_hei, omobility_id)
            return None if row is None else repo.la_record(row)

    def courses(self, hei_id: str, isced: str, eqf_level: int, year: str) -> list[tuple[str, str, Decimal]]:
        """``(los_id, loi_id, ects)`` of courses of at least 5 ECTS in our copy of ``hei_id``'s catalogue, taught
        in ``year`` at ``eqf_level`` in the ISCED narrow field of ``isced``: every other one in LOS id order
        (neighbours are often levels of one subject)."""
        with self.ctx.sessions() as session:
            rows = session.execute(
                select(Los.los_id, Loi.loi_id, Loi.ects).join(Loi, Loi.los_pk == Los.id)
                .where(Los.hei_id == hei_id, Los.isced_code.startswith(isced[:3]), Los.eqf_level == eqf_level,
                       Loi.academic_year_id == year, Loi.ects >= 5)
                .order_by(Los.los_id).limit(2 * COURSES)).all()
        return [(row.los_id, row.loi_id, row.ects) for row in rows[::2]]

    def close(self) -> None:
        self.ctx.close()


def _short(identifier: str) -> str:
    return identifier[:8] + "…"


def _titles(components: tuple[Component, ...]) -> str:
    return ", ".join(c.title for c in components)


class Scenario:
    """Student Léa Moreau of A goes to B for the academic year of A's demo mobilities."""

    def __init__(self, a: Office, b: Office) -> None:
        self.a, self.b = a, b
        template = next(m for m, _ in demo_mobilities(a.hei_id, b.hei_id) if m.direction is Direction.OUTGOING)
        self.template = template
        self.omobility_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ewp-node-demo:scenario:{a.hei_id}:{b.hei_id}"))
        self.global_id = f"urn:schac:personalUniqueCode:int:esi:{a.hei_id}:20269001"
        self.name = f"{STUDENT['given_names']} {STUDENT['family_name']}"
        self.record = {**export_record(template), "omobility_id": self.omobility_id,
                       "student": {**STUDENT, "global_id": self.global_id,
                                   "email": f"lea.moreau@student.{a.hei_id}"}}
        now = datetime.now(UTC).replace(microsecond=0)
        self.receiving_signer = Signature(now, "Piotr Zieliński", "Erasmus coordinator", f"erasmus@{b.hei_id}",
                                          "ewp-node demo")
        self.signatures = {"student_signature": {"timestamp": now.isoformat(), "signer_app": "student portal"},
                           "sending_signature": {"timestamp": now.isoformat(), "signer_name": "Claire Bernard",
                                                 "signer_position": "Erasmus coordinator",
                                                 "signer_email": f"erasmus@{a.hei_id}"}}
        self.courses: list[dict[str, Any]] = []
        self.first: LaVersion | None = None
        self.dropped = ""

    # -- what each node stored

    def ours(self) -> LearningAgreement | None:
        return self.a.la(self.a.hei_id, self.omobility_id)

    def theirs(self) -> LearningAgreement | None:
        return self.b.la(self.a.hei_id, self.omobility_id)

    def _wait(self, condition: Callable[[], bool]) -> bool:
        return wait_for((self.a.ctx, self.b.ctx), condition)

    def _theirs_pending(self, proposal_id: str) -> bool:
        la = self.theirs()
        return la is not None and la.changes_proposal is not None and la.changes_proposal.proposal_id == proposal_id

    # -- what the offices do

    def _plan(self, *chosen: int) -> list[dict[str, Any]]:
        """The studied courses ``chosen`` (indexes into :attr:`courses`) and the semester they are recognised as."""
        studied = [self.courses[i] for i in chosen]
        total = sum(Decimal(c["credits"][0]["value"]) for c in studied)
        return [*studied, {"kind": "components-recognized", "title": "Semester abroad (recognised as a whole)",
                           "term_number": 1, "total_terms": 2, "credits": [{"scheme": "ects", "value": str(total)}]}]

    def _propose(self, components: list[dict[str, Any]]) -> tuple[str, LaVersion]:
        """A proposes an LA version written as ``ewp-node la propose`` reads it; B's worker fetches it."""
        reader = Reader()
        with self.a.ctx.sessions() as session:
            proposal = read_proposal(reader, {"components": components, **self.signatures},
                                     catalogue_titles(session, self.b.hei_id, reader))
        proposal_id = service.propose_changes(self.a.ctx.sessions, self.a.hei_id, self.omobility_id,
                                              proposal.components, proposal.student_signature,
                                              proposal.sending_signature)
        ours = self.ours()
        assert ours is not None and ours.changes_proposal is not None
        return proposal_id, ours.changes_proposal

    def _answer(self, comment: str | None = None) -> ProposalState:
        return answer_proposal(self.b.client, self.b.ctx.sessions, self.a.hei_id, {self.b.hei_id},
                               self.omobility_id, self.receiving_signer, comment)

    # -- the steps: (title, action returning (held, detail))

    def steps(self) -> list[tuple[str, Callable[[], tuple[bool, str]]]]:
        a, b, name = self.a.hei_id, self.b.hei_id, self.name
        return [
            (f"Mobility: {a} nominates {name} for a semester at {b}", self.nominate),
            (f"Mobility: {b} approves the nomination of {name}", self.approve_nomination),
            (f"Learning agreement: {a} proposes {name}'s courses at {b}", self.propose),
            (f"Learning agreement: {b} comments the proposal (rejects it with a reason)", self.comment),
            (f"Learning agreement: {a} proposes again, {b} approves: the first version is signed by all three",
             self.propose_again),
            (f"Learning agreement: a change during the mobility, approved by {b}", self.change),
        ]

    def nominate(self) -> tuple[bool, str]:
        a, b = self.a, self.b
        report = import_mobilities(a.ctx.sessions, {"format": FORMAT, "mobilities": [self.record]},
                                   a.ctx.settings.hei_ids, "the student information system (demo)")
        ours = self.ours()
        assert ours is not None
        nomination = ours.mobility.nomination

        def arrived() -> bool:
            theirs = self.theirs()
            return theirs is not None and theirs.mobility.direction is Direction.INCOMING \
                and theirs.mobility.nomination == nomination and theirs.mobility.student == ours.mobility.student

        held = report.changed == 1 and nomination.status is NominationStatus.PENDING and self._wait(arrived)
        if not held:
            return False, (f"{b.hei_id} did not receive the nomination within the wait (see 'ewp-node cnr HOME "
                           "list' on both nodes)")
        return True, (f"{a.hei_id} imported the nomination of {self.name} (European Student Identifier "
                      f"{self.global_id}, {self.template.receiving_academic_year_id}) from its student information "
                      f"system; its node told {b.hei_id} (OMobility CNR), whose node fetched the nomination "
                      f"(signed OMobilities get). Both nodes hold it, pending, proposal "
                      f"{_short(nomination.proposal_id)}")

    def approve_nomination(self) -> tuple[bool, str]:
        a, b = self.a, self.b
        status = decide_nomination(b.client, b.ctx.sessions, a.hei_id, {b.hei_id}, self.omobility_id)
        ours, theirs = self.ours(), self.theirs()
        held = status is NominationStatus.APPROVED and all(
            la is not None and la.mobility.nomination.status is NominationStatus.APPROVED for la in (ours, theirs))
        return held, (f"{b.hei_id} approved the nomination of {self.name} through {a.hei_id}'s OMobilities update "
                      f"endpoint (signed request); {a.hei_id}'s record now says: "
                      f"{ours.mobility.nomination.status.value if ours else 'missing'}; "
                      f"{b.hei_id}'s copy: {theirs.mobility.nomination.status.value if theirs else 'missing'}")

    def propose(self) -> tuple[bool, str]:
        a, b, t = self.a, self.b, self.template
        found = a.courses(b.hei_id, t.isced_code, t.eqf_level, t.receiving_academic_year_id)
        if len(found) < COURSES:
            return False, (f"{a.hei_id}'s copy of {b.hei_id}'s course catalogue has {len(found)} courses at EQF "
                           f"{t.eqf_level} in ISCED {t.isced_code[:3]}x for {t.receiving_academic_year_id}, "
                           f"{COURSES} needed (the replication step copies it)")
        self.courses = [{"kind": "components-studied", "los_id": los_id, "loi_id": loi_id, "term_number": 1,
                         "total_terms": 2, "credits": [{"scheme": "ects", "value": format(ects.normalize(), "f")}]}
                        for los_id, loi_id, ects in found]
        proposal_id, version = self._propose(self._plan(0, 1, 2))
        held = self._wait(lambda: self._theirs_pending(proposal_id))
        *studied, recognised = version.components
        return held, (f"{a.hei_id} proposed {_titles(tuple(studied))} (chosen from its copy of {b.hei_id}'s "
                      f"catalogue), recognised at home as a {recognised.credits[0].value}-ECTS semester; signed by "
                      f"the student and by Claire Bernard "
                      f"for {a.hei_id}. {b.hei_id} was told (OMobility LA CNR) and fetched the proposal (signed "
                      f"OMobility LAs get): "
                      + (f"it awaits {b.hei_id}'s answer, proposal {_short(proposal_id)}" if held
                         else "it did not arrive within the wait"))

    def comment(self) -> tuple[bool, str]:
        a, b = self.a, self.b
        ours = self.ours()
        assert ours is not None and ours.changes_proposal is not None
        self.dropped = ours.changes_proposal.components[1].title
        text = f"{self.dropped} is full this term: please choose another course"
        state = self._answer(text)
        ours, theirs = self.ours(), self.theirs()
        latest = ours.latest if ours else None
        held = (state is ProposalState.COMMENTED and latest is not None and latest.state is ProposalState.COMMENTED
                and latest.comment == text and ours is not None and ours.changes_proposal is None
                and theirs is not None and theirs.changes_proposal is None)
        return held, (f"{b.hei_id} commented the proposal through {a.hei_id}'s OMobility LAs update endpoint "
                      f"(signed by Piotr Zieliński): \"{text}\". {a.hei_id}'s record: "
                      f"{latest.state.value if latest else 'no version'}, with that comment; nothing is pending, "
                      f"{a.hei_id} must propose again")

    def propose_again(self) -> tuple[bool, str]:
        a, b = self.a, self.b
        proposal_id, version = self._propose(self._plan(0, 3, 2))
        if not self._wait(lambda: self._theirs_pending(proposal_id)):
            return False, f"{b.hei_id} did not receive the new proposal {_short(proposal_id)} within the wait"
        state = self._answer()
        ours = self.ours()
        self.first = ours.first_version if ours else None

        def both_signed() -> bool:
            theirs = self.theirs()
            return theirs is not None and theirs.changes_proposal is None and theirs.first_version is not None \
                and theirs.first_version.components == version.components \
                and theirs.first_version.receiving_signature == self.receiving_signer

        held = (state is ProposalState.APPROVED and self.first is not None
                and self.first.proposal_id == proposal_id and self.first.receiving_signature == self.receiving_signer
                and self._wait(both_signed))
        return held, (f"{a.hei_id} replaced {self.dropped} by "
                      f"{version.components[1].title} (proposal {_short(proposal_id)}); {b.hei_id} fetched it and "
                      f"approved it (signed by Piotr Zieliński). Both nodes hold the first version, signed by the "
                      f"student, {a.hei_id} and {b.hei_id}: {_titles(version.components)}")

    def change(self) -> tuple[bool, str]:
        a, b, first = self.a, self.b, self.first
        assert first is not None
        removed = {**self.courses[2], "status": "deleted", "reason_code": "timetable-conflict"}
        added = {**self.courses[4], "status": "inserted", "reason_code": "substituting-deleted"}
        proposal_id, version = self._propose([removed, added])
        if not self._wait(lambda: self._theirs_pending(proposal_id)):
            return False, f"{b.hei_id} did not receive the changes proposal {_short(proposal_id)} within the wait"
        state = self._answer()
        ours = self.ours()
        mine = ours.approved_changes if ours else None

        def both_approved() -> bool:
            theirs = self.theirs()
            return theirs is not None and theirs.changes_proposal is None and theirs.approved_changes is not None \
                and theirs.approved_changes.components == version.components \
                and theirs.first_version is not None and theirs.first_version.components == first.components

        held = (state is ProposalState.APPROVED and mine is not None and mine.proposal_id == proposal_id
                and mine.receiving_signature == self.receiving_signer and ours is not None
                and ours.first_version == first and self._wait(both_approved))
        gone, new = version.components
        return held, (f"During the stay, {a.hei_id} proposed a change: {gone.title} removed (timetable conflict), "
                      f"{new.title} added in its place; {b.hei_id} fetched it and approved it. Both nodes hold the "
                      f"approved changes beside the unchanged first version")


def run_step(title: str, action: Callable[[], tuple[bool, str]]) -> Step:
    """One step of the scenario; a refused exchange or change fails it with the reason."""
    try:
        held, detail = action()
    except FAILURES as exc:
        held, detail = False, f"stopped: {type(exc).__name__}: {exc}"
    return Step(title, held, detail)


def play(node_a: SandboxNode, node_b: SandboxNode, narrate: Callable[[Step], None]) -> list[Step]:
    """Run the scenario (A sends, B receives), narrating each step as it ends; stops at the first that does not
    hold."""
    a, b = Office(node_a), Office(node_b)
    try:
        return play_until_failure([partial(run_step, title, action) for title, action in Scenario(a, b).steps()],
                                  narrate)
    finally:
        a.close()
        b.close()
