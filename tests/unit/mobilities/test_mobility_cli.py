"""``ewp-node init --with-demo-data --demo-partner``, ``ewp-node mobility`` and ``ewp-node la`` on a real home:
list, show, export then import (nothing changes), a refused import changes nothing, proposals checked against
the partner's replicated catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ewp_node.cli import main
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction, ProposalState

HEI, PARTNER = "uni-cli.example.eu", "partner.example.eu"
DEMO = demo_mobilities(HEI, PARTNER)
PENDING = next(m for m, v in DEMO if v and v[-1].state is ProposalState.PENDING)
APPROVED = next(m for m, v in DEMO if v and v[-1].state is ProposalState.APPROVED)
PROPOSAL = {"components": [{"kind": "components-studied", "title": "Compilers", "term_number": 1, "total_terms": 2,
                            "credits": [{"scheme": "ects", "value": "5"}], "status": "inserted",
                            "reason_code": "substituting-deleted"}],
            "student_signature": {"timestamp": "2026-06-01T10:00:00+02:00"},
            "sending_signature": {"timestamp": "2026-06-02T10:00:00+02:00", "signer_name": "Claire Bernard",
                                  "signer_position": "Erasmus coordinator", "signer_email": "erasmus@uni-cli.eu"}}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", HEI, "--hei-name", "CLI University", "--base-url",
                 "https://ewp.uni-cli.example.eu", "--with-demo-data", "fr", "--demo-partner", PARTNER]) == 0
    return home


def _run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_list_show_export_import(home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = _run(capsys, "mobility", str(home), "list")
    assert status == 0 and len(out.splitlines()) == 5
    assert sum(line.startswith("outgoing") for line in out.splitlines()) == 3
    assert f"{PENDING.omobility_id}  {PENDING.student.given_names}" in out and "LA pending" in out

    status, out, _ = _run(capsys, "mobility", str(home), "show", PENDING.omobility_id)
    assert status == 0 and PENDING.student.global_id in out and "LA pending" in out

    exported = tmp_path / "mobilities.json"
    assert _run(capsys, "mobility", str(home), "export", "-o", str(exported))[0] == 0
    status, out, _ = _run(capsys, "mobility", str(home), "import", str(exported))
    assert status == 0 and "5 mobilities read, 0 created or changed" in out

    document = json.loads(exported.read_text())
    incoming = next(m for m in document["mobilities"] if m["direction"] == Direction.INCOMING.value)
    incoming["actual_arrival"] = "2026-09-03"
    document["mobilities"].append({**document["mobilities"][0], "omobility_id": "new-1",
                                   "student": {**document["mobilities"][0]["student"], "global_id": "esi:bad"}})
    exported.write_text(json.dumps(document))
    status, _, err = _run(capsys, "mobility", str(home), "import", str(exported))
    assert status == 1 and "mobilities[5], field 'student.global_id'" in err and "nothing changed" in err
    assert "2026-09-03" not in _run(capsys, "mobility", str(home), "export")[1]  # all or nothing

    document["mobilities"][-1]["student"]["global_id"] = f"urn:schac:personalUniqueCode:int:esi:{HEI}:77"
    exported.write_text(json.dumps(document))
    status, out, _ = _run(capsys, "mobility", str(home), "import", str(exported))
    assert status == 0 and "6 mobilities read, 2 created or changed" in out
    assert "2026-09-03" in _run(capsys, "mobility", str(home), "export")[1]


def test_la_show_and_propose(home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = _run(capsys, "la", str(home), "show", APPROVED.omobility_id)
    assert status == 0 and "first version" in out and "signed by receiving HEI: Piotr" in out
    assert "signed by student: 20" in out  # no name in the student's signature: the date follows at once

    proposal = tmp_path / "proposal.json"
    proposal.write_text(json.dumps(PROPOSAL))
    status, out, _ = _run(capsys, "la", str(home), "propose", APPROVED.omobility_id, str(proposal))
    assert status == 0 and f"awaits the approval of {PARTNER}" in out
    status, out, _ = _run(capsys, "la", str(home), "show", APPROVED.omobility_id)
    assert "changes proposal" in out and "Compilers" in out and "first version" in out

    incoming = next(m for m, _ in DEMO if m.direction is Direction.INCOMING)
    status, _, err = _run(capsys, "la", str(home), "propose", incoming.omobility_id, str(proposal))
    assert status == 2 and "its sending HEI proposes" in err
    status, _, err = _run(capsys, "la", str(home), "approve", PENDING.omobility_id, "--signer-name", "x",
                          "--signer-position", "y", "--signer-email", "x@y.eu")
    assert status == 1 and "no pending proposal of" in err  # our own LA: the partner approves it, not us
    status, _, err = _run(capsys, "mobility", str(home), "reject", PENDING.omobility_id, "--comment", "no")
    assert status == 1 and "no nomination of" in err  # our own nomination: the partner decides


def test_proposals_follow_the_replicated_catalogue(home: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.config import load_settings
    from ewp_node.context import build_context
    from ewp_node.publish.importer import import_document

    ctx = build_context(load_settings(home))
    course = {"los_id": "CR/cc1", "titles": [{"lang": "en", "text": "Cloud Computing"}],
              "instances": [{"loi_id": "CRI/cc1-2026", "start": "2026-09-01", "end": "2027-01-31"}]}
    import_document(ctx.sessions, {"format": "ewp-node-publish/1", "hei_id": PARTNER, "courses": [course]},
                    {PARTNER}, source="replicated")
    ctx.audit.close()
    proposal = tmp_path / "proposal.json"
    wrong = {**PROPOSAL, "components": [{"kind": "components-studied", "los_id": "CR/nope"}]}
    proposal.write_text(json.dumps(wrong))
    status, _, err = _run(capsys, "la", str(home), "propose", PENDING.omobility_id, str(proposal))
    assert status == 1 and "'CR/nope' is not in the replicated course catalogue" in err
    right = {**PROPOSAL, "components": [{"kind": "components-studied", "los_id": "CR/cc1", "loi_id": "CRI/cc1-2026"}]}
    proposal.write_text(json.dumps(right))
    assert _run(capsys, "la", str(home), "propose", PENDING.omobility_id, str(proposal))[0] == 0
    status, out, _ = _run(capsys, "la", str(home), "show", PENDING.omobility_id)
    assert "Cloud Computing [CR/cc1]" in out


def test_fetch_reads_named_nominations_or_resyncs(home: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``mobility fetch --hei P ID...`` fetches those nominations; without ids it re-syncs through P's index."""
    from ewp_node.mobilities import partner

    calls = []
    monkeypatch.setattr(partner, "fetch_nominations", lambda client, sessions, hei, ours, ids: calls.append(
        ("get", hei, set(ours), list(ids))) or len(ids))
    monkeypatch.setattr(partner, "resync_nominations", lambda client, sessions, hei, ours: calls.append(
        ("resync", hei, set(ours))) or 4)
    status, out, _ = _run(capsys, "mobility", str(home), "fetch", "--hei", PARTNER, "m-1", "m-2")
    assert status == 0 and out.strip() == f"2 nominations of {PARTNER} stored"
    status, out, _ = _run(capsys, "mobility", str(home), "fetch", "--hei", PARTNER)
    assert status == 0 and out.strip() == f"4 nominations of {PARTNER} stored"
    assert calls == [("get", PARTNER, {HEI}, ["m-1", "m-2"]), ("resync", PARTNER, {HEI})]


def test_the_readme_workflow_files_fit_the_sandbox(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The sending office's half of the README's workflow on the sandbox's node A: docs/examples' nomination
    imports, and its three LA documents name courses of node B's catalogue (the pl demo data set)."""
    from ewp_node.config import load_settings
    from ewp_node.context import build_context
    from ewp_node.publish.demo_data import build_document
    from ewp_node.publish.importer import import_document

    a, b = "univ-valmont.fr", "uni-nadwislanski.edu.pl"
    examples = Path(__file__).parents[3] / "docs" / "examples"
    home = tmp_path / "node-1"
    assert main(["init", str(home), "--hei-id", a, "--hei-name", "Valmont", "--base-url",
                 "https://ewp.valmont.fr"]) == 0
    with build_context(load_settings(home)) as ctx:  # what 'ewp-node replicate HOME --hei B' stores
        import_document(ctx.sessions, build_document("pl", b, None), {b}, source="replicated")
    status, out, _ = _run(capsys, "mobility", str(home), "import", str(examples / "nominations.json"))
    assert status == 0 and "1 created or changed" in out
    for name in ("la.json", "la-v2.json", "la-change.json"):
        status, out, err = _run(capsys, "la", str(home), "propose", "2026-ERA-0042", str(examples / name))
        assert status == 0 and f"awaits the approval of {b}" in out, (name, err)
    status, out, _ = _run(capsys, "la", str(home), "show", "2026-ERA-0042")
    assert "Database systems - basic course [CR/pl-bd1] 5 ects deleted (timetable-conflict)" in out
    assert "Artificial intelligence - basic course [CR/pl-si1] 5 ects inserted (substituting-deleted)" in out
