"""Demonstration transcript: with ``ewp-node init --with-demo-data ... --demo-partner HEI``, the first incoming
mobility from HEI gets a signed transcript (ESI, grade distributions, a conversion table covering every result
label), served at once through IMobility ToRs. No CNR is queued: the partner has not heard of the demo data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from ewp_node.context import NodeContext
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.tors.records import CourseResult, GradeShare, Term, TranscriptInput
from ewp_node.tors.service import issue_transcripts

SCHEME = ("DEMO-A-F", "ECTS-style letters: A best, E lowest pass, F fail (demonstration data)")
#: The cohort of every demo course: A 10 %, B 25 %, C 30 %, D 25 %, E 10 % of the passes, and some fails.
COHORT = (GradeShare("A", 12), GradeShare("B", 30), GradeShare("C", 36), GradeShare("D", 30), GradeShare("E", 12),
          GradeShare("F", 9))
_COURSES = (("DB-101", "Databases", "0613", "A"), ("NET-210", "Computer Networks", "0612", "B"),
            ("SE-230", "Software Engineering", "0613", "C"), ("ML-320", "Machine Learning", "0613", "B"))


def demo_transcript(home_hei: str, partner_hei: str) -> TranscriptInput:
    """The grades of the first incoming demo mobility from ``partner_hei``."""
    mobility = next(m for m, _ in demo_mobilities(home_hei, partner_hei) if m.direction is Direction.INCOMING)
    term = Term("Winter semester", mobility.planned_arrival or date(2026, 9, 1),
                mobility.planned_departure or date(2027, 1, 31))
    courses = tuple(CourseResult(code=code, title=title, isced_code=isced, ects=Decimal(6), result=grade,
                                 passed=True, distribution=COHORT, term=term, date=term.end, language="en")
                    for code, title, isced, grade in _COURSES)
    return TranscriptInput(partner_hei, mobility.omobility_id, (SCHEME,), courses)


def load_demo_transcript(ctx: NodeContext, home_hei: str, partner_hei: str) -> None:
    """Issue the demo transcript (the demo mobilities must be loaded)."""
    issue_transcripts(ctx, [demo_transcript(home_hei, partner_hei)], notify=False)
