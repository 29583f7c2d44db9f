"""Compare our copy of an IIA with the partner's copy, field by field, in words the international office reads.

The two copies describe one agreement from the two sides: the partner's copy lists the partner first, ours
lists us first, so partners are matched by HEI, not by position. What a copy says of a partner besides its
``iia-id`` (code, unit, signer, contacts) is not hashed and each side knows its own best: it is reported only
when both copies state it and disagree, not when one copy leaves it out. Cooperation conditions are matched by what
identifies them for people (kind, sending and receiving HEI and unit), in order within each such group; a
condition found on one side only is reported as such. Every other field is compared as the record holds it,
and each difference becomes one :class:`Difference` with a sentence such as
"student studies uni-b.example.eu → uni-a.example.eu, 2026/2027: partner says 3 students/year, we say 2".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from typing import Any

from ewp_node.iias.records import Contact, CooperationCondition, Iia, LanguageSkill, Partner, SubjectArea


@dataclass(frozen=True)
class Difference:
    """One field on which the copies disagree.

    :ivar field: where, as a path (``conditions[student studies a→b #1].mobilities_per_year``), stable enough
        to compare two diffs.
    :ivar ours: our value in words (``"nothing"`` when we have none).
    :ivar theirs: the partner's value in words.
    :ivar text: the sentence for people.
    """

    field: str
    ours: str
    theirs: str
    text: str


def compare(ours: Iia, theirs: Iia) -> tuple[Difference, ...]:
    """Every difference between our copy and the partner's copy (empty when they agree)."""
    return tuple(_compare_iias(ours, theirs))


_NOTHING = "nothing"

# Fields that are per copy by design and never compared: each side's own file id.
_NOT_COMPARED = frozenset({"pdf_file", "partners", "conditions"})

# Words for field names (others: the name with spaces).
_LABELS = {
    "in_effect": "in effect",
    "terminated_as_a_whole": "terminated as a whole",
    "iia_id": "IIA id",
    "iia_code": "IIA code",
    "ounit_id": "organisational unit",
    "signing_contact": "signing contact",
    "signing_date": "signing date",
    "contacts": "contacts",
    "sending_contacts": "sending contacts",
    "receiving_contacts": "receiving contacts",
    "mobilities_per_year": "mobilities per year",
    "mobilities_per_year_not_yet_defined": "mobilities per year not yet defined",
    "recommended_language_skills": "recommended language skills",
    "subject_areas": "subject areas (ISCED-F)",
    "other_info_terms": "other information",
    "total_months_per_year": "total months per year",
    "total_days_per_year": "total days per year",
    "eqf_levels": "EQF levels",
    "receiving_first_academic_year_id": "first academic year",
    "receiving_last_academic_year_id": "last academic year",
}

# Fields that identify a condition (a difference there is a different condition, not a changed one).
_CONDITION_KEY = ("kind", "sending_hei_id", "receiving_hei_id", "sending_ounit_id", "receiving_ounit_id")


def _compare_iias(ours: Iia, theirs: Iia) -> Iterator[Difference]:
    yield from _compare_fields("agreement", "", ours, theirs)
    for hei_id in dict.fromkeys(p.hei_id for p in (*ours.partners, *theirs.partners)):
        yield from _compare_partners(hei_id, _partner(ours, hei_id), _partner(theirs, hei_id))
    yield from _compare_conditions(ours.conditions, theirs.conditions)


def _partner(iia: Iia, hei_id: str) -> Partner | None:
    return next((p for p in iia.partners if p.hei_id == hei_id), None)


def _compare_partners(hei_id: str, ours: Partner | None, theirs: Partner | None) -> Iterator[Difference]:
    where = f"partner {hei_id}"
    path = f"partners[{hei_id}]"
    if ours is None or theirs is None:
        yield _one_sided(path, where, ours is not None)
        return
    for difference in _compare_fields(where, path, ours, theirs):
        name = difference.field.rsplit(".", 1)[1]
        if name == "iia_id" or _NOTHING not in (difference.ours, difference.theirs):
            yield difference


def _compare_conditions(
    ours: tuple[CooperationCondition, ...], theirs: tuple[CooperationCondition, ...]
) -> Iterator[Difference]:
    ours_by_key = _group(ours)
    theirs_by_key = _group(theirs)
    for key in dict.fromkeys((*ours_by_key, *theirs_by_key)):
        ours_list = ours_by_key.get(key, [])
        theirs_list = theirs_by_key.get(key, [])
        for index in range(max(len(ours_list), len(theirs_list))):
            mine = ours_list[index] if index < len(ours_list) else None
            other = theirs_list[index] if index < len(theirs_list) else None
            sample = mine or other
            assert sample is not None
            where = _condition_words(sample, index, len(ours_list), len(theirs_list))
            path = f"conditions[{_condition_name(sample)} #{index + 1}]"
            if mine is None or other is None:
                yield _one_sided(path, where, mine is not None)
            else:
                yield from _compare_fields(where, path, mine, other, skip=_CONDITION_KEY)


def _group(conditions: tuple[CooperationCondition, ...]) -> dict[tuple[Any, ...], list[CooperationCondition]]:
    groups: dict[tuple[Any, ...], list[CooperationCondition]] = {}
    for condition in conditions:
        groups.setdefault(tuple(getattr(condition, f) for f in _CONDITION_KEY), []).append(condition)
    return groups


def _condition_name(condition: CooperationCondition) -> str:
    name = f"{condition.kind.label} {condition.sending_hei_id}→{condition.receiving_hei_id}"
    units = [u for u in (condition.sending_ounit_id, condition.receiving_ounit_id) if u]
    return f"{name} ({'→'.join(units)})" if units else name


def _condition_words(condition: CooperationCondition, index: int, ours: int, theirs: int) -> str:
    first, last = condition.receiving_first_academic_year_id, condition.receiving_last_academic_year_id
    years = first if first == last else f"{first}-{last}"
    number = f" (#{index + 1})" if max(ours, theirs) > 1 else ""
    return f"{_condition_name(condition)}{number}, {years}"


def _compare_fields(where: str, path: str, ours: Any, theirs: Any, skip: tuple[str, ...] = ()) -> Iterator[Difference]:
    for f in fields(ours):
        if f.name in _NOT_COMPARED or f.name in skip:
            continue
        mine, other = getattr(ours, f.name), getattr(theirs, f.name)
        if not _same(mine, other):
            field_path = f"{path}.{f.name}" if path else f.name
            yield _difference(field_path, where, f.name, mine, other, ours)


def _same(mine: Any, other: Any) -> bool:
    """Equal as the hash sees it: decimals compare as written (10.5 and 10.50 hash differently)."""
    if isinstance(mine, Decimal) and isinstance(other, Decimal):
        return str(mine) == str(other)
    return bool(mine == other)


def _difference(path: str, where: str, name: str, mine: Any, other: Any, owner: Any) -> Difference:
    ours_words, theirs_words = _words(mine), _words(other)
    if name == "mobilities_per_year" and isinstance(owner, CooperationCondition):
        unit = "students/year" if owner.kind.is_student else "staff/year"
        text = f"{where}: partner says {theirs_words} {unit}, we say {ours_words}"
    else:
        text = f"{where}: {_LABELS.get(name, name.replace('_', ' '))}: partner says {theirs_words}, we say {ours_words}"
    return Difference(field=path, ours=ours_words, theirs=theirs_words, text=text)


def _one_sided(path: str, where: str, ours_only: bool) -> Difference:
    if ours_only:
        return Difference(field=path, ours="present", theirs=_NOTHING, text=f"{where}: only in our copy")
    return Difference(field=path, ours=_NOTHING, theirs="present", text=f"{where}: only in the partner's copy")


def _words(value: Any) -> str:
    """A value as people read it."""
    if value is None or value == ():
        return _NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "; ".join(_words(v) for v in value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, SubjectArea):
        code = value.isced_f_code + (f" (v6: {value.v6_value})" if value.v6_value else "")
        return f"{code} {value.isced_clarification}" if value.isced_clarification else code
    if isinstance(value, LanguageSkill):
        skill = " ".join(v for v in (value.language, value.cefr_level) if v)
        return f"{skill} in {_words(value.subject_area)}" if value.subject_area else skill
    if isinstance(value, Contact):
        name = value.names[0].text if value.names else "(no name)"
        return f"{name} <{', '.join(value.emails)}>" if value.emails else name
    if is_dataclass(value) and not isinstance(value, type):
        return ", ".join(f"{f.name}={_words(getattr(value, f.name))}" for f in fields(value))
    return str(value)
