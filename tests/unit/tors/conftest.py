"""Fixtures of the transcript tests: an incoming mobility at a node, and import documents built from the
grade tables of ``vectors/grade-conversion.json`` (one course per grade of a scale, the scale's counts as
the course cohort)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction, LaVersion, Mobility
from ewp_node.mobilities.service import save_mobility
from ewp_node.tors.importer import FORMAT

SENDING, RECEIVING = "uni-a.example.eu", "uni-b.example.eu"
TERM = {"title": "Winter semester 2026/2027", "start": "2026-09-01", "end": "2027-01-31"}


def approved_mobility(sending: str, receiving: str) -> tuple[Mobility, tuple[LaVersion, ...]]:
    """The demo mobility with an approved LA (two studied courses), as its sending HEI stores it."""
    return next((m, v) for m, v in demo_mobilities(sending, receiving)
                if m.direction is Direction.OUTGOING and v and v[-1].receiving_signature is not None)


def store_mobility(ctx, mobility: Mobility, versions: tuple[LaVersion, ...], direction: Direction) -> None:  # type: ignore[no-untyped-def]
    with ctx.sessions.begin() as session:
        save_mobility(session, replace(mobility, direction=direction), versions)


def courses_of_scale(scale: dict[str, Any], isced_code: str, prefix: str) -> list[dict[str, Any]]:
    """One passed course per grade of ``scale`` (the vectors' format), its cohort = the scale's counts."""
    distribution = [{"label": row["label"], "count": row["count"]} for row in scale["distribution"]]
    return [{"code": f"{prefix}{index:03d}", "title": f"Course {prefix}{index:03d}", "isced_code": isced_code,
             "ects": "6", "result": row["label"], "passed": True, "distribution": distribution, "term": TERM,
             "date": "2027-01-20", "language": "en"} for index, row in enumerate(scale["distribution"])]


def tor_document(sending: str, omobility_id: str, courses: list[dict[str, Any]],
                 scheme: str = "IT-18-30") -> dict[str, Any]:
    return {"format": FORMAT, "transcripts": [{
        "sending_hei_id": sending, "omobility_id": omobility_id,
        "grading_schemes": [{"id": scheme, "description": f"The {scheme} scale, best grade first"}],
        "courses": courses}]}


@pytest.fixture(scope="session")
def grade_vectors(specs_dir: Path) -> dict[str, Any]:
    return json.loads((specs_dir / "vectors" / "grade-conversion.json").read_text(encoding="utf-8"))
