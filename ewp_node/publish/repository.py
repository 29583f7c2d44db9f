"""Store and read published records (canonical form, see ``records``): plain functions over a ``Session``.

Writes are upserts keyed by ``(hei_id, local id)`` that touch a row (and its ``modified_at``) only when the
record really changed, so re-importing the same data changes nothing. The caller commits.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from ewp_node.publish.models import Factsheet, Institution, Loi, Los, OUnit, StoredFile
from ewp_node.publish.records import Record

#: Largest ``IN (...)`` list sent to the database in one query.
CHUNK = 500


class Change(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


@dataclass(frozen=True)
class Kind:
    """How one kind of record maps onto its table: the key, the key-like columns, the rest in ``data``."""

    name: str
    model: Any
    key: str | None
    columns: tuple[str, ...]

    @property
    def key_column(self) -> InstrumentedAttribute[Any]:
        return getattr(self.model, self.key or "hei_id")

    def values(self, record: Record) -> dict[str, Any]:
        skip = {self.key, *self.columns, "instances"}
        values = {c: record.get(c) for c in self.columns}
        values["data"] = {k: v for k, v in record.items() if k not in skip}
        return values

    def record(self, row: Any) -> Record:
        out: Record = {self.key: getattr(row, self.key)} if self.key else {}
        out.update((c, getattr(row, c)) for c in self.columns if getattr(row, c) is not None)
        out.update(row.data)
        if self.model is Los:
            out["instances"] = [_loi_record(loi.loi_id, loi.start, loi.end, loi.language_of_instruction, loi.data)
                                for loi in row.instances]
            out = {k: v for k, v in out.items() if v != []}
        return out


INSTITUTION = Kind("institution", Institution, None, ("root_ounit_id",))
OUNIT = Kind("ounits", OUnit, "ounit_id", ("ounit_code", "parent_ounit_id"))
COURSE = Kind("courses", Los, "los_id", ("los_code", "type", "ounit_id", "isced_code", "eqf_level",
                                          "open_to_incoming"))
FACTSHEET = Kind("factsheet", Factsheet, None, ())
KINDS = {k.name: k for k in (INSTITUTION, OUNIT, COURSE, FACTSHEET)}
_LOI_COLUMNS = ("loi_id", "start", "end", "language_of_instruction")


def _loi_record(loi_id: str, start: date, end: date, language: str | None, data: Record) -> Record:
    return {"loi_id": loi_id, "start": start.isoformat(), "end": end.isoformat(), **data,
            **({"language_of_instruction": language} if language else {})}


def _loi_row(position: int, record: Record) -> Loi:
    ects = next((Decimal(c["value"]) for c in record.get("credits", ()) if c["scheme"].lower() == "ects"), None)
    return Loi(position=position, loi_id=record["loi_id"], start=date.fromisoformat(record["start"]),
               end=date.fromisoformat(record["end"]),
               academic_year_id=(record.get("academic_term") or {}).get("academic_year_id"),
               language_of_instruction=record.get("language_of_instruction"), ects=ects,
               data={k: v for k, v in record.items() if k not in _LOI_COLUMNS})


def existing(session: Session, kind: Kind, hei_id: str, keys: Sequence[str] | None = None) -> dict[str | None, Any]:
    """Current rows of ``kind`` for ``hei_id`` by key (all of them, or those with the given keys)."""
    query = select(kind.model).where(kind.model.hei_id == hei_id)
    if kind.model is Los:
        query = query.options(selectinload(Los.instances))
    if kind.key is None or keys is None:
        return {getattr(row, kind.key) if kind.key else None: row for row in session.scalars(query)}
    rows: dict[str | None, Any] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        rows.update((getattr(row, kind.key), row) for row in session.scalars(query.where(kind.key_column.in_(chunk))))
    return rows


def upsert(session: Session, kind: Kind, hei_id: str, record: Record, now: datetime, current: Any | None) -> Change:
    """Create or update one record (``current``: its row, from :func:`existing`, or None)."""
    if current is not None and kind.record(current) == record:
        return Change.UNCHANGED
    values = kind.values(record)
    row = current or kind.model(hei_id=hei_id, **({kind.key: record[kind.key]} if kind.key else {}))
    for name, value in values.items():
        setattr(row, name, value)
    if kind is COURSE:
        if current is not None and current.instances:
            # The old LOIs must be gone before the new ones go in: a flush inserts before it deletes orphans,
            # which would break the unique (los_pk, loi_id) on every LOI kept by id.
            current.instances.clear()
            session.flush()
        row.instances = [_loi_row(i, loi) for i, loi in enumerate(record.get("instances", ()))]
    row.modified_at = now
    if current is None:
        session.add(row)
        return Change.CREATED
    return Change.UPDATED


def delete(session: Session, row: Any) -> Change:
    session.delete(row)
    return Change.DELETED


# -- files ---------------------------------------------------------------------------------------------------

def upsert_file(session: Session, hei_id: str, record: Record, content: bytes, now: datetime,
                current: StoredFile | None) -> Change:
    """Files are immutable (File API v1.0.0): new content needs a new id; metadata may change."""
    if current is not None and file_record(current) == record and current.content == content:
        return Change.UNCHANGED
    row = current or StoredFile(hei_id=hei_id, file_id=record["file_id"], content=content)
    row.media_type, row.name = record["media_type"], record.get("name")
    row.public, row.shared_with = record["public"], list(record.get("shared_with", ()))
    row.modified_at = now
    if current is None:
        session.add(row)
        return Change.CREATED
    return Change.UPDATED


def file_record(row: StoredFile) -> Record:
    out = {"file_id": row.file_id, "media_type": row.media_type, "name": row.name, "public": row.public,
           "shared_with": row.shared_with}
    return {k: v for k, v in out.items() if v not in (None, [])}


def files(session: Session, hei_id: str) -> list[StoredFile]:
    return list(session.scalars(select(StoredFile).where(StoredFile.hei_id == hei_id).order_by(StoredFile.file_id)))


def files_by_id(session: Session, file_ids: Sequence[str]) -> dict[str, StoredFile]:
    rows = session.scalars(select(StoredFile).where(StoredFile.file_id.in_(file_ids)))
    return {row.file_id: row for row in rows}


def file_for(session: Session, file_id: str, hei_ids: Iterable[str]) -> StoredFile | None:
    """The file ``file_id`` if one of ``hei_ids`` owns it."""
    return session.scalar(select(StoredFile).where(StoredFile.file_id == file_id,
                                                   StoredFile.hei_id.in_(list(hei_ids))))


# -- reads for the APIs ------------------------------------------------------------------------------------

def institution(session: Session, hei_id: str) -> Record | None:
    row = session.scalar(select(Institution).where(Institution.hei_id == hei_id))
    return INSTITUTION.record(row) if row is not None else None


def factsheet(session: Session, hei_id: str) -> Record | None:
    row = session.scalar(select(Factsheet).where(Factsheet.hei_id == hei_id))
    return FACTSHEET.record(row) if row is not None else None


def ounit_ids(session: Session, hei_id: str) -> list[str]:
    """Every ounit id of a HEI, parents before children, then by id (the ``<ounit-id>`` list)."""
    rows = session.execute(select(OUnit.ounit_id, OUnit.parent_ounit_id).where(OUnit.hei_id == hei_id)
                           .order_by(OUnit.ounit_id)).all()
    children: dict[str | None, list[str]] = {}
    for ounit_id, parent in rows:
        children.setdefault(parent, []).append(ounit_id)
    known = {ounit_id for ounit_id, _ in rows}
    out: list[str] = []
    stack = sorted((c for p, cs in children.items() if p is None or p not in known for c in cs), reverse=True)
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(sorted(children.get(current, ()), reverse=True))
    return out


_OUNIT_KEYS = {"ounit_id": OUnit.ounit_id, "ounit_code": OUnit.ounit_code}
_LOS_KEYS = {"los_id": Los.los_id, "los_code": Los.los_code}


def _in_request_order(rows: Iterable[Any], values: Sequence[str], key: Callable[[Any], str]) -> list[Any]:
    rank = {v: i for i, v in enumerate(values)}
    return sorted(rows, key=lambda row: (rank[key(row)], row.id))


def ounits_by(session: Session, hei_id: str, key: str, values: Sequence[str]) -> list[Record]:
    """OUnits of ``hei_id`` whose ``key`` (``ounit_id`` or ``ounit_code``) is in ``values``, in that order;
    unknown values are ignored."""
    column = _OUNIT_KEYS[key]
    rows = session.scalars(select(OUnit).where(OUnit.hei_id == hei_id, column.in_(values)))
    return [OUNIT.record(row) for row in _in_request_order(rows, values, lambda r: getattr(r, column.key))]


@dataclass(frozen=True)
class LoiWindow:
    """Courses API v0.7.1 date filters: ``lois_before`` keeps LOIs ending before it, ``lois_after`` LOIs
    starting after it."""

    before: date | None = None
    after: date | None = None


class StoredLos(NamedTuple):
    """A published LOS as read, not decoded yet: its columns (``los_id``, ``COURSE.columns``, ``data`` as JSON
    text) and those of its LOIs in the window (``loi_id``, ``start``, ``end``, ``language_of_instruction``,
    ``data`` as JSON text). Equal values make equal records, so it keys the cache of built elements (a tuple:
    hashed and compared in C)."""

    columns: tuple[Any, ...]
    instances: tuple[tuple[Any, ...], ...]

    def record(self) -> Record:
        """The canonical record, with ``instances``."""
        los_id, *values, data = self.columns
        record = {"los_id": los_id, **{c: v for c, v in zip(COURSE.columns, values, strict=True) if v is not None},
                  **json.loads(data)}
        record["instances"] = [_loi_record(loi_id, start, end, language, json.loads(loi_data))
                               for loi_id, start, end, language, loi_data in self.instances]
        return record


_LOS_COLUMNS = (Los.id, Los.los_id, *(getattr(Los, c) for c in COURSE.columns), cast(Los.data, Text))
_LOI_READ = (Loi.los_pk, Loi.loi_id, Loi.start, Loi.end, Loi.language_of_instruction, cast(Loi.data, Text))


def courses_by(session: Session, hei_id: str, key: str, values: Sequence[str],
               window: LoiWindow = LoiWindow()) -> list[StoredLos]:
    """Published LOSes of ``hei_id`` whose ``key`` (``los_id`` or ``los_code``) is in ``values``, in that
    order, each with the LOIs inside ``window``. Two queries, column tuples only, JSON left undecoded (the
    hot path: a cached LOS is never decoded)."""
    column = _LOS_KEYS[key]
    los_rows = session.execute(select(*_LOS_COLUMNS).where(Los.hei_id == hei_id, Los.open_to_incoming.is_(True),
                                                           column.in_(values))).all()
    los_rows = _in_request_order(los_rows, values, lambda r: getattr(r, column.key))
    loi_query = select(*_LOI_READ).where(Loi.los_pk.in_([r.id for r in los_rows])).order_by(Loi.los_pk,
                                                                                            Loi.position)
    if window.before is not None:
        loi_query = loi_query.where(Loi.end < window.before)
    if window.after is not None:
        loi_query = loi_query.where(Loi.start > window.after)
    instances: dict[int, list[tuple[Any, ...]]] = {}
    for los_pk, *loi in session.execute(loi_query):
        instances.setdefault(los_pk, []).append(tuple(loi))
    return [StoredLos(tuple(row)[1:], tuple(instances.get(row.id, ()))) for row in los_rows]


def los_ids(session: Session, hei_id: str, modified_since: datetime | None = None) -> list[str]:
    """Published LOS ids of ``hei_id`` (Simple Course Replication v1), optionally modified after a moment."""
    query = select(Los.los_id).where(Los.hei_id == hei_id, Los.open_to_incoming.is_(True)).order_by(Los.los_id)
    if modified_since is not None:
        query = query.where(Los.modified_at > modified_since)
    return list(session.scalars(query))
