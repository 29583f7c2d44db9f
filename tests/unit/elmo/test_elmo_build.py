"""Building ELMO 1.7 and 2.1.1 documents: valid against the official XSDs and ours, faithful round trip."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from ewp_node.elmo.build import build_elmo
from ewp_node.elmo.model import (
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
    GradeCount,
    GradingScheme,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunity,
    LearningOpportunityInstance,
    Level,
    Report,
    ResultDistribution,
    Text,
)
from ewp_node.elmo.parse import parse_elmo, read_elmo
from ewp_node.xml.parse import parse_xml

PDF = b"%PDF-1.4\n% transcript\n%%EOF\n"
TZ = dt.timezone(dt.timedelta(hours=2))


def _course(code: str, grade: str, ects: int, level: str | None) -> LearningOpportunity:
    return LearningOpportunity(
        titles=(Text(f"Course {code}", "en"),),
        identifiers=(Identifier("local", code),),
        type="Course",
        isced_code="0421",
        instance=LearningOpportunityInstance(
            identifiers=(Identifier("ewp-loi-id", f"loi-{code}"),),
            start=dt.date(2025, 2, 17),
            date=dt.date(2025, 6, 20),
            academic_term=AcademicTerm((Text("Spring 2025", "en"),), dt.date(2025, 2, 1), dt.date(2025, 7, 31)),
            status="passed",
            grading_scheme_local_id="IT",
            result_label=grade,
            result_distribution=ResultDistribution(
                (GradeCount("30L", 2), GradeCount("30", 5), GradeCount("18", 9)), (Text("3 years", "en"),)
            ),
            credits=(Credit("ects", Decimal(ects), level),),
            levels=(Level("EQF", "7", Text("Second cycle", "en")),),
            language_of_instruction="it",
            engagement_hours=Decimal("42.5"),
        ),
    )


def _transcript(version: str) -> Elmo:
    v1 = version == "1.7"
    module = _course("M1", "28", 12, "Master" if v1 else None)
    module = LearningOpportunity(
        titles=(Text("Module with parts", "en"),),
        identifiers=(Identifier("local", "MOD"),),
        type="Module",
        instance=LearningOpportunityInstance(credits=(Credit("ects", Decimal(12)),)),
        parts=(module, _course("M2", "30L", 3, None)),
    )
    return Elmo(
        generated_date=dt.datetime(2025, 7, 15, 10, 30, tzinfo=TZ),
        learner=Learner(
            given_names="Eleni",
            family_name="Papadopoulou",
            identifiers=(Identifier("esi", "urn:schac:personalUniqueCode:int:esi:uoa.gr:1115202100123"),),
            citizenship="GR",
            birth_date=dt.date(2003, 4, 17),
            alternative_name=None if v1 else Text("Ελένη Παπαδοπούλου", "el"),
            gender=2,
        ),
        reports=(
            Report(
                issuer=Issuer(
                    (Identifier("schac", "unibo.it"), Identifier("erasmus", "I  BOLOGNA01")),
                    (Text("University of Bologna", "en"),),
                    "https://www.unibo.it",
                    "IT",
                ),
                issue_date=dt.datetime(2025, 7, 15, 10, 30, tzinfo=TZ),
                learning_opportunities=(_course("93122", "28", 9, "Master" if v1 else None), module),
                grading_schemes=(GradingScheme("IT", (Text("Italian 18-30", "en"),)),),
                attachments=(Attachment.pdf("Transcript of Records", Text("ToR", "en"), PDF, "en"),),
                status=None if v1 else "FULL",
            ),
        ),
        attachments=(Attachment.pdf("Diploma Supplement", Text("DS", "en"), PDF),),
    )


def test_built_documents_validate_against_official_and_our_schemas(elmo_version: str, validate_official) -> None:  # type: ignore[no-untyped-def]
    root = build_elmo(_transcript(elmo_version), elmo_version)
    validate_official(root)
    assert read_elmo(root) == _transcript(elmo_version)


def test_attachments_carry_the_pdf(elmo_version: str) -> None:
    elmo = read_elmo(build_elmo(_transcript(elmo_version), elmo_version))
    assert elmo.attachments[0].data() == ("application/pdf", PDF)
    assert elmo.reports[0].attachments[0].type == "Transcript of Records"


def test_hierarchy_survives(elmo_version: str) -> None:
    elmo = read_elmo(build_elmo(_transcript(elmo_version), elmo_version))
    codes = [lo.code() for top in elmo.reports[0].learning_opportunities for lo in top.walk()]
    assert codes == ["93122", "MOD", "M1", "M2"]


def test_missing_alternative_name_is_written_empty_in_v2(validate_official) -> None:  # type: ignore[no-untyped-def]
    elmo = _transcript("1.7")  # no alternative name
    root = build_elmo(elmo, "2.1.1")
    validate_official(root)
    assert read_elmo(root).learner.alternative_name is None


def test_version_specific_fields_are_dropped_where_the_version_has_none(validate_official) -> None:  # type: ignore[no-untyped-def]
    validate_official(build_elmo(_transcript("2.1.1"), "1.7"))
    validate_official(build_elmo(_transcript("1.7"), "2.1.1"))


def test_v2_needs_an_identifier_per_opportunity() -> None:
    elmo = _transcript("2.1.1")
    report = elmo.reports[0]
    bare = LearningOpportunity((Text("No id"),), LearningOpportunityInstance())
    elmo = Elmo(elmo.generated_date, elmo.learner, (Report(report.issuer, report.issue_date, (bare,)),))
    with pytest.raises(ValueError, match="needs an identifier"):
        build_elmo(elmo, "2.1.1")


def test_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported ELMO version"):
        build_elmo(_transcript("1.7"), "3.0")


def _canonical(root: etree._Element) -> bytes:
    for element in root.iter():
        if len(element):
            element.text = None
        element.tail = None
    return etree.tostring(root, method="c14n")


def test_rebuilding_a_vector_gives_the_same_document(vector, elmo_version: str) -> None:  # type: ignore[no-untyped-def]
    data = vector(elmo_version, "unsigned")
    assert _canonical(build_elmo(parse_elmo(data), elmo_version)) == _canonical(parse_xml(data))
