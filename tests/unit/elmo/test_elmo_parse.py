"""Reading partner ELMO documents: safe parsing, our own schemas, the model."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest

from ewp_node.elmo.parse import XSD_DIR, ElmoSchemaError, detect_version, parse_elmo, validate_elmo
from ewp_node.xml.parse import MalformedDocument, parse_xml


@pytest.mark.parametrize("kind", ["unsigned", "signed", "tampered"])
def test_our_schemas_accept_every_official_vector(vector, elmo_version: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert validate_elmo(parse_xml(vector(elmo_version, kind))) == elmo_version


def test_our_v1_schema_accepts_the_official_example(specs_dir: Path) -> None:
    assert validate_elmo(parse_xml((specs_dir / "elmo-schemas" / "example.xml").read_bytes())) == "1.7"


def test_our_schemas_are_our_own(specs_dir: Path) -> None:
    official = {hashlib.sha256(p.read_bytes()).digest() for p in specs_dir.rglob("*.xsd")}
    ours = {hashlib.sha256(p.read_bytes()).digest() for p in XSD_DIR.glob("elmo-*.xsd")}
    assert ours and not ours & official


def test_vector_reads_into_the_model(vector) -> None:  # type: ignore[no-untyped-def]
    elmo = parse_elmo(vector("1.7", "unsigned"))
    learner = elmo.learner
    assert (learner.given_names, learner.family_name, str(learner.birth_date)) == (
        "Eleni",
        "Papadopoulou",
        "2003-04-17",
    )
    assert learner.esi is not None and learner.esi.issuer == "uoa.gr"
    (report,) = elmo.reports
    assert [i.value for i in report.issuer.identifiers] == ["unibo.it", "I  BOLOGNA01"]
    courses = report.learning_opportunities
    assert [c.code() for c in courses] == ["93122", "93130", "78811", "66001", "93140"]
    assert [c.instance.result_label for c in courses] == ["28", "30L", "24", "30", "19"]
    assert [c.instance.ects for c in courses] == [Decimal(n) for n in (9, 6, 8, 4, 6)]
    first = courses[0].instance
    assert first.credits[0].level == "Master"
    assert first.result_distribution is not None and len(first.result_distribution.categories) == 14
    assert report.grading_scheme(first.grading_scheme_local_id) is not None


def test_v2_specifics_are_read(vector) -> None:  # type: ignore[no-untyped-def]
    elmo = parse_elmo(vector("2.1.1", "unsigned"))
    assert elmo.learner.alternative_name is not None and elmo.learner.alternative_name.lang == "el"
    assert elmo.reports[0].status == "FULL"
    assert elmo.reports[0].issuer.country == "IT" and elmo.learner.citizenship == "GR"


def _swap(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (b"<givenNames>Eleni</givenNames>", b"", "givenNames"),
        (b"<status>passed</status>", b"<status>done</status>", "status"),
        (b'count="4"', b'count="-4"', "count"),
        (b"<bday>2003-04-17</bday>", b"<dateOfBirth>2003-04-17</dateOfBirth>", "dateOfBirth"),
    ],
)
def test_invalid_v1_documents_are_rejected(vector, old: bytes, new: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ElmoSchemaError, match=message) as info:
        parse_elmo(_swap(vector("1.7", "unsigned"), old, new))
    assert info.value.errors and isinstance(info.value, MalformedDocument)


def test_v1_only_content_is_refused_in_v2(vector) -> None:  # type: ignore[no-untyped-def]
    data = _swap(vector("2.1.1", "unsigned"), b"<scheme>ects</scheme>", b"<scheme>ects</scheme><level>Master</level>")
    with pytest.raises(ElmoSchemaError, match="level"):
        parse_elmo(data)


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE elmo [<!ENTITY x "y">]><elmo>&x;</elmo>',
        b"<elmo><unclosed></elmo>",
        b"",
    ],
)
def test_unsafe_or_broken_xml_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedDocument):
        parse_elmo(data)


def test_size_is_bounded(vector) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedDocument, match="too large"):
        parse_elmo(vector("1.7", "unsigned"), max_bytes=1000)


def test_other_roots_are_not_elmo() -> None:
    with pytest.raises(ElmoSchemaError, match="not an ELMO document"):
        detect_version(parse_xml(b'<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v3"/>'))
