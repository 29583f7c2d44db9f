"""IIA import and export (all or nothing, idempotent, the round trip), the ``ewp-node iia`` commands and the
demo data contract of ``init --with-demo-data --demo-partner``."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ewp_node.cli import main
from ewp_node.config import load_settings
from ewp_node.context import build_context
from ewp_node.iias import repository as repo
from ewp_node.iias.demo import demo_iia_id, demo_iias
from ewp_node.iias.importer import FORMAT, ImportFailed, export_document, import_document
from ewp_node.iias.records import MobilityKind
from ewp_node.publish import repository as files
from ewp_node.store.db import make_engine, session_factory, upgrade_database

HEI, PARTNER = "uni-a.example.eu", "partner.example.eu"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'iias.sqlite3'}")
    upgrade_database(engine)
    yield session_factory(engine)
    engine.dispose()


def _document(raw_iia: dict[str, Any], *more: dict[str, Any]) -> dict[str, Any]:
    first = {k: v for k, v in raw_iia.items() if k != "pdf_file"}
    return {"format": FORMAT, "hei_id": HEI, "iias": [first, *more]}


def _second(raw_iia: dict[str, Any]) -> dict[str, Any]:
    second = copy.deepcopy(raw_iia)
    second.pop("pdf_file")
    second["partners"][0]["iia_id"] = "iia-2"
    return second


def test_import_is_idempotent_and_export_round_trips(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    document = _document(raw_iia, _second(raw_iia))
    assert import_document(sessions, document, {HEI}, source="f.json", now=T0).counts == {"created": 2}
    assert import_document(sessions, document, {HEI}, source="f.json", now=T0).counts == {"unchanged": 2}
    with sessions() as session:
        exported = export_document(session, HEI)
    assert import_document(sessions, exported, {HEI}, source="export", now=T0).counts == {"unchanged": 2}
    document["iias"][0]["in_effect"] = False
    document["delete"] = ["iia-2"]
    document["iias"].pop()
    report = import_document(sessions, document, {HEI}, source="f.json", now=T0)
    assert report.counts == {"updated": 1, "deleted": 1}
    assert "IIAs deleted: 1, updated: 1" in report.summary()
    with sessions() as session:
        assert [r.iia_id for r in repo.our_copies(session, HEI)] == ["iia-1"]


def test_import_is_all_or_nothing(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    bad = _second(raw_iia)
    bad["conditions"][0]["mobilities_per_year"] = "many"
    with pytest.raises(ImportFailed, match=r"iias\[1\], field 'conditions\[0\].mobilities_per_year'"):
        import_document(sessions, _document(raw_iia, bad), {HEI}, source="f.json")
    refused = _second(raw_iia)
    refused["pdf_file"] = "no-such-file"  # passes the checks, refused by the service: the whole file rolls back
    with pytest.raises(ImportFailed, match="no-such-file"):
        import_document(sessions, _document(raw_iia, refused), {HEI}, source="f.json")
    with pytest.raises(ImportFailed, match="not a HEI covered"):
        import_document(sessions, {**_document(raw_iia), "hei_id": PARTNER}, {HEI}, source="f.json")
    duplicate = _document(raw_iia, copy.deepcopy(_document(raw_iia)["iias"][0]))
    with pytest.raises(ImportFailed, match="also given by iias"):
        import_document(sessions, duplicate, {HEI}, source="f.json")
    with sessions() as session:
        assert repo.our_copies(session, HEI) == []


def _init(home: Path, hei_id: str, dataset: str, partner: str) -> None:
    assert main(["init", str(home), "--hei-id", hei_id, "--hei-name", f"University {hei_id}",
                 "--base-url", f"https://ewp.{hei_id}", "--with-demo-data", dataset, "--demo-partner", partner]) == 0


def test_demo_data_contract(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    _init(home, HEI, "fr", PARTNER)
    ctx = build_context(load_settings(home))
    try:
        with ctx.sessions() as session:
            rows = repo.our_copies(session, HEI)
            records = [repo.record_of(r) for r in rows]
            assert len(records) >= 2
            assert {c.kind for r in records for c in r.conditions} == set(MobilityKind)
            assert all(r.partner.hei_id == PARTNER for r in records)
            assert any(r.partner.iia_id == demo_iia_id(PARTNER, HEI, 1) for r in records)  # mapped
            pdfs = [r.pdf_file for r in records if r.pdf_file]
            assert pdfs and files.file_for(session, pdfs[0], [HEI]).shared_with == [PARTNER]
            institution = files.institution(session, HEI)
            file_urls = [u["url"] for u in institution["mobility_factsheet_urls"] if "/ewp/file?file_id=" in u["url"]]
            assert file_urls, institution["mobility_factsheet_urls"]
            file_id = file_urls[0].split("file_id=")[1]
            assert file_urls[0].startswith(ctx.settings.url("ewp/file", HEI))
            assert files.file_for(session, file_id, [HEI]) is not None  # served by the File API
            served = etree.fromstring(rows[0].element)
            assert served.findtext("{*}iia-hash") == rows[0].iia_hash
    finally:
        ctx.audit.close()
    capsys.readouterr()
    assert main(["iia", str(home), "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 2 and all(PARTNER in line for line in listing)
    assert "not mapped by the partner yet" in "\n".join(listing)
    iia_id = demo_iia_id(HEI, PARTNER, 1)
    assert main(["iia", str(home), "show", iia_id]) == 0
    shown = capsys.readouterr().out
    assert "partner's copy: not fetched" in shown and "student-traineeship-mobility-spec" in shown
    assert main(["iia", str(home), "show", "nope"]) == 2
    assert "has no IIA 'nope'" in capsys.readouterr().err
    export = tmp_path / "iias.json"
    assert main(["iia", str(home), "export", "-o", str(export)]) == 0
    assert len(json.loads(export.read_text())["iias"]) == 2
    assert main(["iia", str(home), "import", str(export)]) == 0
    assert "unchanged: 2" in capsys.readouterr().out
    export.write_text("{")
    assert main(["iia", str(home), "import", str(export)]) == 1
    assert "is not valid JSON" in capsys.readouterr().err


def test_two_demo_nodes_hold_matching_copies() -> None:
    a, b = "univ-valmont.fr", "uni-nadwislanski.edu.pl"
    ours, theirs = demo_iias(a, b), demo_iias(b, a)
    assert ours[0]["partners"][1]["iia_id"] == theirs[0]["partners"][0]["iia_id"]
    assert theirs[0]["partners"][1]["iia_id"] == ours[0]["partners"][0]["iia_id"]
    assert [o["conditions"] for o in ours] == [t["conditions"] for t in theirs]
    assert "iia_id" not in ours[1]["partners"][1]


def test_demo_partner_needs_demo_data(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["init", str(tmp_path / "h"), "--hei-id", HEI, "--hei-name", "A", "--base-url", "https://a.eu",
                 "--demo-partner", PARTNER]) == 2
    assert "--demo-partner needs --with-demo-data" in capsys.readouterr().err
    assert not (tmp_path / "h").exists()
