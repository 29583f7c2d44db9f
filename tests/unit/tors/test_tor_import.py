"""Issuing transcripts from the SIS import: the ELMO 2.1.1 document (official XSD, ESI, distributions,
signature by the server key), the ToR CNR queued with it, and all-or-nothing refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select

from ewp_node.cli import main
from ewp_node.cnr.outbox import OutboxRow
from ewp_node.elmo import parse_elmo, verify_elmo
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.tors.importer import FORMAT, TorImportFailed, read_document, read_file
from ewp_node.tors.models import IssuedTranscriptRow
from ewp_node.tors.service import TOR_CNR, NotOurIncomingMobility, issue_transcripts

from .conftest import RECEIVING, SENDING, approved_mobility, courses_of_scale, store_mobility, tor_document


@pytest.fixture
def receiving_node(make_node):  # type: ignore[no-untyped-def]
    """Node of RECEIVING with SENDING's student as an incoming mobility (and one outgoing mobility of its own)."""
    node = make_node(heis=(RECEIVING,), partner_heis=(SENDING,))
    mobility, versions = approved_mobility(SENDING, RECEIVING)
    store_mobility(node.ctx, mobility, versions, Direction.INCOMING)
    outgoing, out_versions = approved_mobility(RECEIVING, SENDING)
    store_mobility(node.ctx, outgoing, out_versions, Direction.OUTGOING)
    return node, mobility, outgoing


def _count(ctx, table) -> int:  # type: ignore[no-untyped-def]
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_an_imported_transcript_is_signed_valid_elmo_with_its_cnr_queued(
        receiving_node, grade_vectors: dict[str, Any], validate_official) -> None:  # type: ignore[no-untyped-def]
    node, mobility, _ = receiving_node
    courses = courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")
    [issued] = issue_transcripts(node.ctx, read_document(tor_document(SENDING, mobility.omobility_id, courses)))
    validate_official(issued.elmo)
    verified = verify_elmo(issued.elmo, trusted_keys=[node.ctx.server_key.private.public_key()])
    elmo = parse_elmo(verified.signed_bytes)
    assert elmo.learner.esi is not None and elmo.learner.esi.urn == mobility.student.global_id
    assert elmo.learner.birth_date == mobility.student.birth_date
    [report] = elmo.reports
    assert [i.value for i in report.issuer.identifiers if i.type == "schac"] == [RECEIVING]
    assert [lo.instance.result_label for lo in report.learning_opportunities] == [c["result"] for c in courses]
    first = report.learning_opportunities[0]
    assert first.isced_code == "0421" and first.instance.ects == 6
    assert first.instance.result_distribution is not None
    assert first.instance.result_distribution.pairs() == [(c["label"], c["count"]) for c in courses[0]["distribution"]]
    assert report.grading_scheme("IT-18-30") is not None
    [pdf] = report.attachments
    assert pdf.type == "Transcript of Records" and [c.lang for c in pdf.contents] == ["en", "fr"]
    for index in (0, 1):
        media_type, data = pdf.data(index)
        assert media_type == "application/pdf" and data.startswith(b"%PDF-")
    [table] = etree.fromstring(issued.conversion_table)
    assert table.get("iscedCode") == "0421"
    assert (table[0].get("label"), Decimal(table[0].get("percentage"))) == ("30L", Decimal("2.9268"))  # 60 of 2050
    with node.ctx.sessions() as session:
        [cnr] = session.scalars(select(OutboxRow)).all()
    assert (cnr.kind, cnr.owner_hei, cnr.partner_hei, cnr.object_id) == (TOR_CNR, RECEIVING, SENDING,
                                                                          mobility.omobility_id)


def test_re_issuing_replaces_the_transcript_and_merges_the_pending_cnr(
        receiving_node, grade_vectors: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    node, mobility, _ = receiving_node
    courses = courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")
    issue_transcripts(node.ctx, read_document(tor_document(SENDING, mobility.omobility_id, courses)))
    [corrected] = issue_transcripts(node.ctx, read_document(tor_document(SENDING, mobility.omobility_id, courses[:3])))
    assert _count(node.ctx, IssuedTranscriptRow) == 1 and _count(node.ctx, OutboxRow) == 1
    assert len(parse_elmo(corrected.elmo).reports[0].learning_opportunities) == 3


@pytest.mark.parametrize("which", ["unknown", "outgoing"])
def test_a_transcript_for_a_mobility_that_is_not_our_incoming_one_writes_nothing(
        receiving_node, grade_vectors: dict[str, Any], which: str) -> None:  # type: ignore[no-untyped-def]
    node, mobility, outgoing = receiving_node
    courses = courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")
    good = tor_document(SENDING, mobility.omobility_id, courses)["transcripts"][0]
    bad = (tor_document(SENDING, "no-such-mobility", courses) if which == "unknown"
           else tor_document(RECEIVING, outgoing.omobility_id, courses))["transcripts"][0]
    document = {"format": FORMAT, "transcripts": [good, bad]}
    with pytest.raises(NotOurIncomingMobility, match="not one of our incoming mobilities"):
        issue_transcripts(node.ctx, read_document(document))
    assert _count(node.ctx, IssuedTranscriptRow) == 0 and _count(node.ctx, OutboxRow) == 0


def test_every_problem_of_an_invalid_file_is_named(tmp_path: Path, grade_vectors: dict[str, Any]) -> None:
    courses = courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")[:3]
    courses[0]["result"] = "31"
    courses[1]["distribution"] = [{"label": "30", "count": 0}]
    courses[1]["isced_code"] = "law"
    del courses[2]["term"]
    path = tmp_path / "grades.json"
    path.write_text(json.dumps(tor_document(SENDING, "m-1", courses)), encoding="utf-8")
    with pytest.raises(TorImportFailed) as failure:
        read_file(path)
    message = str(failure.value)
    for expected in ("'31' is not one of the grades", "at least one count must be non-zero",
                     "'law' is not an ISCED-F code", "field 'courses[2].term': an object is expected"):
        assert expected in message


def test_the_cli_imports_all_or_nothing(grade_vectors: dict[str, Any], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", RECEIVING, "--hei-name", "Receiving University", "--base-url",
                 "https://ewp.uni-b.example.eu", "--with-demo-data", "fr", "--demo-partner", SENDING]) == 0
    incoming = next(m for m, _ in demo_mobilities(RECEIVING, SENDING) if m.direction is Direction.INCOMING)
    courses = courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(tor_document(SENDING, "unknown", courses)), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(tor_document(SENDING, incoming.omobility_id, courses)), encoding="utf-8")
    capsys.readouterr()
    assert main(["tor", str(home), "import", str(bad)]) == 1
    assert "not one of our incoming mobilities" in capsys.readouterr().err
    assert main(["tor", str(home), "import", str(good)]) == 0
    assert f"issued the transcript of {incoming.omobility_id}" in capsys.readouterr().out
    assert main(["cnr", str(home), "list"]) == 0
    assert "imobility-tor-cnr" in capsys.readouterr().out


def test_the_pdf_writes_names_beyond_latin_1_with_their_base_letters(grade_vectors: dict[str, Any]) -> None:
    from dataclasses import replace

    from ewp_node.tors import pdf

    assert pdf.latin1("Zieliński-Łukasiewicz, Université") == "Zielinski-?ukasiewicz, Université"
    mobility, _ = approved_mobility(SENDING, RECEIVING)
    mobility = replace(mobility, student=replace(mobility.student, family_name="Zieliński"))
    [transcript] = read_document(tor_document(SENDING, mobility.omobility_id,
                                              courses_of_scale(grade_vectors["scales"]["IT-18-30"], "0421", "LAW")))
    for lang in ("en", "fr"):
        assert pdf.render_pdf(transcript, mobility, "Université B", datetime.now(UTC), lang).startswith(b"%PDF-")
