"""Raw IIA data (the import JSON, or a partner's ``<iia>`` read by ``parse``) -> a checked :class:`Iia`.

The rules are those of the v7 get-response XSD plus the few the XSD leaves to prose (two distinct partners,
conditions between them, years in order). Every problem is reported with its field path, all at once, through
the published-data :class:`~ewp_node.publish.records.Reader`. Whether an IIA is complete enough to approve is
another question (``completeness``).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ewp_node.iias.records import (
    Contact,
    CooperationCondition,
    Iia,
    LangText,
    LanguageSkill,
    MobilityKind,
    Partner,
    Phone,
    SubjectArea,
)
from ewp_node.publish.records import (
    Problem,
    Reader,
    _pattern,
    _Skip,
    academic_year,
    contact,
    hei,
    identifier,
    integer_in,
    iso_date,
    language,
    one_of,
)

_ISCED_RE = re.compile(r"^[0-9]{4}$")
_V6_ISCED_RE = re.compile(r"^[0-9]{1,3}$")
_CEFR_RE = re.compile(r"^[ABC][12]$")
_KINDS = tuple(k.value for k in MobilityKind)
_STUDENT_ONLY = ("total_months_per_year", "blended", "eqf_levels")
_STAFF_ONLY = ("total_days_per_year",)


class InvalidIia(ValueError):
    """Raw IIA data breaks the rules; ``problems`` lists every one (``publish.records.Problem``)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def check_iia(raw: Any, label: str = "iia") -> Iia:
    """Validate one raw IIA. :raises InvalidIia: listing every problem."""
    r = Reader()
    with r.for_record(label):
        try:
            iia = read_iia(r, raw)
        except _Skip:
            iia = None
    if r.problems or iia is None:
        raise InvalidIia(r.problems)
    return iia


def _positive_decimal(r: Reader, text: str) -> Decimal:
    """``xs:decimal`` > 0 with at most two fraction digits, written as given (it is hashed as written)."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise r.fail(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value <= 0 or -value.as_tuple().exponent > 2:  # type: ignore[operator]
        raise r.fail(f"{text!r} is not a positive number with at most two decimals")
    return value


def _lang_texts(values: Any) -> tuple[LangText, ...]:
    return tuple(LangText(v["text"], v.get("lang")) for v in values)


def _contact(r: Reader, raw: Any) -> Contact:
    record = contact(r, raw)
    for key in ("street_address", "mailing_address"):
        if key in record:
            with r.at(key):
                raise r.fail("postal addresses are not kept in IIA contacts: give them in the Institutions data")
    return Contact(
        names=_lang_texts(record["names"]), given_names=_lang_texts(record.get("given_names", ())),
        family_names=_lang_texts(record.get("family_names", ())), gender=record.get("gender"),
        phones=tuple(Phone(**p) for p in record.get("phones", ())),
        faxes=tuple(Phone(**p) for p in record.get("faxes", ())),
        emails=tuple(record.get("emails", ())),
        role_descriptions=_lang_texts(record.get("role_descriptions", ())))


def _optional_contact(r: Reader, obj: dict[str, Any], key: str) -> Contact | None:
    if obj.get(key) is None:
        return None
    with r.at(key):
        return _contact(r, obj[key])


def _partner(r: Reader, raw: Any) -> Partner:
    obj = r.mapping(raw)
    return Partner(
        hei_id=r.value(obj, "hei_id", hei, required=True),
        iia_id=r.value(obj, "iia_id", identifier),
        iia_code=r.value(obj, "iia_code"),
        ounit_id=r.value(obj, "ounit_id", identifier),
        signing_contact=_optional_contact(r, obj, "signing_contact"),
        signing_date=_date(r.value(obj, "signing_date", iso_date)),
        contacts=tuple(r.each(obj, "contacts", lambda v: _contact(r, v))),
    )


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _subject_area(r: Reader, raw: Any) -> SubjectArea:
    obj = r.mapping(raw)
    return SubjectArea(
        isced_f_code=r.value(obj, "isced_f_code", _pattern(_ISCED_RE, "a four-digit ISCED-F code such as '0613'"),
                             required=True),
        isced_clarification=r.value(obj, "isced_clarification"),
        v6_value=r.value(obj, "v6_value", _pattern(_V6_ISCED_RE, "an ISCED code of 1 to 3 digits (v6)")),
    )


def _language_skill(r: Reader, raw: Any) -> LanguageSkill:
    obj = r.mapping(raw)
    area = None
    if obj.get("subject_area") is not None:
        with r.at("subject_area"):
            area = _subject_area(r, obj["subject_area"])
    return LanguageSkill(
        language=r.value(obj, "language", language, required=True),
        cefr_level=r.value(obj, "cefr_level", _pattern(_CEFR_RE, "a CEFR level such as 'B2'")),
        subject_area=area,
        not_yet_defined=r.boolean(obj, "not_yet_defined", False),
    )


def _year(r: Reader, obj: dict[str, Any], key: str) -> str:
    value: str = r.value(obj, key, academic_year, required=True)
    if int(value[5:]) - int(value[:4]) != 1:
        with r.at(key):
            raise r.fail(f"{value!r} is not two consecutive years such as '2025/2026'")
    return value


def _condition(r: Reader, raw: Any, partners: set[str]) -> CooperationCondition:
    obj = r.mapping(raw)
    kind = MobilityKind(r.value(obj, "kind", one_of(_KINDS), required=True))
    sending = r.value(obj, "sending_hei_id", hei, required=True)
    receiving = r.value(obj, "receiving_hei_id", hei, required=True)
    if partners and {sending, receiving} != partners:
        raise r.fail(f"a condition goes from one partner to the other ({' and '.join(sorted(partners))}), "
                     f"not from {sending} to {receiving}")
    first, last = _year(r, obj, "receiving_first_academic_year_id"), _year(r, obj, "receiving_last_academic_year_id")
    if first > last:
        with r.at("receiving_last_academic_year_id"):
            raise r.fail(f"{last} is before the first academic year {first}")
    wrong = [k for k in (_STAFF_ONLY if kind.is_student else _STUDENT_ONLY) if obj.get(k) not in (None, [])]
    if wrong:
        raise r.fail(f"{', '.join(wrong)} do(es) not apply to {kind.label} mobility")
    skills = r.each(obj, "recommended_language_skills", lambda v: _language_skill(r, v),
                    at_least=1 if kind.requires_language_skill else 0)
    return CooperationCondition(
        kind=kind, sending_hei_id=sending, receiving_hei_id=receiving,
        receiving_first_academic_year_id=first, receiving_last_academic_year_id=last,
        mobilities_per_year=r.value(obj, "mobilities_per_year", integer_in(1), required=True),
        mobilities_per_year_not_yet_defined=r.boolean(obj, "mobilities_per_year_not_yet_defined", False),
        sending_ounit_id=r.value(obj, "sending_ounit_id", identifier),
        sending_contacts=tuple(r.each(obj, "sending_contacts", lambda v: _contact(r, v))),
        receiving_ounit_id=r.value(obj, "receiving_ounit_id", identifier),
        receiving_contacts=tuple(r.each(obj, "receiving_contacts", lambda v: _contact(r, v))),
        recommended_language_skills=tuple(skills),
        subject_areas=tuple(r.each(obj, "subject_areas", lambda v: _subject_area(r, v))),
        other_info_terms=r.value(obj, "other_info_terms"),
        total_months_per_year=r.value(obj, "total_months_per_year", _positive_decimal),
        blended=r.boolean(obj, "blended", False) if kind.is_student else None,
        eqf_levels=tuple(r.each(obj, "eqf_levels", lambda v: integer_in(1, 8)(r, str(v)))),
        total_days_per_year=r.value(obj, "total_days_per_year", _positive_decimal),
    )


def read_iia(r: Reader, raw: Any) -> Iia:
    """One raw IIA (the JSON form of ``records.to_data``) -> :class:`Iia`, problems recorded in ``r``.

    :raises _Skip: when the IIA cannot be read at all (the problem is recorded).
    """
    obj = r.mapping(raw)
    unknown = set(obj) - {"partners", "in_effect", "conditions", "terminated_as_a_whole", "pdf_file"}
    for key in sorted(unknown):
        with r.at(key):
            r.problems.append(_problem(r, "is not a field of an IIA"))
    partners = r.each(obj, "partners", lambda v: _partner(r, v))
    if len(r.items(obj, "partners")) != 2:
        with r.at("partners"):
            raise r.fail("exactly two partners are expected (the owner of the copy first)")
    if len(partners) == 2 and partners[0].hei_id == partners[1].hei_id:
        with r.at("partners"):
            raise r.fail("the two partners must be different HEIs")
    heis = {p.hei_id for p in partners} if len(partners) == 2 else set()
    conditions = r.each(obj, "conditions", lambda v: _condition(r, v, heis))
    iia = Iia(
        partners=(partners[0], partners[1]) if len(partners) == 2 else (Partner(""), Partner("")),
        in_effect=r.boolean(obj, "in_effect", False),
        conditions=tuple(conditions),
        terminated_as_a_whole=r.boolean(obj, "terminated_as_a_whole", False),
        pdf_file=r.value(obj, "pdf_file"),
    )
    return iia


def _problem(r: Reader, message: str) -> Problem:
    return Problem(r.record, ".".join(r.path).replace(".[", "["), message)
