"""Typed records of the transcript package: what the SIS hands in, what we issue, what we received."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class GradeShare:
    """One grade of a reference group: its label and how many results got it."""

    label: str
    count: int


@dataclass(frozen=True)
class Term:
    title: str
    start: date
    end: date


@dataclass(frozen=True)
class CourseResult:
    """One graded course of an incoming student, as the SIS gives it."""

    code: str
    title: str
    isced_code: str
    ects: Decimal
    result: str
    passed: bool
    #: Passing (and, recommended, failing) grades of the course's cohort, best first.
    distribution: tuple[GradeShare, ...]
    term: Term
    date: date
    title_lang: str = "en"
    #: The ``localId`` of its grading scheme (None: the transcript's first one).
    grading_scheme: str | None = None
    los_id: str | None = None
    loi_id: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class TranscriptInput:
    """The grades of one incoming mobility, ready to be issued as a transcript."""

    sending_hei_id: str
    omobility_id: str
    #: ``(localId, description)`` of each grading scheme the courses use, the default one first.
    grading_schemes: tuple[tuple[str, str], ...]
    courses: tuple[CourseResult, ...]
    #: Per ISCED code, the reference group's grades (the ToR ``gradeConversionTable``); when absent for a
    #: code, the cohorts of the transcript's courses in that code are summed.
    isced_tables: tuple[tuple[str, tuple[GradeShare, ...]], ...] = ()


@dataclass(frozen=True)
class IssuedTranscript:
    """A transcript we issued as receiving HEI: the signed ELMO bytes as served."""

    receiving_hei_id: str
    sending_hei_id: str
    omobility_id: str
    receiving_academic_year_id: str
    elmo: bytes
    #: The ToR's ``<gradeConversionTable>`` as served (one ``iscedTable`` per ISCED code), or empty.
    conversion_table: bytes
    issued_at: datetime
    modified_at: datetime
    #: The same for IMobility ToRs v2: the transcript signed as ELMO 1.7, its table in the v2 namespace.
    elmo_v1: bytes = b""
    conversion_table_v1: bytes = b""


class ReceiptState(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ConvertedResult:
    """One result of a received transcript in our grading system (``home_grade`` None: convert by hand)."""

    code: str
    title: str
    ects: str | None
    host_grade: str
    passed: bool
    home_grade: str | None
    explanation: str
    #: Every home grade the host grade's interval overlaps (what the EGRACONS tool shows next to it).
    overlapping: tuple[str, ...] = ()
    #: The LA component this course was planned as (its title), or None when it was not planned.
    planned_as: str | None = None


@dataclass(frozen=True)
class Recognition:
    """A verified transcript matched against the approved learning agreement."""

    results: tuple[ConvertedResult, ...]
    #: Titles of approved LA components that the transcript does not show (not taken, or not graded).
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceivedTranscript:
    """One fetch of a partner's transcript of one of our students, accepted or rejected (and why)."""

    id: int
    sending_hei_id: str
    receiving_hei_id: str
    omobility_id: str
    state: ReceiptState
    reason: str | None
    received_at: datetime
    recognition: Recognition | None
