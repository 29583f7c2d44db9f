"""ELMO transcript of records as frozen dataclasses, common to ELMO 1.7 and 2.1.1.

Only what a transcript needs is modelled; version-specific details (``credit/level`` in 1.x, report
``status`` in 2.x) are optional fields that the builder writes where the version has them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ewp_node.esi import Esi, parse_esi

PDF_MEDIA_TYPE = "application/pdf"

#: ELMO version -> namespace. 1.7 travels in IMobility ToRs v2, 2.1.1 in ToRs v3.
NAMESPACES = {
    "1.7": "https://github.com/emrex-eu/elmo-schemas/tree/v1",
    "2.1.1": "https://github.com/emrex-eu/elmo-schemas/tree/v2",
}


@dataclass(frozen=True)
class Identifier:
    type: str
    value: str


@dataclass(frozen=True)
class Text:
    """A text with an optional ``xml:lang``."""

    value: str
    lang: str | None = None


@dataclass(frozen=True)
class Learner:
    given_names: str
    family_name: str
    identifiers: tuple[Identifier, ...] = ()
    citizenship: str | None = None
    birth_date: dt.date | None = None
    alternative_name: Text | None = None
    gender: int | None = None

    @property
    def esi(self) -> Esi | None:
        """The learner's ESI (``identifier[@type="esi"]``), validated; None if there is none.

        :raises ewp_node.esi.InvalidEsi: the identifier is there but malformed.
        """
        values = [i.value for i in self.identifiers if i.type == "esi"]
        return parse_esi(values[0]) if values else None


@dataclass(frozen=True)
class Issuer:
    identifiers: tuple[Identifier, ...]
    titles: tuple[Text, ...]
    url: str
    country: str | None = None


@dataclass(frozen=True)
class AcademicTerm:
    titles: tuple[Text, ...]
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class GradeCount:
    label: str
    count: int


@dataclass(frozen=True)
class ResultDistribution:
    categories: tuple[GradeCount, ...]
    descriptions: tuple[Text, ...] = ()

    def pairs(self) -> list[tuple[str, int]]:
        """``(label, count)`` pairs, ready for :meth:`ewp_node.grades.GradeDistribution.from_counts`."""
        return [(c.label, c.count) for c in self.categories]


@dataclass(frozen=True)
class Credit:
    scheme: str
    value: Decimal | None = None
    level: str | None = None  # ELMO 1.x only (Bachelor / Master / PhD)


@dataclass(frozen=True)
class Level:
    type: str
    value: str | None = None
    description: Text | None = None


@dataclass(frozen=True)
class LearningOpportunityInstance:
    """One attempt at a learning opportunity: when, with which result and credits."""

    identifiers: tuple[Identifier, ...] = ()
    start: dt.date | None = None
    date: dt.date | None = None
    academic_term: AcademicTerm | None = None
    status: str | None = None
    grading_scheme_local_id: str | None = None
    result_label: str | None = None
    result_distribution: ResultDistribution | None = None
    credits: tuple[Credit, ...] = ()
    levels: tuple[Level, ...] = ()
    language_of_instruction: str | None = None
    engagement_hours: Decimal | None = None

    @property
    def ects(self) -> Decimal | None:
        return next((c.value for c in self.credits if c.scheme.lower() == "ects"), None)


@dataclass(frozen=True)
class LearningOpportunity:
    """A ``learningOpportunitySpecification`` (course, module, programme) and its parts (``hasPart``)."""

    titles: tuple[Text, ...]
    instance: LearningOpportunityInstance
    identifiers: tuple[Identifier, ...] = ()
    type: str | None = None
    subject_area: str | None = None
    isced_code: str | None = None
    url: str | None = None
    descriptions: tuple[Text, ...] = ()
    parts: tuple[LearningOpportunity, ...] = ()

    def code(self, identifier_type: str = "local") -> str | None:
        """The course code of the given identifier type."""
        return next((i.value for i in self.identifiers if i.type == identifier_type), None)

    def walk(self) -> list[LearningOpportunity]:
        """This opportunity and all its parts, depth first."""
        return [self] + [node for part in self.parts for node in part.walk()]


@dataclass(frozen=True)
class GradingScheme:
    local_id: str
    descriptions: tuple[Text, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """An attached document; ``contents`` are (usually ``data:``) URLs, one per language."""

    type: str | None = None
    titles: tuple[Text, ...] = ()
    identifiers: tuple[Identifier, ...] = ()
    descriptions: tuple[Text, ...] = ()
    contents: tuple[Text, ...] = ()

    @classmethod
    def pdf(cls, type: str, title: Text, data: bytes, lang: str | None = None) -> Attachment:
        """A PDF (e.g. ``"Transcript of Records"``, ``"Diploma Supplement"``) embedded as a data URL."""
        url = f"data:{PDF_MEDIA_TYPE};base64,{base64.b64encode(data).decode('ascii')}"
        return cls(type=type, titles=(title,), contents=(Text(url, lang),))

    def data(self, index: int = 0) -> tuple[str, bytes]:
        """Media type and bytes of a base64 ``data:`` URL content.

        :raises ValueError: the content is not a base64 ``data:`` URL.
        """
        header, _, payload = self.contents[index].value.partition(",")
        if not (header.startswith("data:") and header.endswith(";base64")):
            raise ValueError("attachment content is not a base64 data: URL")
        try:
            return header[5:-7], base64.b64decode(payload, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"attachment content is not valid base64: {exc}") from None


@dataclass(frozen=True)
class Report:
    issuer: Issuer
    issue_date: dt.datetime
    learning_opportunities: tuple[LearningOpportunity, ...] = ()
    grading_schemes: tuple[GradingScheme, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    status: str | None = None  # ELMO 2.x report/status/code, e.g. FULL

    def grading_scheme(self, local_id: str | None) -> GradingScheme | None:
        return next((g for g in self.grading_schemes if g.local_id == local_id), None)


@dataclass(frozen=True)
class Elmo:
    generated_date: dt.datetime
    learner: Learner
    reports: tuple[Report, ...]
    attachments: tuple[Attachment, ...] = ()
