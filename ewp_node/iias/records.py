"""An IIA exactly as the v7 get-response says it: typed frozen records, one shape for our copy and the partner's.

``build`` writes these records as ``<iia>`` and ``parse`` reads a partner's ``<iia>`` back into them, so the
hash, the diff and the completeness checks work on either copy. Field names follow the XSD element names
(``ewp-specs-api-iias`` v7.0.0 ``endpoints/get-response.xsd``); the XML order lives in ``build``.
``to_data``/``from_data`` give the JSON form kept in the store and used by import and export.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any, get_type_hints


@dataclass(frozen=True)
class LangText:
    """``StringWithOptionalLang``: a text and its optional ``xml:lang``."""

    text: str
    lang: str | None = None


@dataclass(frozen=True)
class Phone:
    """types-phonenumber: an E.164 number (with extension) or another format."""

    e164: str | None = None
    ext: str | None = None
    other_format: str | None = None


@dataclass(frozen=True)
class Contact:
    """types-contact ``Contact``. Postal addresses are not kept for IIA contacts (nobody exchanges them)."""

    names: tuple[LangText, ...]
    given_names: tuple[LangText, ...] = ()
    family_names: tuple[LangText, ...] = ()
    gender: int | None = None
    phones: tuple[Phone, ...] = ()
    faxes: tuple[Phone, ...] = ()
    emails: tuple[str, ...] = ()
    role_descriptions: tuple[LangText, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """The canonical contact record of ``ewp_node.publish.records`` (what ``add_contact`` builds)."""
        return {k: v for k, v in to_data(self).items() if v not in (None, [])}


class MobilityKind(enum.Enum):
    """The four cooperation condition elements, in the order the XSD lists them."""

    STUDENT_STUDIES = "student-studies-mobility-spec"
    STUDENT_TRAINEESHIP = "student-traineeship-mobility-spec"
    STAFF_TEACHER = "staff-teacher-mobility-spec"
    STAFF_TRAINING = "staff-training-mobility-spec"

    @property
    def is_student(self) -> bool:
        return self in (MobilityKind.STUDENT_STUDIES, MobilityKind.STUDENT_TRAINEESHIP)

    @property
    def requires_language_skill(self) -> bool:
        """v7 makes ``recommended-language-skill`` required for studies and teaching."""
        return self in (MobilityKind.STUDENT_STUDIES, MobilityKind.STAFF_TEACHER)

    @property
    def label(self) -> str:
        """Words for people: "student studies", "staff training"..."""
        return self.value.removesuffix("-mobility-spec").replace("-", " ")


@dataclass(frozen=True)
class SubjectArea:
    """``SubjectArea``: a 4-digit ISCED-F code (``v6_value``: the code approved in v6, for migrated IIAs)."""

    isced_f_code: str
    isced_clarification: str | None = None
    v6_value: str | None = None


@dataclass(frozen=True)
class LanguageSkill:
    """``recommended-language-skill``: language, optional CEFR level and subject area."""

    language: str
    cefr_level: str | None = None
    subject_area: SubjectArea | None = None
    not_yet_defined: bool = False


@dataclass(frozen=True)
class CooperationCondition:
    """One ``*-mobility-spec``: a one-way flow of students or staff from the sending to the receiving HEI.

    ``total_months_per_year``, ``blended`` and ``eqf_levels`` exist for student kinds only,
    ``total_days_per_year`` for staff kinds only (``check`` says so).
    """

    kind: MobilityKind
    sending_hei_id: str
    receiving_hei_id: str
    receiving_first_academic_year_id: str
    receiving_last_academic_year_id: str
    mobilities_per_year: int
    sending_ounit_id: str | None = None
    sending_contacts: tuple[Contact, ...] = ()
    receiving_ounit_id: str | None = None
    receiving_contacts: tuple[Contact, ...] = ()
    mobilities_per_year_not_yet_defined: bool = False
    recommended_language_skills: tuple[LanguageSkill, ...] = ()
    subject_areas: tuple[SubjectArea, ...] = ()
    other_info_terms: str | None = None
    total_months_per_year: Decimal | None = None
    blended: bool | None = None
    eqf_levels: tuple[int, ...] = ()
    total_days_per_year: Decimal | None = None


@dataclass(frozen=True)
class Partner:
    """One ``<partner>``: its HEI, its id and code of the IIA, its unit, signer and contacts."""

    hei_id: str
    iia_id: str | None = None
    iia_code: str | None = None
    ounit_id: str | None = None
    signing_contact: Contact | None = None
    signing_date: date | None = None
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class Iia:
    """One copy of an IIA as its owner serves it: ``partners[0]`` is the owner, ``partners[1]`` the partner.

    The ``iia-hash`` is not part of the record: it is computed over what ``build`` writes from it.
    """

    partners: tuple[Partner, Partner]
    in_effect: bool
    conditions: tuple[CooperationCondition, ...]
    terminated_as_a_whole: bool = False
    pdf_file: str | None = None

    @property
    def owner(self) -> Partner:
        return self.partners[0]

    @property
    def partner(self) -> Partner:
        return self.partners[1]


# -- JSON form ---------------------------------------------------------------------------------------------

def to_data(value: Any) -> Any:
    """A record as JSON-ready data: dataclasses as objects (``None`` and empty tuples left out), enums by
    value, dates in ISO form, decimals as strings (their digits kept: they are hashed as written)."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None or item == () or (item is False and f.default is False):
                continue
            out[f.name] = to_data(item)
        return out
    if isinstance(value, tuple):
        return [to_data(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, Decimal)):
        return str(value)
    return value


def from_data(cls: type[Any], data: dict[str, Any]) -> Any:
    """The inverse of :func:`to_data` for data it wrote (import validates first: ``importer``).

    :raises KeyError, TypeError, ValueError: for data of another shape.
    """
    hints = get_type_hints(cls)
    kwargs = {}
    for f in fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__}: unknown field(s) {', '.join(sorted(unknown))}")
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    args: tuple[Any, ...] = getattr(hint, "__args__", ())
    if value is None:
        return None
    if hint is Decimal or Decimal in args:
        return Decimal(str(value))
    if hint is date or date in args:
        return date.fromisoformat(value)
    origin = getattr(hint, "__origin__", None)
    if origin is tuple:
        return tuple(_convert(args[0], v) for v in value)
    for candidate in (hint, *args):
        if isinstance(candidate, type) and is_dataclass(candidate):
            return from_data(candidate, value)
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate(value)
    return value


__all__ = ["Contact", "CooperationCondition", "Iia", "LangText", "LanguageSkill", "MobilityKind", "Partner",
           "Phone", "SubjectArea", "from_data", "to_data"]
