"""``ewp-node iia HOME diff|approve|adopt`` on a demo home, the partner's copies stored as a fetch would."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ewp_node.cli import main
from ewp_node.config import load_settings
from ewp_node.context import build_context
from ewp_node.iias import repository as repo
from ewp_node.iias.build import build_get_response, build_iia
from ewp_node.iias.demo import demo_iia_id
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.parse import parse_get_response
from ewp_node.iias.records import Iia
from ewp_node.iias.sync import store_copies
from ewp_node.responses import serialize

HEI, PARTNER = "uni-a.example.eu", "partner.example.eu"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _store_partner_copy(home: Path, theirs: Iia) -> None:
    """Keep ``theirs`` as the partner's copy, as a fetch of the partner's get would."""
    received = parse_get_response(serialize(build_get_response([build_iia(theirs, hash_iia(build_iia(theirs, None))
                                                                          .sha256)])))
    ctx = build_context(load_settings(home))
    try:
        with ctx.sessions.begin() as session:
            store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=[], received=received, now=T0)
    finally:
        ctx.audit.close()


def _ours(home: Path, iia_id: str) -> Iia:
    ctx = build_context(load_settings(home))
    try:
        with ctx.sessions() as session:
            row = repo.find(session, HEI, iia_id)
            assert row is not None
            return repo.record_of(row)
    finally:
        ctx.audit.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", HEI, "--hei-name", "University A", "--base-url",
                 "https://ewp.uni-a.example.eu", "--with-demo-data", "fr", "--demo-partner", PARTNER]) == 0
    return home


def test_diff_then_approve_the_partners_copy(home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    iia_id = demo_iia_id(HEI, PARTNER, 1)
    ours = _ours(home, iia_id)
    theirs = replace(ours, partners=(ours.partner, ours.owner), pdf_file=None)
    changed = replace(theirs.conditions[0], mobilities_per_year=theirs.conditions[0].mobilities_per_year + 1)
    _store_partner_copy(home, replace(theirs, conditions=(changed, *theirs.conditions[1:])))
    capsys.readouterr()
    assert main(["iia", str(home), "diff", iia_id]) == 0
    out = capsys.readouterr().out
    assert f"partner says {changed.mobilities_per_year} students/year" in out and "1 difference(s)" in out
    _store_partner_copy(home, theirs)
    assert main(["iia", str(home), "diff", iia_id]) == 0
    assert "the two copies agree" in capsys.readouterr().out
    assert main(["iia", str(home), "approve", iia_id, "--by", "Anna"]) == 0
    assert f"approved {PARTNER}'s copy of IIA {iia_id}" in capsys.readouterr().out
    assert main(["cnr", str(home), "list"]) == 0
    assert "iia-approval-cnr" in capsys.readouterr().out


def test_approve_is_refused_without_a_partner_copy(home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["iia", str(home), "approve", demo_iia_id(HEI, PARTNER, 2)]) == 1
    assert "refused: IIA" in capsys.readouterr().err
    assert main(["iia", str(home), "diff", "nope"]) == 2


def test_adopt_a_copy_the_partner_created(home: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    ours = _ours(home, demo_iia_id(HEI, PARTNER, 1))
    theirs = replace(ours, partners=(replace(ours.partner, iia_id="p-new"), replace(ours.owner, iia_id=None)),
                     pdf_file=None)
    _store_partner_copy(home, theirs)
    capsys.readouterr()
    assert main(["iia", str(home), "adopt", PARTNER, "p-new"]) == 0
    assert f"from {PARTNER}'s copy p-new" in capsys.readouterr().out
    assert main(["iia", str(home), "adopt", PARTNER, "p-new"]) == 1
    assert "already mapped" in capsys.readouterr().err
