"""Typed frozen records of mobilities and learning agreements: what crosses the package boundary.

A mobility is identified by ``(sending HEI, omobility id)``: the sending HEI names it, in both directions.
A learning agreement is the mobility's list of versions, oldest first; what the LA API shows (first version,
approved changes, pending proposal) is derived from it (:class:`LearningAgreement`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Direction(StrEnum):
    """Outgoing: a HEI we cover sends the student (we own the nomination and the LA). Incoming: we receive."""

    OUTGOING = "outgoing"
    INCOMING = "incoming"


class NominationStatus(StrEnum):
    """OMobilities v3 ``MobilityStatus``."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Document(StrEnum):
    """A partner's document about one mobility: its nomination (OMobilities), its learning agreement
    (OMobility LAs) or its arrival facts (IMobilities)."""

    OMOBILITY = "omobility"
    LA = "la"
    IMOBILITY = "imobility"


class ComponentKind(StrEnum):
    """The component lists of an LA version, valued by their element names, in the XSD's order."""

    STUDIED = "components-studied"
    RECOGNIZED = "components-recognized"
    VIRTUAL = "virtual-components"
    BLENDED = "blended-mobility-components"
    DOCTORAL = "short-term-doctoral-components"


class ProposalState(StrEnum):
    """Where one LA version stands: awaiting the receiving HEI, approved by it, commented (rejected) by it,
    or superseded by a newer proposal of the sending HEI before any answer."""

    PENDING = "pending"
    APPROVED = "approved"
    COMMENTED = "commented"
    SUPERSEDED = "superseded"


ACTIVITY_TYPES = ("student-studies",)
ACTIVITY_ATTRIBUTES = ("long-term", "short-term-blended", "short-term-doctoral")
COMPONENT_STATUSES = ("inserted", "deleted")
REASON_CODES = ("not-available", "language-mismatch", "timetable-conflict", "substituting-deleted",
                "extending-mobility", "adding-virtual-component")
CEFR_LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2", "NS")
GENDERS = (0, 1, 2, 9)  # ISO/IEC 5218


@dataclass(frozen=True)
class Student:
    given_names: str
    family_name: str
    global_id: str
    birth_date: date
    citizenship: str
    gender: int
    email: str


@dataclass(frozen=True)
class Contact:
    """The LA's ``contact-person`` of one side."""

    given_names: str
    family_name: str
    email: str
    phone_e164: str | None = None


@dataclass(frozen=True)
class Party:
    """One side of the mobility: the HEI, its organisational unit, its IIA id and its contact person."""

    hei_id: str
    ounit_id: str | None = None
    ounit_name: str | None = None
    iia_id: str | None = None
    contact: Contact | None = None


@dataclass(frozen=True)
class LanguageSkill:
    language: str
    cefr_level: str


@dataclass(frozen=True)
class Nomination:
    status: NominationStatus
    proposal_id: str
    comment: str | None = None


@dataclass(frozen=True)
class Mobility:
    omobility_id: str
    direction: Direction
    sending: Party
    receiving: Party
    student: Student
    receiving_academic_year_id: str
    activity_attributes: str
    eqf_level: int
    isced_code: str
    nomination: Nomination
    #: ``YYYY/YYYY-n/N``; None means a non-standard mobility period.
    sending_term_id: str | None = None
    activity_type: str = "student-studies"
    #: The IIA's subject area, when it differs from the nominee's (``isced_code``).
    agreement_isced_code: str | None = None
    isced_clarification: str | None = None
    language_skills: tuple[LanguageSkill, ...] = ()
    planned_arrival: date | None = None
    planned_departure: date | None = None
    actual_arrival: date | None = None
    actual_departure: date | None = None
    modified_at: datetime | None = None


@dataclass(frozen=True)
class Credit:
    scheme: str
    value: Decimal


@dataclass(frozen=True)
class Component:
    """One LA component; ``los_id``/``loi_id`` refer to the receiving HEI's course catalogue where it has one."""

    kind: ComponentKind
    title: str
    los_id: str | None = None
    los_code: str | None = None
    loi_id: str | None = None
    term_number: int | None = None
    total_terms: int | None = None
    credits: tuple[Credit, ...] = ()
    recognition_conditions: str | None = None
    short_description: str | None = None
    #: In a changes proposal: ``inserted`` or ``deleted``, with a reason code or text.
    status: str | None = None
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(frozen=True)
class Signature:
    timestamp: datetime
    signer_name: str | None = None
    signer_position: str | None = None
    signer_email: str | None = None
    signer_app: str | None = None


@dataclass(frozen=True)
class LaVersion:
    """One version of the LA as proposed by the sending HEI (student and sending-HEI signatures), with the
    receiving HEI's answer once given (its signature; a comment when it rejected the proposal)."""

    proposal_id: str
    state: ProposalState
    student_signature: Signature
    sending_signature: Signature
    components: tuple[Component, ...] = ()
    receiving_signature: Signature | None = None
    comment: str | None = None


@dataclass(frozen=True)
class LearningAgreement:
    mobility: Mobility
    #: Every version, oldest first.
    versions: tuple[LaVersion, ...] = field(default_factory=tuple)

    def _approved(self) -> list[LaVersion]:
        return [v for v in self.versions if v.state is ProposalState.APPROVED]

    @property
    def first_version(self) -> LaVersion | None:
        """The first version signed by all three parties."""
        approved = self._approved()
        return approved[0] if approved else None

    @property
    def approved_changes(self) -> LaVersion | None:
        """The latest version signed by all three parties, when it is not the first one."""
        approved = self._approved()
        return approved[-1] if len(approved) > 1 else None

    @property
    def changes_proposal(self) -> LaVersion | None:
        """The proposal awaiting the receiving HEI's answer."""
        return next((v for v in reversed(self.versions) if v.state is ProposalState.PENDING), None)

    def record(self) -> LearningAgreement:
        """The record itself (an LA is its own source for ``build.build_las_get``)."""
        return self

    @property
    def latest(self) -> LaVersion | None:
        """The latest version that was put to the receiving HEI (superseded drafts left aside)."""
        return next((v for v in reversed(self.versions) if v.state is not ProposalState.SUPERSEDED), None)


@dataclass(frozen=True)
class LaYearStats:
    """One row of the LA statistics: outgoing (OMobility LAs ``stats``) or incoming (OMobility LA CNR ``stats``)."""

    receiving_academic_year_id: str
    total: int = 0
    some_version_approved: int = 0
    not_modified_after_approval: int = 0
    modified_after_approval: int = 0
    latest_approved: int = 0
    latest_rejected: int = 0
    latest_awaiting: int = 0
