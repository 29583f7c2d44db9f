"""Courses API v0.7.1 (``<courses-response>``, LOS and LOI elements, academic terms of types-academic-term
stable-v1) and Simple Course Replication API v1.0.0 (``<course-replication-response>``)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Protocol

from lxml import etree

from ewp_node.xml.build.common import Record, add_text, add_texts
from ewp_node.xml.fragments import FragmentCache
from ewp_node.xml.ns import COURSE_REPLICATION, COURSES, TERM_V1, q

#: Bytes of serialised ``<learningOpportunitySpecification>`` elements each process (each server worker)
#: keeps to re-parse instead of rebuilding. A typical LOS takes 2.7 KB, 5.7 KB with its key (the LOS as
#: stored) and the Python objects, so 16 MB holds ~6,000 LOSes for ~35 MB per worker. Raising it buys hits
#: on larger catalogues with memory in every worker; lowering it, or 0 (no cache), makes more requests build
#: their LOSes in Python, 4-6x slower than re-parsing them.
LOS_CACHE_BYTES = 16 * 1024 * 1024


class LosSource(Hashable, Protocol):
    """A LOS with the LOIs to publish, maybe not decoded yet; equal sources must make equal records."""

    def record(self) -> Record:
        """The canonical LOS record with its ``instances``."""


def _e(local: str) -> str:
    return q(COURSES, local)


def _t(local: str) -> str:
    return q(TERM_V1, local)


def build_academic_term(record: Record) -> etree._Element:
    el = etree.Element(_t("academic-term"))
    add_text(el, _t("academic-year-id"), record["academic_year_id"])
    add_text(el, _t("ewp-id"), record.get("ewp_id"))
    add_texts(el, _t("display-name"), record["display_names"])
    add_text(el, _t("start-date"), record["start_date"])
    add_text(el, _t("end-date"), record["end_date"])
    return el


def build_loi(record: Record) -> etree._Element:
    el = etree.Element(_e("learningOpportunityInstance"))
    add_text(el, _e("loi-id"), record["loi_id"])
    add_text(el, _e("start"), record["start"])
    add_text(el, _e("end"), record["end"])
    if "academic_term" in record:
        el.append(build_academic_term(record["academic_term"]))
    if "grading_scheme" in record:
        scheme = etree.SubElement(el, _e("gradingScheme"))
        add_texts(scheme, _e("label"), record["grading_scheme"]["labels"])
        add_texts(scheme, _e("description"), record["grading_scheme"].get("descriptions", ()))
    if "result_distribution" in record:
        dist = etree.SubElement(el, _e("resultDistribution"))
        for category in record["result_distribution"]["categories"]:
            etree.SubElement(dist, _e("category"), label=category["label"], count=str(category["count"]))
        add_texts(dist, _e("description"), record["result_distribution"].get("descriptions", ()))
    for credit in record.get("credits", ()):
        credit_el = etree.SubElement(el, _e("credit"))
        add_text(credit_el, _e("scheme"), credit["scheme"])
        add_text(credit_el, _e("level"), credit.get("level"))
        add_text(credit_el, _e("value"), credit["value"])
    add_text(el, _e("languageOfInstruction"), record.get("language_of_instruction"))
    add_text(el, _e("engagementHours"), record.get("engagement_hours"))
    return el


def build_los(record: Record) -> etree._Element:
    """One ``<learningOpportunitySpecification>`` with the LOIs given in ``record["instances"]``."""
    el = etree.Element(_e("learningOpportunitySpecification"))
    add_text(el, _e("los-id"), record["los_id"])
    add_text(el, _e("los-code"), record.get("los_code"))
    add_text(el, _e("ounit-id"), record.get("ounit_id"))
    add_texts(el, _e("title"), record["titles"])
    add_text(el, _e("type"), record.get("type"))
    add_text(el, _e("subjectArea"), record.get("subject_area"))
    add_text(el, _e("iscedCode"), record.get("isced_code"))
    add_text(el, _e("eqfLevelProvided"), record.get("eqf_level"))
    add_texts(el, _e("url"), record.get("urls", ()), "url")
    add_texts(el, _e("description"), record.get("descriptions", ()))
    if record.get("instances"):
        specifies = etree.SubElement(el, _e("specifies"))
        specifies.extend(build_loi(loi) for loi in record["instances"])
    if record.get("contains"):
        contains = etree.SubElement(el, _e("contains"))
        for los_id in record["contains"]:
            add_text(contains, _e("los-id"), los_id)
    return el


_LOS_FRAGMENTS: FragmentCache[LosSource] = FragmentCache(lambda source: build_los(source.record()), LOS_CACHE_BYTES)


def build_courses_response(courses: Iterable[LosSource]) -> etree._Element:
    """``<courses-response>``; each LOS is built once and then re-parsed from the cache while unchanged."""
    root = etree.Element(_e("courses-response"), nsmap={None: COURSES, "trm": TERM_V1})
    for source in courses:
        _LOS_FRAGMENTS.append(root, source)
    return root


def build_course_replication_response(los_ids: Iterable[str]) -> etree._Element:
    root = etree.Element(q(COURSE_REPLICATION, "course-replication-response"), nsmap={None: COURSE_REPLICATION})
    tag = q(COURSE_REPLICATION, "los-id")
    for los_id in los_ids:
        etree.SubElement(root, tag).text = los_id
    return root
