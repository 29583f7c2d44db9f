"""Demo mobilities between a covered HEI and one partner (``ewp-node init ... --demo-partner HEI``).

Outgoing: two students whose nominations await the partner's decision and whose learning agreement's latest
version is a changes proposal awaiting its approval (student and sending-HEI signatures), and one student
whose learning agreement the partner approved (no pending proposal). Incoming: two students the partner
sends. When the home HEI publishes OUnits, its students leave from and arrive in its faculties, in
turn. Same input, same output: ids and dates are derived from the HEI ids, nothing is random.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.mobilities.records import (
    Component,
    ComponentKind,
    Contact,
    Credit,
    Direction,
    LanguageSkill,
    LaVersion,
    Mobility,
    Nomination,
    NominationStatus,
    Party,
    ProposalState,
    Signature,
    Student,
)
from ewp_node.mobilities.service import save_mobility
from ewp_node.publish.models import Institution, OUnit
from ewp_node.publish.records import text_in

ACADEMIC_YEAR = "2026/2027"
_STUDENTS = (("Alice", "Martin", "FR", 2), ("Bruno", "Lefèvre", "FR", 1), ("Chloé", "Dubois", "BE", 2),
             ("Jan", "Kowalski", "PL", 1), ("Zofia", "Nowak", "PL", 2))
_COURSES = (("Distributed Systems", "0613"), ("Machine Learning", "0613"), ("European Law", "0421"),
            ("Signal Processing", "0714"))


def _id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "ewp-node-demo:" + ":".join(parts)))


def _signature(who: str, hei_id: str, day: int, *, student: bool = False) -> Signature:
    at = datetime(2026, 5, day, 10, 30, tzinfo=UTC)
    if student:
        return Signature(timestamp=at, signer_app="ewp-node demo")
    return Signature(timestamp=at, signer_name=who, signer_position="Erasmus coordinator",
                     signer_email=f"erasmus@{hei_id}", signer_app="ewp-node demo")


def _components(start: int) -> tuple[Component, ...]:
    studied = [Component(ComponentKind.STUDIED, title, term_number=1, total_terms=2,
                         credits=(Credit("ects", Decimal(6)),)) for title, _ in _COURSES[start:start + 2]]
    recognized = Component(ComponentKind.RECOGNIZED, "Semester abroad (recognised as a whole)", term_number=1,
                           total_terms=2, credits=(Credit("ects", Decimal(12)),))
    return (*studied, recognized)


def _mobility(index: int, sending: str, receiving: str, direction: Direction,
              faculties: Sequence[tuple[str, str]] = ()) -> Mobility:
    given, family, country, gender = _STUDENTS[index]
    code = f"{20260000 + index:08d}"
    mobility = Mobility(
        omobility_id=_id(sending, receiving, str(index)), direction=direction,
        sending=Party(sending, ounit_name="International Relations Office", iia_id=_id("iia", sending, receiving),
                      contact=Contact("Claire", "Bernard", f"erasmus@{sending}")),
        receiving=Party(receiving, ounit_name="International Relations Office",
                        iia_id=_id("iia", receiving, sending),
                        contact=Contact("Piotr", "Zieliński", f"erasmus@{receiving}")),
        student=Student(given, family, f"urn:schac:personalUniqueCode:int:esi:{sending}:{code}",
                        date(2004, 1 + index, 10 + index), country, gender,
                        f"{given.lower()}.{family.lower()}@student.{sending}".encode("ascii", "ignore").decode()),
        receiving_academic_year_id=ACADEMIC_YEAR, activity_attributes="long-term", eqf_level=6,
        isced_code=_COURSES[index % len(_COURSES)][1],
        nomination=Nomination(NominationStatus.PENDING, _id("nomination", sending, str(index))),
        sending_term_id=f"{ACADEMIC_YEAR}-1/2", language_skills=(LanguageSkill("en", "B2"),),
        planned_arrival=date(2026, 9, 1), planned_departure=date(2027, 1, 31),
    )
    if not faculties:
        return mobility
    ounit_id, name = faculties[index % len(faculties)]
    ours = "sending" if direction is Direction.OUTGOING else "receiving"
    return replace(mobility, **{ours: replace(getattr(mobility, ours), ounit_id=ounit_id, ounit_name=name)})


def demo_mobilities(home_hei: str, partner_hei: str, faculties: Sequence[tuple[str, str]] = ()
                    ) -> list[tuple[Mobility, tuple[LaVersion, ...]]]:
    """The demo mobilities and their LA versions (see the module docstring); ``faculties`` (ounit id and
    name) are the home HEI's units the students leave from or arrive in, in turn."""
    result: list[tuple[Mobility, tuple[LaVersion, ...]]] = []
    for index in (0, 1):
        mobility = _mobility(index, home_hei, partner_hei, Direction.OUTGOING, faculties)
        proposal = LaVersion(_id("proposal", mobility.omobility_id), ProposalState.PENDING,
                             _signature("", home_hei, 3, student=True), _signature("Claire Bernard", home_hei, 4),
                             _components(index))
        result.append((mobility, (proposal,)))
    approved = _mobility(2, home_hei, partner_hei, Direction.OUTGOING, faculties)
    approved = replace(approved, nomination=replace(approved.nomination, status=NominationStatus.APPROVED))
    result.append((approved, (LaVersion(
        _id("proposal", approved.omobility_id), ProposalState.APPROVED, _signature("", home_hei, 3, student=True),
        _signature("Claire Bernard", home_hei, 4), _components(2),
        receiving_signature=_signature("Piotr Zieliński", partner_hei, 8)),)))
    result.extend((_mobility(index, partner_hei, home_hei, Direction.INCOMING, faculties), ()) for index in (3, 4))
    return result


def published_faculties(session: Session, hei_id: str) -> list[tuple[str, str]]:
    """The units right under the root of ``hei_id``'s published OUnits (its faculties): id and English name."""
    root = select(Institution.root_ounit_id).where(Institution.hei_id == hei_id).scalar_subquery()
    rows = session.execute(select(OUnit.ounit_id, OUnit.data).where(OUnit.hei_id == hei_id,
                                                                   OUnit.parent_ounit_id == root)
                           .order_by(OUnit.ounit_id))
    return [(ounit_id, text_in(data.get("names", []), "en") or ounit_id) for ounit_id, data in rows]


def load_demo_mobilities(sessions: sessionmaker[Session], home_hei: str, partner_hei: str) -> int:
    """Store the demo mobilities of ``home_hei`` with ``partner_hei`` (idempotent), from and to its published
    faculties when it has some. :returns: how many changed."""
    changed = 0
    with sessions.begin() as session:
        for mobility, versions in demo_mobilities(home_hei, partner_hei, published_faculties(session, home_hei)):
            changed += save_mobility(session, mobility, versions)
    return changed
