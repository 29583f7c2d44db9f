"""Validation of the import format (``docs/import-format.md``) into canonical records.

Each ``read_*`` function takes one raw record (parsed JSON, CSV rows, or a partner's EWP XML converted by
``from_xml``) and returns its canonical form: the same keys, shorthands expanded, empty values dropped, so
that two equal canonical records mean "nothing changed". Problems are collected with the record and the
field they concern, and raised together. Value rules follow the EWP XSDs (common-types, types-address,
types-contact, types-phonenumber, types-academic-term v1, courses v0.7.1, factsheet v1.2.0).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ewp_node.xml.build.common import Record

#: The ``format`` value of an import document (docs/import-format.md).
FORMAT = "ewp-node-publish/1"

_ID_RE = re.compile(r"^[!-~]{1,64}$")
_HEI_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_EMAIL_RE = re.compile(r"^[^@]+@[^.]+\..+$")
_LANG_RE = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_COUNTRY_RE = re.compile(r"^[A-Z][A-Z]$")
_E164_RE = re.compile(r"^\+[0-9]{1,15}$")
_MONTH_DAY_RE = re.compile(r"^--(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
_YEAR_RE = re.compile(r"^[0-9]{4}/[0-9]{4}$")
_TERM_RE = re.compile(r"^[0-9]{4}/[0-9]{4}-[1-9]/[1-9]$")
_MEDIA_TYPE_RE = re.compile(r"^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+(\s*;.*)?$", re.IGNORECASE)

#: LOS id prefix -> ``<type>`` (courses response.xsd ``LosID``) and the matching LOI id prefix.
LOS_TYPES = {"CR": "Course", "CLS": "Class", "MOD": "Module", "DEP": "Degree Programme"}
_LOS_ID_RE = re.compile(r"^(CR|CLS|MOD|DEP)/(.{1,40})$")
_LOI_ID_RE = re.compile(r"^(CRI|CLSI|MODI|DEPI)/(.{1,40})$")
CREDIT_LEVELS = ("Bachelor", "Master", "PhD")
ACCESSIBILITY_TYPES = ("infrastructure", "service")
GENDERS = (0, 1, 2, 9)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an import: where (record and field) and what."""

    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.record}, field {self.field!r}" if self.field else self.record
        return f"{where}: {self.message}"


class InvalidRecords(ValueError):
    """Some records are invalid; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Skip(Exception):
    """Internal: stop reading a value that has already been reported."""


@dataclass
class Reader:
    """Reads raw values and records problems with the current record and field path."""

    problems: list[Problem] = field(default_factory=list)
    record: str = "document"
    path: list[str] = field(default_factory=list)

    @contextmanager
    def at(self, part: str) -> Iterator[None]:
        self.path.append(part)
        try:
            yield
        finally:
            self.path.pop()

    @contextmanager
    def for_record(self, label: str) -> Iterator[None]:
        saved, self.record = self.record, label
        try:
            yield
        finally:
            self.record = saved

    def fail(self, message: str) -> _Skip:
        self.problems.append(Problem(self.record, ".".join(self.path).replace(".[", "["), message))
        return _Skip()

    def check(self) -> None:
        if self.problems:
            raise InvalidRecords(self.problems)

    # -- leaves ------------------------------------------------------------------------------------------

    def _string(self, raw: Any) -> str:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise self.fail(f"a string is expected, not {type(raw).__name__}")
        return str(raw).strip()

    def value(self, obj: Record, key: str, convert: Callable[[Reader, str], Any] | None = None, *,
              required: bool = False) -> Any:
        """``obj[key]`` as a stripped string, converted; ``None`` when absent or empty (unless required)."""
        with self.at(key):
            raw = obj.get(key)
            text = None if raw is None else self._string(raw)
            if not text:
                if required:
                    raise self.fail("is required")
                return None
            return convert(self, text) if convert else text

    def boolean(self, obj: Record, key: str, default: bool) -> bool:
        with self.at(key):
            raw = obj.get(key, default)
            if isinstance(raw, bool):
                return raw
            if isinstance(raw, str) and raw.strip().lower() in ("true", "yes", "1", "false", "no", "0", ""):
                return raw.strip().lower() in ("true", "yes", "1")
            raise self.fail(f"true or false is expected, not {raw!r}")

    def items(self, obj: Record, key: str) -> list[Any]:
        """``obj[key]`` as a list (absent: empty)."""
        with self.at(key):
            raw = obj.get(key)
            if raw is None:
                return []
            if not isinstance(raw, list):
                raise self.fail("a list is expected")
            return raw

    def each(self, obj: Record, key: str, read: Callable[[Any], Any], *, at_least: int = 0,
             at_most: int | None = None) -> list[Any]:
        """Read every element of list ``obj[key]``; bad elements are reported and skipped."""
        raw = self.items(obj, key)
        out = []
        for index, item in enumerate(raw):
            with self.at(key), self.at(f"[{index}]"):
                try:
                    value = read(item)
                except _Skip:
                    continue
                if value not in (None, {}, []):
                    out.append(value)
        with self.at(key):
            if len(raw) < at_least:
                raise self.fail(f"at least {at_least} value(s) required")
            if at_most is not None and len(raw) > at_most:
                raise self.fail(f"at most {at_most} value(s) allowed")
        return out

    def mapping(self, raw: Any) -> Record:
        if not isinstance(raw, dict):
            raise self.fail("an object is expected")
        return raw


# -- value converters (``Reader.value(obj, key, convert)``) ----------------------------------------------

def identifier(r: Reader, text: str) -> str:
    if not _ID_RE.match(text):
        raise r.fail(f"{text!r} is not an identifier of 1-64 printable ASCII characters without spaces")
    return text


def hei(r: Reader, text: str) -> str:
    if not _HEI_RE.match(text):
        raise r.fail(f"{text!r} is not a lower-case SCHAC HEI id such as 'uw.edu.pl'")
    return text


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[Reader, str], str]:
    def convert(r: Reader, text: str) -> str:
        if not regex.match(text):
            raise r.fail(f"{text!r} is not {what}")
        return text

    return convert


email = _pattern(_EMAIL_RE, "an e-mail address")
language = _pattern(_LANG_RE, "a language tag such as 'en' or 'fr-FR'")
country = _pattern(_COUNTRY_RE, "an upper-case ISO 3166 country code such as 'FR'")
month_day = _pattern(_MONTH_DAY_RE, "a --MM-DD month and day such as '--04-30'")
academic_year = _pattern(_YEAR_RE, "an academic year id such as '2025/2026'")
term_id = _pattern(_TERM_RE, "an EWP term id such as '2025/2026-1/2'")
media_type = _pattern(_MEDIA_TYPE_RE, "a media type such as 'application/pdf'")
http_url = _pattern(re.compile(r"^https?://\S+$"), "an http:// or https:// URL")
https_url = _pattern(re.compile(r"^https://\S+$"), "an https:// URL")


def iso_date(r: Reader, text: str) -> str:
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise r.fail(f"{text!r} is not a date YYYY-MM-DD")


def decimal(r: Reader, text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise r.fail(f"{text!r} is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise r.fail(f"{text!r} is not a non-negative decimal number")
    return format(value.normalize(), "f")


def integer_in(low: int, high: int | None = None) -> Callable[[Reader, str], int]:
    def convert(r: Reader, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise r.fail(f"{text!r} is not an integer") from None
        if value < low or (high is not None and value > high):
            raise r.fail(f"{value} is out of range {low}..{high if high is not None else ''}")
        return value

    return convert


def one_of(choices: tuple[Any, ...]) -> Callable[[Reader, str], Any]:
    def convert(r: Reader, text: str) -> Any:
        for choice in choices:
            if text == str(choice):
                return choice
        raise r.fail(f"{text!r} is not one of {', '.join(map(str, choices))}")

    return convert


# -- shared structures -----------------------------------------------------------------------------------

def lang_texts(r: Reader, obj: Record, key: str, *, text_key: str = "text",
               convert: Callable[[Reader, str], str] | None = None, at_least: int = 0) -> list[Record]:
    """A list of ``{"lang"?, text_key}`` (``StringWithOptionalLang``, ``HTTPWithOptionalLang``...);
    a plain string stands for one value without language."""
    def read(item: Any) -> Record:
        if not isinstance(item, dict):
            item = {text_key: item}
        out = {"lang": r.value(item, "lang", language), text_key: r.value(item, text_key, convert, required=True)}
        return {k: v for k, v in out.items() if v is not None}

    raw = obj.get(key)
    wrapped = {key: [raw] if isinstance(raw, (str, dict)) else raw}
    return r.each(wrapped, key, read, at_least=at_least)


def text_in(values: list[Record], lang: str) -> str | None:
    """The text of a stored ``lang_texts`` list in ``lang``, else English, else the first one."""
    texts = {item.get("lang", ""): item["text"] for item in reversed(values)}
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), None)


def urls(r: Reader, obj: Record, key: str, *, at_least: int = 0) -> list[Record]:
    return lang_texts(r, obj, key, text_key="url", convert=http_url, at_least=at_least)


_ADDRESS_PARTS = ("building_number", "building_name", "street_name", "unit", "floor", "post_office_box")


def address(r: Reader, obj: Record, key: str) -> Record | None:
    """types-address ``FlexibleAddress``: address lines (1-4) or structured parts, never both."""
    raw = obj.get(key)
    if raw is None:
        return None
    with r.at(key):
        raw = r.mapping(raw)
        out: Record = {"recipient_names": r.each(raw, "recipient_names", lambda v: r._string(v) or None)}
        out["address_lines"] = r.each(raw, "address_lines", lambda v: r._string(v) or None, at_most=4)
        for part in _ADDRESS_PARTS:
            out[part] = r.value(raw, part)
        out["delivery_point_codes"] = r.each(raw, "delivery_point_codes", lambda v: r._string(v) or None)
        if out["address_lines"] and (any(out[p] for p in _ADDRESS_PARTS) or out["delivery_point_codes"]):
            raise r.fail("give either address_lines or structured parts (street_name...), not both")
        out.update(postal_code=r.value(raw, "postal_code"), locality=r.value(raw, "locality"),
                   region=r.value(raw, "region"), country=r.value(raw, "country", country))
        return _compact(out)


def phone(r: Reader, raw: Any) -> Record | None:
    """types-phonenumber: ``{"e164", "ext", "other_format"}``; a plain string is an E.164 number."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raw = {"e164": raw}
    out = _compact({"e164": r.value(raw, "e164", _pattern(_E164_RE, "an E.164 number such as '+33123456789'")),
                    "ext": r.value(raw, "ext"), "other_format": r.value(raw, "other_format")})
    if out.get("ext") and not out.get("e164"):
        raise r.fail("an extension needs an e164 number")
    return out


def contact(r: Reader, raw: Any) -> Record:
    """types-contact ``Contact``."""
    raw = r.mapping(raw)
    out = {
        "names": lang_texts(r, raw, "names", at_least=1),
        "given_names": lang_texts(r, raw, "given_names"),
        "family_names": lang_texts(r, raw, "family_names"),
        "gender": r.value(raw, "gender", one_of(GENDERS)),
        "phones": r.each(raw, "phones", lambda v: phone(r, v)),
        "faxes": r.each(raw, "faxes", lambda v: phone(r, v)),
        "emails": r.each(raw, "emails", lambda v: email(r, r._string(v))),
        "street_address": address(r, raw, "street_address"),
        "mailing_address": address(r, raw, "mailing_address"),
        "role_descriptions": lang_texts(r, raw, "role_descriptions"),
    }
    return _compact(out)


def _compact(record: Record) -> Record:
    """Drop absent and empty values: the canonical form has no ``None``, ``[]`` or ``{}``."""
    return {k: v for k, v in record.items() if v not in (None, [], {}, "")}


# -- records -----------------------------------------------------------------------------------------------

def read_institution(r: Reader, raw: Any) -> Record:
    """Institutions API v2.2.0 ``<hei>`` (the HEI id comes from the document)."""
    raw = r.mapping(raw)
    return _compact({
        "names": lang_texts(r, raw, "names", at_least=1),
        "abbreviation": r.value(raw, "abbreviation"),
        "other_ids": r.each(raw, "other_ids", lambda v: _other_id(r, v)),
        "street_address": address(r, raw, "street_address"),
        "mailing_address": address(r, raw, "mailing_address"),
        "website_urls": urls(r, raw, "website_urls"),
        "logo_url": r.value(raw, "logo_url", https_url),
        "mobility_factsheet_urls": urls(r, raw, "mobility_factsheet_urls"),
        "course_catalogue_urls": urls(r, raw, "course_catalogue_urls"),
        "contacts": r.each(raw, "contacts", lambda v: contact(r, v)),
        "root_ounit_id": r.value(raw, "root_ounit_id", identifier),
    })


def _other_id(r: Reader, raw: Any) -> Record:
    raw = r.mapping(raw)
    return {"type": r.value(raw, "type", required=True), "value": r.value(raw, "value", required=True)}


def read_ounit(r: Reader, raw: Any) -> Record:
    """Organizational Units API v2.1.1 ``<ounit>``."""
    raw = r.mapping(raw)
    return _compact({
        "ounit_id": r.value(raw, "ounit_id", identifier, required=True),
        "ounit_code": r.value(raw, "ounit_code", required=True),
        "names": lang_texts(r, raw, "names", at_least=1),
        "abbreviation": r.value(raw, "abbreviation"),
        "parent_ounit_id": r.value(raw, "parent_ounit_id", identifier),
        "street_address": address(r, raw, "street_address"),
        "mailing_address": address(r, raw, "mailing_address"),
        "website_urls": urls(r, raw, "website_urls"),
        "logo_url": r.value(raw, "logo_url", https_url),
        "mobility_factsheet_urls": urls(r, raw, "mobility_factsheet_urls"),
        "contacts": r.each(raw, "contacts", lambda v: contact(r, v)),
    })


def read_course(r: Reader, raw: Any) -> Record:
    """Courses API v0.7.1 ``<learningOpportunitySpecification>`` with its instances; the type is the one
    the id prefix says (``CR/`` Course, ``CLS/`` Class, ``MOD/`` Module, ``DEP/`` Degree Programme)."""
    raw = r.mapping(raw)
    los_id = r.value(raw, "los_id", _pattern(_LOS_ID_RE, "a LOS id such as 'CR/1234' (CR, CLS, MOD or DEP)"),
                     required=True)
    with r.for_record(f"{r.record} ({los_id})"):
        los_type = LOS_TYPES[los_id.split("/", 1)[0]]
        given_type = r.value(raw, "type")
        if given_type is not None and given_type != los_type:
            with r.at("type"):
                raise r.fail(f"{given_type!r} contradicts the id prefix, which says {los_type!r}")
        loi_prefix = los_id.split("/", 1)[0] + "I/"
        return _compact({
            "los_id": los_id,
            "los_code": r.value(raw, "los_code"),
            "ounit_id": r.value(raw, "ounit_id", identifier),
            "titles": lang_texts(r, raw, "titles", at_least=1),
            "type": los_type,
            "subject_area": r.value(raw, "subject_area"),
            "isced_code": r.value(raw, "isced_code", _pattern(re.compile(r"^[0-9]{2,4}$"),
                                                                "an ISCED-F code such as '0613'")),
            "eqf_level": r.value(raw, "eqf_level", integer_in(1, 8)),
            "urls": urls(r, raw, "urls"),
            "descriptions": lang_texts(r, raw, "descriptions"),
            "contains": r.each(raw, "contains", lambda v: _los_id_value(r, v)),
            "open_to_incoming": r.boolean(raw, "open_to_incoming", True),
            "instances": _instances(r, raw, loi_prefix),
        })


def _los_id_value(r: Reader, raw: Any) -> str:
    text = r._string(raw)
    if not _LOS_ID_RE.match(text):
        raise r.fail(f"{text!r} is not a LOS id")
    return text


def _instances(r: Reader, raw: Record, prefix: str) -> list[Record]:
    seen: set[str] = set()

    def read(item: Any) -> Record:
        item = r.mapping(item)
        loi_id = r.value(item, "loi_id", _pattern(_LOI_ID_RE, f"a LOI id starting with {prefix!r}"),
                         required=True)
        if not loi_id.startswith(prefix):
            with r.at("loi_id"):
                raise r.fail(f"{loi_id!r} must start with {prefix!r} to match its LOS")
        if loi_id in seen:
            with r.at("loi_id"):
                raise r.fail(f"{loi_id!r} is listed twice")
        seen.add(loi_id)
        out = _compact({
            "loi_id": loi_id,
            "start": r.value(item, "start", iso_date, required=True),
            "end": r.value(item, "end", iso_date, required=True),
            "academic_term": _academic_term(r, item),
            "grading_scheme": _grading_scheme(r, item),
            "result_distribution": _result_distribution(r, item),
            "credits": r.each(item, "credits", lambda v: _credit(r, v)),
            "language_of_instruction": r.value(item, "language_of_instruction", language),
            "engagement_hours": r.value(item, "engagement_hours", decimal),
        })
        if out.get("start") and out.get("end") and out["end"] < out["start"]:
            with r.at("end"):
                raise r.fail(f"{out['end']} is before the start {out['start']}")
        return out

    return r.each(raw, "instances", read)


def _academic_term(r: Reader, raw: Record) -> Record | None:
    term = raw.get("academic_term")
    if term is None:
        return None
    with r.at("academic_term"):
        term = r.mapping(term)
        return _compact({
            "academic_year_id": r.value(term, "academic_year_id", academic_year, required=True),
            "ewp_id": r.value(term, "ewp_id", term_id),
            "display_names": lang_texts(r, term, "display_names", at_least=1),
            "start_date": r.value(term, "start_date", iso_date, required=True),
            "end_date": r.value(term, "end_date", iso_date, required=True),
        })


def _grading_scheme(r: Reader, raw: Record) -> Record | None:
    scheme = raw.get("grading_scheme")
    if scheme is None:
        return None
    with r.at("grading_scheme"):
        scheme = r.mapping(scheme)
        return _compact({"labels": lang_texts(r, scheme, "labels", at_least=1),
                         "descriptions": lang_texts(r, scheme, "descriptions")})


def _result_distribution(r: Reader, raw: Record) -> Record | None:
    dist = raw.get("result_distribution")
    if dist is None:
        return None
    with r.at("result_distribution"):
        dist = r.mapping(dist)

        def category(item: Any) -> Record:
            item = r.mapping(item)
            return {"label": r.value(item, "label", required=True),
                    "count": r.value(item, "count", integer_in(0), required=True)}

        return _compact({"categories": r.each(dist, "categories", category, at_least=1),
                         "descriptions": lang_texts(r, dist, "descriptions")})


def _credit(r: Reader, raw: Any) -> Record:
    raw = r.mapping(raw)
    return _compact({"scheme": r.value(raw, "scheme", required=True),
                     "level": r.value(raw, "level", one_of(CREDIT_LEVELS)),
                     "value": r.value(raw, "value", decimal, required=True)})


def read_factsheet(r: Reader, raw: Any) -> Record:
    """Factsheet API v1.2.0 ``<factsheet>`` (the HEI id comes from the document)."""
    raw = r.mapping(raw)

    def calendar_entry(calendar: Record, key: str) -> Record:
        with r.at("calendar"), r.at(key):
            entry = r.mapping(calendar.get(key) or {})
            return {"autumn_term": r.value(entry, "autumn_term", month_day, required=True),
                    "spring_term": r.value(entry, "spring_term", month_day, required=True)}

    with r.at("calendar"):
        calendar = r.mapping(raw.get("calendar") or {})
    calendar_out = {key: calendar_entry(calendar, key) for key in ("student_nominations", "student_applications")}

    def requirement(item: Any) -> Record:
        item = r.mapping(item)
        return _compact({"name": r.value(item, "name", required=True),
                         "details": r.value(item, "details", required=True),
                         "information_websites": urls(r, item, "information_websites")})

    def accessibility(item: Any) -> Record:
        item = r.mapping(item)
        return _compact({"type": r.value(item, "type", one_of(ACCESSIBILITY_TYPES), required=True),
                         "name": r.value(item, "name", required=True),
                         "description": r.value(item, "description"),
                         "information": information(item, "information")})

    def additional(item: Any) -> Record:
        item = r.mapping(item)
        return {"type": r.value(item, "type", required=True), "info": information(item, "info")}

    def information(obj: Record, key: str) -> Record:
        with r.at(key):
            info = r.mapping(obj.get(key))
            return {"email": r.value(info, "email", email, required=True), "phone": _required_phone(r, info),
                    "website_urls": urls(r, info, "website_urls", at_least=1)}

    return _compact({
        "calendar": calendar_out,
        "application_info": information(raw, "application_info"),
        "additional_requirements": r.each(raw, "additional_requirements", requirement),
        "decision_weeks_limit": r.value(raw, "decision_weeks_limit", integer_in(0), required=True),
        "tor_weeks_limit": r.value(raw, "tor_weeks_limit", integer_in(0), required=True),
        "accessibility": r.each(raw, "accessibility", accessibility),
        "housing_info": information(raw, "housing_info"),
        "visa_info": information(raw, "visa_info"),
        "insurance_info": information(raw, "insurance_info"),
        "additional_info": r.each(raw, "additional_info", additional),
    })


def _required_phone(r: Reader, info: Record) -> Record:
    with r.at("phone"):
        value = phone(r, info.get("phone"))
        if not value:
            raise r.fail("is required")
        return value


def read_file(r: Reader, raw: Any) -> Record:
    """A File API v1.0.0 file: metadata; the content is read by the importer (``content_base64``/``path``)."""
    raw = r.mapping(raw)
    return _compact({
        "file_id": r.value(raw, "file_id", identifier, required=True),
        "media_type": r.value(raw, "media_type", media_type, required=True),
        "name": r.value(raw, "name"),
        "public": r.boolean(raw, "public", False),
        "shared_with": r.each(raw, "shared_with", lambda v: hei(r, r._string(v))),
    })
