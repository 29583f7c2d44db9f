"""``ewp-node tor HOME list|show`` on a real home: accepted transcripts with their converted grades and the LA
match, rejected ones with their reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ewp_node.cli import main
from ewp_node.config import load_settings
from ewp_node.context import build_context
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.tors import repository as repo
from ewp_node.tors.records import ConvertedResult, Recognition

HEI, PARTNER = "uni-cli.example.eu", "partner.example.eu"


def test_list_and_show_received_transcripts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", HEI, "--hei-name", "CLI University", "--base-url",
                 "https://ewp.uni-cli.example.eu", "--with-demo-data", "fr", "--demo-partner", PARTNER]) == 0
    outgoing = next(m for m, _ in demo_mobilities(HEI, PARTNER) if m.direction is Direction.OUTGOING)
    ctx = build_context(load_settings(home))
    recognition = Recognition((
        ConvertedResult("93122", "European Union Law", "9", "28", True, "14", "IT-18-30 28 covers ...",
                        ("14", "13.5"), planned_as="EU Law"),
        ConvertedResult("93130", "Private International Law", "6", "31", True, None, "not converted: unknown"),
    ), missing=("Compilers",))
    now = datetime.now(UTC)
    with ctx.sessions.begin() as session:
        accepted = repo.add_received(session, sending_hei_id=HEI, receiving_hei_id=PARTNER,
                                     omobility_id=outgoing.omobility_id, elmo=b"<elmo/>", received_at=now,
                                     recognition=recognition)
        rejected = repo.add_received(session, sending_hei_id=HEI, receiving_hei_id=PARTNER, omobility_id="m-2",
                                     elmo=b"<elmo/>", received_at=now,
                                     rejected_because="InvalidSignature: the document was altered")
    ctx.audit.close()
    capsys.readouterr()
    assert main(["tor", str(home), "list"]) == 0
    out = capsys.readouterr().out
    assert outgoing.omobility_id in out and "accepted: 2 results, 1 converted, 1 planned courses missing" in out
    assert "m-2" in out and "REJECTED: InvalidSignature: the document was altered" in out
    assert main(["tor", str(home), "show", str(accepted.id)]) == 0
    out = capsys.readouterr().out
    assert "28 ->    14  planned as 'EU Law'" in out
    assert "31 ->     -  not in the learning agreement" in out and "not converted: unknown" in out
    assert "MISSING: 'Compilers'" in out
    assert main(["tor", str(home), "show", str(rejected.id)]) == 0
    assert "REJECTED" in capsys.readouterr().out
    assert main(["tor", str(home), "show", "999"]) == 1
    capsys.readouterr()
    assert main(["sis", str(home), "list"]) == 0
    assert "file missing: replay it" in capsys.readouterr().out  # the rows were written directly here
    assert main(["sis", str(home), "replay", str(accepted.id)]) == 0
    assert "wrote" in capsys.readouterr().out
    record = json.loads((home / "sis-outbox" / f"recognition-{accepted.id:08d}.json").read_text(encoding="utf-8"))
    assert record["planned_but_missing"] == ["Compilers"] and record["courses"][0]["suggested_home_grade"] == "14"
    assert main(["sis", str(home), "list"]) == 0
    assert "missing" not in capsys.readouterr().out
    assert main(["sis", str(home), "replay", str(rejected.id)]) == 1
    assert "no recognition record" in capsys.readouterr().err
    exported = tmp_path / "recognised.json"
    for lang in ("en", "fr"):
        pdf = tmp_path / f"recognised-{lang}.pdf"
        assert main(["tor", str(home), "export", str(accepted.id), "--json", str(exported), "--pdf", str(pdf),
                     "--lang", lang]) == 0
        assert pdf.read_bytes().startswith(b"%PDF-")
    assert json.loads(exported.read_text(encoding="utf-8"))["courses"][0]["ects"] == "9"
    assert main(["tor", str(home), "export", str(rejected.id)]) == 1


def test_init_with_a_demo_partner_issues_a_signed_transcript(tmp_path: Path, validate_official) -> None:  # type: ignore[no-untyped-def]
    from lxml import etree
    from sqlalchemy import select

    from ewp_node.elmo import parse_elmo, verify_elmo
    from ewp_node.tors.models import IssuedTranscriptRow

    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", HEI, "--hei-name", "CLI University", "--base-url",
                 "https://ewp.uni-cli.example.eu", "--with-demo-data", "fr", "--demo-partner", PARTNER]) == 0
    ctx = build_context(load_settings(home))
    with ctx.sessions() as session:
        [row] = session.scalars(select(IssuedTranscriptRow)).all()
    ctx.audit.close()
    assert (row.receiving_hei_id, row.sending_hei_id) == (HEI, PARTNER)
    validate_official(row.elmo)
    elmo = parse_elmo(verify_elmo(row.elmo, trusted_keys=[ctx.server_key.private.public_key()]).signed_bytes)
    assert elmo.learner.esi is not None
    labels = {lo.instance.result_label for lo in elmo.reports[0].learning_opportunities}
    tables = etree.fromstring(row.conversion_table)
    for table in tables:
        assert labels <= {row.get("label") for row in table}
        assert {c.label for c in elmo.reports[0].learning_opportunities[0].instance.result_distribution.categories} \
            == {row.get("label") for row in table}


def test_registration_records_of_approved_mobilities(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", HEI, "--hei-name", "CLI University", "--base-url",
                 "https://ewp.uni-cli.example.eu", "--with-demo-data", "fr", "--demo-partner", PARTNER]) == 0
    approved = [m for m, v in demo_mobilities(HEI, PARTNER) if v and v[-1].receiving_signature is not None]
    capsys.readouterr()
    assert main(["sis", str(home), "registrations"]) == 0
    assert f"{len(approved)} new registration records" in capsys.readouterr().out
    [path] = (home / "sis-outbox").glob("registration-*.json")
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["student"]["esi"] == approved[0].student.global_id
    assert record["mobility"]["omobility_id"] == approved[0].omobility_id
    assert [c["title"] for c in record["learning_agreement"]["courses"]][:1] and \
        all(c["ects"] for c in record["learning_agreement"]["courses"])
    assert main(["sis", str(home), "registrations"]) == 0
    assert "0 new registration records" in capsys.readouterr().out  # written once
