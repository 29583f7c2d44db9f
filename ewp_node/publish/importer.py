"""Import of published data (``docs/import-format.md``): all or nothing per file, idempotent, explicit deletes.

A file is read and checked completely (every record, then the references between records and the store)
before anything is written; one transaction then applies it. Errors name the file, the record and the field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.publish import repository as repo
from ewp_node.publish.csv_catalogue import decode_csv, read_csv
from ewp_node.publish.records import (
    FORMAT,
    InvalidRecords,
    Problem,
    Reader,
    Record,
    _Skip,
    hei,
    read_course,
    read_factsheet,
    read_file,
    read_institution,
    read_ounit,
)
from ewp_node.publish.repository import COURSE, FACTSHEET, INSTITUTION, OUNIT, Change

_COLLECTIONS = {"ounits": ("ounit_id", read_ounit), "courses": ("los_id", read_course), "files": ("file_id", read_file)}
_SINGLES = {"institution": read_institution, "factsheet": read_factsheet}
_KNOWN_KEYS = {"format", "hei_id", "delete", *_COLLECTIONS, *_SINGLES}

Progress = Callable[[int, int], None]


class ImportFailed(ValueError):
    """A file could not be imported; nothing of it was written."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = "\n".join(f"{source}: {p}" for p in self.problems[:50])
        more = f"\n{source}: ... and {len(self.problems) - 50} more problems" if len(self.problems) > 50 else ""
        super().__init__(shown + more)


@dataclass
class ImportReport:
    source: str
    hei_id: str
    counts: Counter[tuple[str, Change]] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return any(change is not Change.UNCHANGED for _, change in self.counts)

    def summary(self) -> str:
        parts = [f"{kind} {change.value}: {n}" for (kind, change), n in sorted(self.counts.items(),
                                                                             key=lambda i: (i[0][0], i[0][1].value))]
        return f"{self.source} ({self.hei_id}): " + (", ".join(parts) or "nothing to do")


@dataclass
class Checked:
    """A document whose records are all valid: what to upsert and what to delete, per kind."""

    hei_id: str
    singles: dict[str, Record | None]
    collections: dict[str, list[Record]]
    deletes: dict[str, list[str]]
    single_deletes: set[str]
    contents: dict[str, bytes]


def load(path: Path, encoding: str | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Read one import file (``.json``, or ``.csv`` for the course catalogue) into a document and the
    labels naming its records. :raises ImportFailed: unreadable.

    :param encoding: of a CSV file, when it is not UTF-8 (JSON is always UTF-8).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(str(path), [Problem("file", "", f"cannot be read: {exc}")]) from None
    if path.suffix.lower() == ".csv":
        try:
            return read_csv(decode_csv(data, encoding))
        except InvalidRecords as exc:
            raise ImportFailed(str(path), exc.problems) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed(str(path), [Problem("file", "", f"is not UTF-8: {exc}")]) from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ImportFailed(str(path), [Problem("file", "", f"is not valid JSON: {exc}")]) from None
    except RecursionError:
        raise ImportFailed(str(path), [Problem("file", "", "is nested too deeply: an import document has a "
                                               "handful of levels, this one more than Python can read")]) from None
    return document, {}


def check(document: Any, covered: Iterable[str], *, base_dir: Path | None = None,
          labels: dict[str, list[str]] | None = None) -> Checked:
    """Validate every record of a document (no store access). :raises InvalidRecords: listing all problems."""
    r = Reader()
    labels = labels or {}
    doc = r.mapping(document) if isinstance(document, dict) else None
    if doc is None:
        r.problems.append(Problem("document", "", "a JSON object is expected"))
        r.check()
    assert doc is not None
    if doc.get("format") != FORMAT:
        r.problems.append(Problem("document", "format", f"must be {FORMAT!r}, not {doc.get('format')!r}"))
    for unknown in sorted(set(doc) - _KNOWN_KEYS):
        r.problems.append(Problem("document", unknown, "is not a known section"))
    hei_id = _safe(r, lambda: r.value(doc, "hei_id", hei, required=True))
    if hei_id is not None and hei_id not in set(covered):
        r.problems.append(Problem("document", "hei_id", f"{hei_id!r} is not a HEI covered by this node"))
    singles = {}
    for name, read in _SINGLES.items():
        with r.for_record(name):
            singles[name] = _safe(r, read, r, doc[name]) if doc.get(name) is not None else None
    collections: dict[str, list[Record]] = {}
    for name, (key, read) in _COLLECTIONS.items():
        records: list[Record] = []
        seen: dict[str, str] = {}
        for index, raw in enumerate(_safe(r, r.items, doc, name) or []):
            label = labels.get(name, [])[index] if index < len(labels.get(name, [])) else f"{name}[{index}]"
            with r.for_record(label):
                record = _safe(r, read, r, raw)
            if record is None:
                continue
            if record[key] in seen:
                r.problems.append(Problem(label, key, f"{record[key]!r} is also given by {seen[record[key]]}"))
            seen[record[key]] = label
            records.append(record)
        collections[name] = records
    deletes, single_deletes = _read_deletes(r, doc, collections)
    contents = _file_contents(r, doc, base_dir)
    r.check()
    assert hei_id is not None
    return Checked(hei_id, singles, collections, deletes, single_deletes, contents)


def _safe(r: Reader, read: Callable[..., Any], *args: Any) -> Any:
    """``read(*args)``, or None when it failed (the problem is already recorded in ``r``)."""
    try:
        return read(*args)
    except _Skip:
        return None


def _read_deletes(r: Reader, doc: dict[str, Any], collections: dict[str, list[Record]]
                  ) -> tuple[dict[str, list[str]], set[str]]:
    deletes: dict[str, list[str]] = {name: [] for name in _COLLECTIONS}
    single_deletes: set[str] = set()
    raw = doc.get("delete") or {}
    with r.for_record("delete"):
        if not isinstance(raw, dict):
            r.problems.append(Problem("delete", "", "an object is expected"))
            return deletes, single_deletes
        for name, value in raw.items():
            if name in _SINGLES:
                if value is True:
                    single_deletes.add(name)
                elif value is not False:
                    r.problems.append(Problem("delete", name, "true or false is expected"))
                continue
            if name not in _COLLECTIONS:
                r.problems.append(Problem("delete", name, "is not a known section"))
                continue
            key = _COLLECTIONS[name][0]
            upserted = {rec[key] for rec in collections.get(name, [])}
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                if not isinstance(item, str) or not item:
                    r.problems.append(Problem("delete", f"{name}[{index}]", "an id is expected"))
                elif item in upserted:
                    r.problems.append(Problem("delete", f"{name}[{index}]", f"{item!r} is also imported by this file"))
                else:
                    deletes[name].append(item)
    for name in single_deletes & {n for n in _SINGLES if doc.get(n) is not None}:
        r.problems.append(Problem("delete", name, "is also imported by this file"))
    return deletes, single_deletes


def _file_contents(r: Reader, doc: dict[str, Any], base_dir: Path | None) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    raw_files: list[Any] = doc["files"] if isinstance(doc.get("files"), list) else []
    for index, raw in enumerate(raw_files):
        if not isinstance(raw, dict) or not raw.get("file_id"):
            continue
        label = f"files[{index}] ({raw['file_id']})"
        if bool(raw.get("content_base64")) == bool(raw.get("path")):
            r.problems.append(Problem(label, "content_base64", "give exactly one of content_base64 and path"))
        elif raw.get("content_base64"):
            try:
                contents[str(raw["file_id"])] = base64.b64decode(str(raw["content_base64"]), validate=True)
            except (binascii.Error, ValueError):
                r.problems.append(Problem(label, "content_base64", "is not valid base64"))
        else:
            content = _read_confined(r, label, (base_dir or Path.cwd()).resolve(), str(raw["path"]))
            if content is not None:
                contents[str(raw["file_id"])] = content
    return contents


def _read_confined(r: Reader, label: str, folder: Path, name: str) -> bytes | None:
    """The bytes of file ``name``, which must resolve (symlinks followed) to a regular file inside ``folder``:
    an import file may not publish the node's keys or anything else on the machine."""
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        r.problems.append(Problem(label, "path", f"{name!r} is outside the import file's folder {str(folder)!r}: "
                                  "put the file beside the import file or below it"))
        return None
    if path.exists() and not path.is_file():
        r.problems.append(Problem(label, "path", f"{name!r} is not a regular file"))
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        r.problems.append(Problem(label, "path", f"cannot be read: {exc.strerror or exc}"))
        return None


def check_references(session: Session, checked: Checked) -> dict[str, dict[str | None, Any]]:
    """Check the document against the store (ounit tree, ounit codes, course ounits, root ounit, file
    ownership) and return the current rows it touches. :raises InvalidRecords: listing all problems."""
    problems: list[Problem] = []
    hei_id = checked.hei_id
    ounits = repo.existing(session, OUNIT, hei_id)
    deleted_ounits = set(checked.deletes["ounits"])
    final: dict[str, dict[str, Any]] = {
        k: {"ounit_id": k, "ounit_code": row.ounit_code, "parent_ounit_id": row.parent_ounit_id}
        for k, row in ounits.items() if k is not None and k not in deleted_ounits}
    labels = {}
    for index, rec in enumerate(checked.collections["ounits"]):
        final[rec["ounit_id"]] = rec
        labels[rec["ounit_id"]] = f"ounits[{index}] ({rec['ounit_id']})"
    codes: dict[str, str] = {}
    for ounit_id, rec in final.items():
        label = labels.get(ounit_id, f"stored ounit {ounit_id!r}")
        other = codes.setdefault(rec["ounit_code"], ounit_id)
        if other != ounit_id and ounit_id in labels:
            problems.append(Problem(label, "ounit_code",
                                    f"{rec['ounit_code']!r} is already the code of ounit {other!r}"))
        parent = rec.get("parent_ounit_id")
        if parent is not None and parent not in final:
            problems.append(Problem(label, "parent_ounit_id", f"{parent!r} is not an ounit of {hei_id}"))
        elif parent is not None and _in_cycle(final, ounit_id):
            problems.append(Problem(label, "parent_ounit_id", f"{parent!r} makes the ounit tree a cycle"))
    courses = repo.existing(session, COURSE, hei_id)
    deleted_courses = set(checked.deletes["courses"])
    course_ounits = {k: row.ounit_id for k, row in courses.items() if k is not None and k not in deleted_courses}
    for index, rec in enumerate(checked.collections["courses"]):
        course_ounits[rec["los_id"]] = rec.get("ounit_id")
        if rec.get("ounit_id") and rec["ounit_id"] not in final:
            problems.append(Problem(f"courses[{index}] ({rec['los_id']})", "ounit_id",
                                    f"{rec['ounit_id']!r} is not an ounit of {hei_id}"))
    for ounit_id in deleted_ounits & set(ounits):
        children = sorted(k for k, rec in final.items() if rec.get("parent_ounit_id") == ounit_id)
        users = sorted(k for k, o in course_ounits.items() if o == ounit_id)
        if children or users:
            problems.append(Problem("delete", "ounits", f"ounit {ounit_id!r} is still used by "
                                    f"{', '.join(children + users)[:200]}"))
    institution = checked.singles["institution"]
    root = institution.get("root_ounit_id") if institution else None
    if root is not None and (root not in final or final[root].get("parent_ounit_id") is not None):
        problems.append(Problem("institution", "root_ounit_id", f"{root!r} is not a root ounit of {hei_id}"))
    files = repo.files_by_id(session, [rec["file_id"] for rec in checked.collections["files"]]
                             + checked.deletes["files"])
    for index, rec in enumerate(checked.collections["files"]):
        row = files.get(rec["file_id"])
        if row is not None and row.hei_id != hei_id:
            problems.append(Problem(f"files[{index}] ({rec['file_id']})", "file_id", "belongs to another HEI"))
        elif row is not None and row.content != checked.contents[rec["file_id"]]:
            problems.append(Problem(f"files[{index}] ({rec['file_id']})", "content_base64",
                                    "differs from the stored file: files are immutable, give new content a new id"))
    if problems:
        raise InvalidRecords(problems)
    return {"ounits": ounits, "courses": courses, "files": {k: v for k, v in files.items() if v.hei_id == hei_id}}


def _in_cycle(tree: dict[str, Record], start: str) -> bool:
    seen = {start}
    current = tree[start].get("parent_ounit_id")
    while current is not None and current in tree:
        if current in seen:
            return True
        seen.add(current)
        current = tree[current].get("parent_ounit_id")
    return False


def apply(session: Session, checked: Checked, current: dict[str, dict[str | None, Any]], now: datetime,
          source: str, progress: Progress | None = None) -> ImportReport:
    """Write a checked document (the caller commits)."""
    report = ImportReport(source, checked.hei_id)
    hei_id = checked.hei_id
    total = sum(len(v) for v in checked.collections.values()) + sum(len(v) for v in checked.deletes.values())
    done = 0
    for name, kind in (("institution", INSTITUTION), ("factsheet", FACTSHEET)):
        row = repo.existing(session, kind, hei_id).get(None)
        record = checked.singles[name]
        if record is not None:
            report.counts[name, repo.upsert(session, kind, hei_id, record, now, row)] += 1
        elif name in checked.single_deletes:
            report.counts[name, repo.delete(session, row) if row is not None else Change.UNCHANGED] += 1
    # Parents first, so that a reader never sees a child without its parent.
    ounits = sorted(checked.collections["ounits"], key=lambda rec: _depth(checked.collections["ounits"], rec))
    for name, kind, records in (("ounits", OUNIT, ounits), ("courses", COURSE, checked.collections["courses"])):
        for record in records:
            change = repo.upsert(session, kind, hei_id, record, now, current[name].get(record[str(kind.key)]))
            report.counts[name, change] += 1
            done += 1
            if progress and done % 100 == 0:
                progress(done, total)
    for record in checked.collections["files"]:
        change = repo.upsert_file(session, hei_id, record, checked.contents[record["file_id"]], now,
                                  current["files"].get(record["file_id"]))
        report.counts["files", change] += 1
    for name in ("courses", "ounits", "files"):
        for key in checked.deletes[name]:
            row = current[name].get(key)
            report.counts[name, repo.delete(session, row) if row is not None else Change.UNCHANGED] += 1
            done += 1
    if progress:
        progress(total, total)
    return report


def _depth(records: list[Record], record: Record) -> int:
    parents = {rec["ounit_id"]: rec.get("parent_ounit_id") for rec in records}
    depth, current = 0, record.get("parent_ounit_id")
    while current in parents and depth <= len(parents):
        depth, current = depth + 1, parents[current]
    return depth


def import_document(sessions: sessionmaker[Session], document: Any, covered: Iterable[str], *, source: str,
                    base_dir: Path | None = None, labels: dict[str, list[str]] | None = None,
                    progress: Progress | None = None, now: datetime | None = None) -> ImportReport:
    """Check and import one document in one transaction. :raises ImportFailed: nothing was written."""
    try:
        checked = check(document, covered, base_dir=base_dir, labels=labels)
    except InvalidRecords as exc:
        raise ImportFailed(source, exc.problems) from None
    with sessions.begin() as session:
        try:
            current = check_references(session, checked)
        except InvalidRecords as exc:
            raise ImportFailed(source, exc.problems) from None
        return apply(session, checked, current, now or datetime.now(UTC), source, progress)


def import_file(sessions: sessionmaker[Session], path: Path, covered: Iterable[str], *,
                progress: Progress | None = None, now: datetime | None = None,
                encoding: str | None = None) -> ImportReport:
    """Import one ``.json`` or ``.csv`` file. :raises ImportFailed: naming the file, record and field."""
    document, labels = load(path, encoding)
    return import_document(sessions, document, covered, source=str(path), base_dir=path.parent, labels=labels,
                           progress=progress, now=now)
