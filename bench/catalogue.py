"""Benchmark: Courses ``get`` with max ids and Simple Course Replication over a 20,000-course catalogue.

Prints one JSON object: for each API, the time per request (parameters parsed, store read, XML built and
serialised: everything but the HTTP signature layer, which Echo's benchmark measures) against the time of the
bare SQL queries fetching the same rows, and their ratio (target <= 3); for Courses also against the same
queries with the JSON columns left as text (the handler decodes only what its cache misses).
Usage: ``python bench/catalogue.py [--courses N] [--database-url URL]``; on PostgreSQL it works in a schema of
its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from _handler_request import request_maker
from sqlalchemy import Text, cast, select, text

from ewp_node.config import HeiConfig, Settings
from ewp_node.publish.demo_data import build_document
from ewp_node.publish.importer import import_document
from ewp_node.publish.models import Loi, Los
from ewp_node.responses import serialize
from ewp_node.store.db import make_engine, session_factory, upgrade_database
from handlers import course_replication, courses

HEI = "bench.example.eu"


def _catalogue(size: int) -> dict:  # type: ignore[type-arg]
    """The "pl" demo catalogue repeated with fresh ids up to ``size`` courses."""
    document = build_document("pl", HEI)
    base = [c for c in document["courses"] if c["los_id"].startswith("CR/")]
    out = []
    for n in range(size):
        course = copy.deepcopy(base[n % len(base)])
        course["los_id"] = f"CR/{n:06d}"
        course["los_code"] = f"{course['los_code']}-{n // len(base)}"
        for i, loi in enumerate(course["instances"]):
            loi["loi_id"] = f"CRI/{n:06d}-{i}"
        out.append(course)
    document["courses"] = out
    return document


@contextmanager
def _database(url: str) -> Iterator[str]:
    """``url`` itself (SQLite), or a PostgreSQL URL bound to a fresh schema that is dropped afterwards."""
    if not url.startswith("postgresql"):
        yield url
        return
    schema = f"bench_catalogue_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _time(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _time_in_turn(runs: Mapping[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """:func:`_time` of each of ``runs``, sampled in turn (one of each, ``repeat`` times): a change of the
    machine's load during the measure weighs on all of them alike, not on whichever ran then."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--courses", type=int, default=20_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            _database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}") as url:
        engine = make_engine(url)
        upgrade_database(engine)
        sessions = session_factory(engine)
        settings = Settings(home=Path(tmp), base_url="https://bench.example.eu",
                            heis=(HeiConfig(id=HEI, names={"en": "Bench"}),), database_url=url)
        started = time.perf_counter()
        import_document(sessions, _catalogue(args.courses), {HEI}, source="bench")
        import_seconds = time.perf_counter() - started

        make = request_maker(settings, sessions, "partner.example.eu")
        max_ids = courses.API.limit(settings, "max-los-ids")
        ids = [f"CR/{n:06d}" for n in range(0, args.courses, max(1, args.courses // max_ids))][:max_ids]

        def request(view, pairs):  # type: ignore[no-untyped-def]
            return lambda: serialize(view(make(pairs)))

        def bare_courses(as_text: bool) -> Callable[[], None]:
            los_data, loi_data = (cast(Los.data, Text), cast(Loi.data, Text)) if as_text else (Los.data, Loi.data)

            def run() -> None:
                with sessions() as session:
                    rows = session.execute(select(Los.id, Los.los_id, Los.los_code, Los.type, Los.ounit_id,
                                                  Los.isced_code, Los.eqf_level, Los.open_to_incoming, los_data)
                                           .where(Los.hei_id == HEI, Los.los_id.in_(ids))).all()
                    session.execute(select(Loi.los_pk, Loi.loi_id, Loi.start, Loi.end, Loi.language_of_instruction,
                                           loi_data).where(Loi.los_pk.in_([r.id for r in rows]))).all()
            return run

        def bare_replication() -> None:
            with sessions() as session:
                session.execute(select(Los.los_id).where(Los.hei_id == HEI, Los.open_to_incoming.is_(True))
                                .order_by(Los.los_id)).all()

        results = {}
        for name, view, pairs, bares in [
            ("courses_get_max_ids", courses.courses, [("hei_id", HEI)] + [("los_id", i) for i in ids],
             {"": bare_courses(False), "_json_as_text": bare_courses(True)}),
            ("course_replication_all", course_replication.course_replication, [("hei_id", HEI)],
             {"": bare_replication}),
        ]:
            run = request(view, pairs)
            run()
            handler_ms = _time(run, args.repeat)
            results[name] = {"request_ms": round(handler_ms, 2), "response_bytes": len(run())}
            for suffix, bare in bares.items():
                bare()
                bare_ms = _time(bare, args.repeat)
                results[name] |= {f"bare_sql{suffix}_ms": round(bare_ms, 2),
                                  f"ratio{suffix}": round(handler_ms / bare_ms, 2)}
        results["courses_get_max_ids"]["ids"] = len(ids)
        json.dump({"catalogue_courses": args.courses, "database": engine.dialect.name,
                   "import_seconds": round(import_seconds, 1), **results}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
