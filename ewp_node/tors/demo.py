"""Demonstration transcripts.

With ``ewp-node init --with-demo-data ... --demo-partner HEI``, the first incoming mobility from HEI gets a signed
transcript (ESI, grade distributions, a conversion table covering every result label), served at once through
IMobility ToRs; no CNR is queued, the partner has not heard of the demo data. For ``ewp-node demo``,
:func:`stage_exchange` puts one mobility with an approved LA on both sandbox nodes, gives the sending node a
grade conversion policy for the demo scale, and issues the transcript at the receiving node with its CNR.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

from ewp_node.context import NodeContext
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import ComponentKind, Direction, Mobility
from ewp_node.mobilities.service import save_mobility
from ewp_node.tors.conversion import POLICY_FILE
from ewp_node.tors.records import CourseResult, GradeShare, Term, TranscriptInput
from ewp_node.tors.service import issue_transcripts

SCHEME = ("DEMO-A-F", "ECTS-style letters: A best, E lowest pass, F fail (demonstration data)")
#: The cohort of every demo course: A 10 %, B 25 %, C 30 %, D 25 %, E 10 % of the passes, and some fails.
COHORT = (GradeShare("A", 12), GradeShare("B", 30), GradeShare("C", 36), GradeShare("D", 30), GradeShare("E", 12),
          GradeShare("F", 9))
_COURSES = (("DB-101", "Databases", "0613", "A"), ("NET-210", "Computer Networks", "0612", "B"),
            ("SE-230", "Software Engineering", "0613", "C"), ("ML-320", "Machine Learning", "0613", "B"))


def transcript_for(mobility: Mobility, titles: tuple[str, ...] = ()) -> TranscriptInput:
    """Demo grades for ``mobility``; ``titles`` (e.g. the LA's planned courses) name the first courses."""
    term = Term("Winter semester", mobility.planned_arrival or date(2026, 9, 1),
                mobility.planned_departure or date(2027, 1, 31))
    named = [(code, titles[i] if i < len(titles) else title, isced, grade)
             for i, (code, title, isced, grade) in enumerate(_COURSES)]
    courses = tuple(CourseResult(code=code, title=title, isced_code=isced, ects=Decimal(6), result=grade,
                                 passed=True, distribution=COHORT, term=term, date=term.end, language="en")
                    for code, title, isced, grade in named)
    return TranscriptInput(mobility.sending.hei_id, mobility.omobility_id, (SCHEME,), courses)


def demo_transcript(home_hei: str, partner_hei: str) -> TranscriptInput:
    """The grades of the first incoming demo mobility from ``partner_hei``."""
    return transcript_for(next(m for m, _ in demo_mobilities(home_hei, partner_hei)
                               if m.direction is Direction.INCOMING))


def load_demo_transcript(ctx: NodeContext, home_hei: str, partner_hei: str) -> None:
    """Issue the demo transcript (the demo mobilities must be loaded)."""
    issue_transcripts(ctx, [demo_transcript(home_hei, partner_hei)], notify=False)


#: The sending node's grade conversion for the demo: the demo scale (host) into a 0-20 scale (home).
DEMO_POLICY = {
    "scales": {
        SCHEME[0]: {"distribution": [{"label": g.label, "count": g.count} for g in COHORT[:-1]], "failing": ["F"],
                    "description": SCHEME[1]},
        "HOME-0-20": {"distribution": [{"label": label, "count": count} for label, count in
                                       (("18", 20), ("16", 60), ("14", 120), ("12", 140), ("10", 60))],
                      "failing": ["8"], "description": "Our 0-20 scale, 10 to pass (demonstration data)"},
    },
    "partners": [{"hei_id": None, "isced_prefix": "", "host_scale": SCHEME[0], "home_scale": "HOME-0-20"}],
}


def stage_exchange(sending: NodeContext, receiving: NodeContext) -> Mobility:
    """One approved mobility on both nodes, the sending node's policy, and the transcript issued at the
    receiving node with its ToR CNR queued (the nodes' workers carry the rest)."""
    sending_hei, receiving_hei = sending.settings.heis[0].id, receiving.settings.heis[0].id
    mobility, versions = next((m, v) for m, v in demo_mobilities(sending_hei, receiving_hei)
                              if m.direction is Direction.OUTGOING and v and v[-1].receiving_signature)
    for ctx, direction in ((sending, Direction.OUTGOING), (receiving, Direction.INCOMING)):
        with ctx.sessions.begin() as session:
            save_mobility(session, replace(mobility, direction=direction), versions)
    policy = sending.settings.home / POLICY_FILE
    if not policy.exists():
        policy.write_text(json.dumps(DEMO_POLICY, indent=1), encoding="utf-8")
    planned = tuple(c.title for c in versions[-1].components if c.kind is ComponentKind.STUDIED)
    issue_transcripts(receiving, [transcript_for(mobility, planned[:1])])
    return mobility
