"""Import of mobilities from the student information system (``docs/mobility-import-format.md``) and export
in the same format: a file is checked completely, then applied in one transaction, or not at all.

Values follow the XSDs of OMobilities v3 and OMobility LAs v1 (with the same converters as the published-data
import). A changed outgoing nomination is pending again under a new proposal id; an incoming mobility keeps
the nomination its sending HEI gave it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.esi import InvalidEsi, parse_esi
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.records import (
    ACTIVITY_ATTRIBUTES,
    CEFR_LEVELS,
    GENDERS,
    Contact,
    Direction,
    LanguageSkill,
    Mobility,
    Nomination,
    NominationStatus,
    Party,
    Student,
)
from ewp_node.mobilities.service import new_proposal_id, save_our_mobility
from ewp_node.publish.records import (
    InvalidRecords,
    Problem,
    Reader,
    Record,
    _Skip,
    academic_year,
    country,
    email,
    hei,
    identifier,
    integer_in,
    iso_date,
    language,
    one_of,
    term_id,
)

FORMAT = "ewp-node-mobilities/1"
_ISCED_RE = re.compile(r"^[0-9]{4}$")
_E164_RE = re.compile(r"^\+[0-9]{1,15}$")


class MobilityImportFailed(ValueError):
    """The file was not imported; nothing of it was written."""


@dataclass(frozen=True)
class MobilityImportReport:
    source: str
    read: int
    changed: int

    def summary(self) -> str:
        return f"{self.source}: {self.read} mobilities read, {self.changed} created or changed"


def _isced(r: Reader, text: str) -> str:
    if not _ISCED_RE.match(text):
        raise r.fail(f"{text!r} is not a 4-digit ISCED-F code such as '0613'")
    return text


def _e164(r: Reader, text: str) -> str:
    if not _E164_RE.match(text):
        raise r.fail(f"{text!r} is not an E.164 phone number such as '+48123456789'")
    return text


def _esi(r: Reader, text: str) -> str:
    try:
        return parse_esi(text).urn
    except InvalidEsi as exc:
        raise r.fail(str(exc)) from None


def _date(r: Reader, obj: Record, key: str, *, required: bool = False) -> date | None:
    text = r.value(obj, key, iso_date, required=required)
    return date.fromisoformat(text) if text else None


def _contact(r: Reader, raw: Any) -> Contact | None:
    if raw is None:
        return None
    obj = r.mapping(raw)
    return Contact(given_names=r.value(obj, "given_names", required=True),
                   family_name=r.value(obj, "family_name", required=True),
                   email=r.value(obj, "email", email, required=True), phone_e164=r.value(obj, "phone_e164", _e164))


def _party(r: Reader, obj: Record, key: str) -> Party:
    with r.at(key):
        raw = r.mapping(obj.get(key))
        with r.at("contact"):
            contact = _contact(r, raw.get("contact"))
        return Party(hei_id=r.value(raw, "hei_id", hei, required=True), ounit_id=r.value(raw, "ounit_id", identifier),
                     ounit_name=r.value(raw, "ounit_name"), iia_id=r.value(raw, "iia_id", identifier), contact=contact)


def _student(r: Reader, obj: Record) -> Student:
    with r.at("student"):
        raw = r.mapping(obj.get("student"))
        birth = date.fromisoformat(r.value(raw, "birth_date", iso_date, required=True))
        return Student(given_names=r.value(raw, "given_names", required=True),
                       family_name=r.value(raw, "family_name", required=True),
                       global_id=r.value(raw, "global_id", _esi, required=True), birth_date=birth,
                       citizenship=r.value(raw, "citizenship", country, required=True),
                       gender=r.value(raw, "gender", one_of(GENDERS), required=True),
                       email=r.value(raw, "email", email, required=True))


def _skill(r: Reader, raw: Any) -> LanguageSkill:
    obj = r.mapping(raw)
    return LanguageSkill(r.value(obj, "language", language, required=True),
                         r.value(obj, "cefr_level", one_of(CEFR_LEVELS), required=True))


def read_mobility(r: Reader, raw: Any, covered: frozenset[str]) -> Mobility:
    """One mobility record (its nomination is filled in when it is stored)."""
    obj = r.mapping(raw)
    direction = r.value(obj, "direction", one_of(tuple(d.value for d in Direction)), required=True)
    mobility = Mobility(
        omobility_id=r.value(obj, "omobility_id", identifier, required=True), direction=Direction(direction),
        sending=_party(r, obj, "sending"), receiving=_party(r, obj, "receiving"), student=_student(r, obj),
        receiving_academic_year_id=r.value(obj, "receiving_academic_year_id", academic_year, required=True),
        activity_attributes=r.value(obj, "activity_attributes", one_of(ACTIVITY_ATTRIBUTES)) or "long-term",
        eqf_level=r.value(obj, "eqf_level", integer_in(1, 8), required=True),
        isced_code=r.value(obj, "isced_code", _isced, required=True),
        nomination=Nomination(NominationStatus.PENDING, ""),
        sending_term_id=r.value(obj, "sending_term_id", term_id),
        agreement_isced_code=r.value(obj, "agreement_isced_code", _isced),
        isced_clarification=r.value(obj, "isced_clarification"),
        language_skills=tuple(r.each(obj, "language_skills", lambda item: _skill(r, item))),
        planned_arrival=_date(r, obj, "planned_arrival"), planned_departure=_date(r, obj, "planned_departure"),
        actual_arrival=_date(r, obj, "actual_arrival"), actual_departure=_date(r, obj, "actual_departure"),
    )
    ours = mobility.sending if mobility.direction is Direction.OUTGOING else mobility.receiving
    if ours.hei_id not in covered:
        with r.at("direction"):
            raise r.fail(f"a {direction} mobility needs a HEI of this node as its "
                         f"{'sending' if direction == 'outgoing' else 'receiving'} HEI, not {ours.hei_id!r}")
    return mobility


def read_document(document: Any, covered: frozenset[str]) -> list[Mobility]:
    """Every mobility of an import document. :raises InvalidRecords: listing every problem found."""
    r = Reader()
    obj: Record = document if isinstance(document, dict) else {}
    if obj.get("format") != FORMAT:
        r.problems.append(Problem("document", "format", f"must be {FORMAT!r} (a JSON object is expected)"))
    mobilities: list[Mobility] = []
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(r.items(obj, "mobilities")):
        with r.for_record(f"mobilities[{index}]"):
            try:
                mobility = read_mobility(r, raw, covered)
            except _Skip:
                continue
            key = (mobility.sending.hei_id, mobility.omobility_id)
            if key in seen:
                r.fail(f"mobility {mobility.omobility_id!r} of {key[0]} appears twice")
            seen.add(key)
            mobilities.append(mobility)
    r.check()
    return mobilities


def import_mobilities(sessions: sessionmaker[Session], document: Any, covered: frozenset[str], source: str
                      ) -> MobilityImportReport:
    """Check the whole document, then store every mobility in one transaction.

    :raises MobilityImportFailed: naming every problem; nothing was written.
    """
    try:
        mobilities = read_document(document, covered)
    except InvalidRecords as exc:
        raise MobilityImportFailed("\n".join(f"{source}: {p}" for p in exc.problems)) from None
    changed = 0
    with sessions.begin() as session:
        for mobility in mobilities:
            changed += save_our_mobility(session, _with_nomination(session, mobility))
    return MobilityImportReport(source, len(mobilities), changed)


def _with_nomination(session: Session, mobility: Mobility) -> Mobility:
    """The mobility with the nomination it already has (new: pending, under a new proposal id)."""
    row = repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
    nomination = repo.mobility_record(row).nomination if row is not None else \
        Nomination(NominationStatus.PENDING, new_proposal_id())
    return replace(mobility, nomination=nomination)


def import_file(sessions: sessionmaker[Session], path: Path, covered: frozenset[str]) -> MobilityImportReport:
    """:raises MobilityImportFailed: unreadable or invalid file (nothing written)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MobilityImportFailed(f"{path}: cannot read JSON: {exc}") from None
    return import_mobilities(sessions, document, covered, str(path))


def _party_data(party: Party) -> Record:
    data: Record = {"hei_id": party.hei_id, "ounit_id": party.ounit_id, "ounit_name": party.ounit_name,
                    "iia_id": party.iia_id}
    if party.contact is not None:
        data["contact"] = {"given_names": party.contact.given_names, "family_name": party.contact.family_name,
                           "email": party.contact.email, "phone_e164": party.contact.phone_e164}
    return data


def export_record(mobility: Mobility) -> Record:
    """One mobility in the import format (plus its nomination, for reading only)."""
    student = mobility.student
    record: Record = {
        "omobility_id": mobility.omobility_id, "direction": mobility.direction.value,
        "sending": _party_data(mobility.sending), "receiving": _party_data(mobility.receiving),
        "student": {"given_names": student.given_names, "family_name": student.family_name,
                    "global_id": student.global_id, "birth_date": student.birth_date.isoformat(),
                    "citizenship": student.citizenship, "gender": student.gender, "email": student.email},
        "receiving_academic_year_id": mobility.receiving_academic_year_id,
        "sending_term_id": mobility.sending_term_id, "activity_attributes": mobility.activity_attributes,
        "eqf_level": mobility.eqf_level, "isced_code": mobility.isced_code,
        "agreement_isced_code": mobility.agreement_isced_code, "isced_clarification": mobility.isced_clarification,
        "language_skills": [{"language": s.language, "cefr_level": s.cefr_level} for s in mobility.language_skills],
        "nomination": {"status": mobility.nomination.status.value, "proposal_id": mobility.nomination.proposal_id,
                       "comment": mobility.nomination.comment},
    }
    for key in ("planned_arrival", "planned_departure", "actual_arrival", "actual_departure"):
        value = getattr(mobility, key)
        record[key] = value.isoformat() if value else None
    return record


def export_document(session: Session, covered: frozenset[str]) -> Record:
    """Every mobility of the covered HEIs, in the import format."""
    return {"format": FORMAT, "mobilities": [export_record(m) for m in repo.list_mobilities(session, covered)]}
