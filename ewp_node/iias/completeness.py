"""Is an IIA complete enough to send to a partner or to approve? The fields partners complain about, by field.

A copy can be schema-valid and still be refused by the other side: no contact to write to, study conditions
without a subject area, ISCED-F codes that are not 4-digit v7 codes (a migrated v6 code), conditions without
academic years or mobility numbers, language skills still marked ``not-yet-defined`` after a v6 migration.
:func:`check` lists each such gap with the field it concerns; an empty result means complete.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ewp_node.iias.records import Contact, CooperationCondition, Iia, MobilityKind, Partner

_ACADEMIC_YEAR = re.compile(r"^([0-9]{4})/([0-9]{4})$")
_ISCED_F = re.compile(r"^[0-9]{4}$")


@dataclass(frozen=True)
class Gap:
    """One missing or unusable field: ``field`` is its path, ``message`` says what to fill in."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def check(iia: Iia) -> tuple[Gap, ...]:
    """Every gap of one copy (ours or the partner's), in field order; empty when complete."""
    return tuple(_gaps(iia))


def _gaps(iia: Iia) -> Iterator[Gap]:
    for partner in iia.partners:
        yield from _contact_gaps(partner, _condition_contacts(iia, partner.hei_id))
    if not iia.conditions:
        yield Gap("conditions", "no cooperation condition")
    for index, condition in enumerate(iia.conditions, start=1):
        yield from _condition_gaps(f"conditions[{index}] ({condition.kind.label})", condition)


def _condition_contacts(iia: Iia, hei_id: str) -> tuple[Contact, ...]:
    """The contacts the conditions name for one HEI (as sending or receiving side)."""
    return tuple(contact for condition in iia.conditions for contact in (
        *(condition.sending_contacts if condition.sending_hei_id == hei_id else ()),
        *(condition.receiving_contacts if condition.receiving_hei_id == hei_id else ())))


def _contact_gaps(partner: Partner, condition_contacts: tuple[Contact, ...]) -> Iterator[Gap]:
    """Each partner needs someone to write to: a contact of its own or one a condition names for it."""
    path = f"partners[{partner.hei_id}].contacts"
    contacts = (*partner.contacts, *condition_contacts)
    if not contacts:
        yield Gap(path, "no contact person")
    elif not any(c.emails for c in contacts):
        yield Gap(path, "no contact has an e-mail address")


def _condition_gaps(path: str, condition: CooperationCondition) -> Iterator[Gap]:
    yield from _year_gaps(path, condition)
    if condition.mobilities_per_year_not_yet_defined:
        yield Gap(f"{path}.mobilities_per_year", "number of mobilities per year not yet defined")
    elif condition.mobilities_per_year < 1:
        yield Gap(f"{path}.mobilities_per_year", "no mobilities per year")
    if condition.kind is MobilityKind.STUDENT_STUDIES and not condition.subject_areas:
        yield Gap(f"{path}.subject_areas", "no subject area (ISCED-F code)")
    for number, area in enumerate(condition.subject_areas, start=1):
        if area.v6_value or not _ISCED_F.match(area.isced_f_code):
            yield Gap(f"{path}.subject_areas[{number}].isced_f_code",
                      f"ISCED-F code {area.isced_f_code!r} is not a 4-digit v7 code")
    if condition.kind.requires_language_skill and not condition.recommended_language_skills:
        yield Gap(f"{path}.recommended_language_skills", "no recommended language skill")
    for number, skill in enumerate(condition.recommended_language_skills, start=1):
        if skill.not_yet_defined:
            yield Gap(f"{path}.recommended_language_skills[{number}]", "language skill not yet defined")
        elif condition.kind.requires_language_skill and not skill.cefr_level:
            yield Gap(f"{path}.recommended_language_skills[{number}].cefr_level", "no CEFR level")


def _year_gaps(path: str, condition: CooperationCondition) -> Iterator[Gap]:
    first = _ACADEMIC_YEAR.match(condition.receiving_first_academic_year_id or "")
    last = _ACADEMIC_YEAR.match(condition.receiving_last_academic_year_id or "")
    if first is None:
        yield Gap(f"{path}.receiving_first_academic_year_id", "no first academic year")
    if last is None:
        yield Gap(f"{path}.receiving_last_academic_year_id", "no last academic year")
    if first and last and int(first.group(1)) > int(last.group(1)):
        yield Gap(f"{path}.receiving_last_academic_year_id", "last academic year before the first")
