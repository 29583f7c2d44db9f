"""Benchmark: IIAs v7 index and get (max ids) over 100,000 stored IIAs, the IIA hash, the outbox throughput.

Prints one JSON object. ``index`` and ``get_max_ids``: time per request through the handlers (parameters
parsed, store read, XML built and serialised: everything but the HTTP signature layer, which Echo's benchmark
measures) against the bare SQL query fetching the same rows, and their ratio (keys ``ratio...``, target <= 3),
on SQLite and, when reachable, on PostgreSQL. ``hash_us`` (``hash_cpu_us``): wall-clock (CPU) time to hash
one four-condition IIA as the builder writes it. ``outbox_cnr_per_s``: IIA CNRs delivered per second by the
outbox workers to a partner on loopback (``bench/outbox.py``, whose whole report is under ``outbox``).

The IIAs are one IIA of each condition kind, stored once through the service and then copied under new ids
(the stored ``<iia>`` with its id replaced: the hash of a copy is not recomputed, the APIs read it as stored).
Usage: ``python bench/iia.py [--iias N] [--partners N] [--postgres URL | --no-postgres] [--cnrs N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _handler_request import request_maker
from catalogue import _database, _time  # the same timing and PostgreSQL schema as the catalogue bench
from outbox import run as run_outbox  # IIA CNRs delivered to a loopback partner
from sqlalchemy import create_engine, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.api import EwpRequest
from ewp_node.config import HeiConfig, Settings
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.build import build_iia
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.models import IiaRow
from ewp_node.iias.records import Iia
from ewp_node.iias.validate import check_iia
from ewp_node.responses import serialize
from ewp_node.store.db import make_engine, session_factory, upgrade_database
from handlers import iias

HEI = "bench.example.eu"
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _partner(n: int) -> str:
    return f"partner-{n:04d}.example.eu"


def _contact(name: str, email: str) -> dict[str, Any]:
    return {"names": [name], "emails": [email]}


def _record(partner: str) -> Iia:
    """One IIA between :data:`HEI` and ``partner`` with one condition of each kind (the issue's shape)."""
    years = {"receiving_first_academic_year_id": "2025/2026", "receiving_last_academic_year_id": "2028/2029"}
    return check_iia({
        "partners": [
            {"hei_id": HEI, "iia_code": "BENCH/1", "contacts": [_contact("International office", "iro@bench.eu")]},
            {"hei_id": partner, "iia_id": "p-1", "contacts": [_contact("Erasmus office", f"erasmus@{partner}")]},
        ],
        "in_effect": True,
        "conditions": [
            {"kind": "student-studies-mobility-spec", "sending_hei_id": HEI, "receiving_hei_id": partner, **years,
             "mobilities_per_year": 2, "recommended_language_skills": [{"language": "en", "cefr_level": "B2"}],
             "subject_areas": [{"isced_f_code": "0613", "isced_clarification": "Software engineering"}],
             "total_months_per_year": "10", "blended": False, "eqf_levels": [6, 7]},
            {"kind": "student-traineeship-mobility-spec", "sending_hei_id": partner, "receiving_hei_id": HEI,
             **years, "mobilities_per_year": 1, "total_months_per_year": "3", "blended": True},
            {"kind": "staff-teacher-mobility-spec", "sending_hei_id": HEI, "receiving_hei_id": partner, **years,
             "mobilities_per_year": 1, "recommended_language_skills": [{"language": "fr", "cefr_level": "C1"}],
             "total_days_per_year": "5"},
            {"kind": "staff-training-mobility-spec", "sending_hei_id": partner, "receiving_hei_id": HEI, **years,
             "mobilities_per_year": 2, "subject_areas": [{"isced_f_code": "0410"}], "total_days_per_year": "5"},
        ],
    })


def _fill(sessions: sessionmaker[Session], count: int, partners: int) -> None:
    """``count`` IIAs spread evenly over ``partners`` partner HEIs."""
    with sessions.begin() as session:
        templates = [service.create(session, HEI, _record(_partner(p)), NOW) for p in range(partners)]
        columns = [{c.key: getattr(row, c.key) for c in IiaRow.__table__.columns if c.key != "id"} for row in templates]
    batch: list[dict[str, Any]] = []
    for n in range(count - partners):
        template = columns[n % partners]
        iia_id = f"iia-{n:07d}"
        batch.append({**template, "iia_id": iia_id, "element": template["element"].replace(template["iia_id"], iia_id)})
        if len(batch) == 5000:
            _insert(sessions, batch)
    _insert(sessions, batch)


def _insert(sessions: sessionmaker[Session], batch: list[dict[str, Any]]) -> None:
    if batch:
        with sessions.begin() as session:
            session.execute(insert(IiaRow), batch)
        batch.clear()


def _compare(handler: Callable[[], object], bare: Callable[[], object], repeat: int) -> dict[str, float]:
    handler(), bare()
    handler_ms, bare_ms = _time(handler, repeat), _time(bare, repeat)
    return {"request_ms": round(handler_ms, 2), "bare_sql_ms": round(bare_ms, 2),
            "ratio": round(handler_ms / bare_ms, 2)}


def measure_store(url: str, *, count: int, partners: int, repeat: int) -> dict[str, Any]:
    """Index and get through the handlers vs the bare SQL, on the database at ``url``."""
    engine = make_engine(url)
    upgrade_database(engine)
    sessions = session_factory(engine)
    started = time.perf_counter()
    _fill(sessions, count, partners)
    fill_seconds = time.perf_counter() - started
    settings = Settings(home=Path(tempfile.gettempdir()), base_url="https://bench.example.eu",
                        heis=(HeiConfig(id=HEI, names={"en": "Bench"}),), database_url=url)

    caller_hei = _partner(0)
    make = request_maker(settings, sessions, caller_hei, api_name="iias")
    with sessions() as session:
        visible = repo.visible_ids(session, HEI, {caller_hei})
    max_ids = iias.API.limit(settings, "max-iia-ids")
    ids = visible[:: max(1, len(visible) // max_ids)][:max_ids]

    def request(view: Callable[[EwpRequest], Any], pairs: list[tuple[str, str]]) -> Callable[[], bytes]:
        return lambda: serialize(view(make(pairs)))

    def bare_index() -> None:
        with sessions() as session:
            session.execute(select(IiaRow.iia_id).where(
                IiaRow.hei_id == HEI, IiaRow.partner_hei_id.in_([caller_hei]), IiaRow.deleted_at.is_(None))
                .order_by(IiaRow.iia_id)).all()

    def bare_get() -> None:
        with sessions() as session:
            session.execute(select(IiaRow.iia_id, IiaRow.element).where(
                IiaRow.hei_id == HEI, IiaRow.partner_hei_id.in_([caller_hei]), IiaRow.deleted_at.is_(None),
                IiaRow.iia_id.in_(ids))).all()

    index_view = request(iias.index, [])
    get_view = request(iias.get, [("iia_id", i) for i in ids])
    result = {
        "database": engine.dialect.name, "fill_seconds": round(fill_seconds, 1),
        "index": {"ids": len(visible), **_compare(index_view, bare_index, repeat)},
        "get_max_ids": {"ids": len(ids), "response_bytes": len(get_view()), **_compare(get_view, bare_get, repeat)},
    }
    engine.dispose()
    return result


def _reachable(url: str) -> bool:
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def measure_hash(repeat: int = 2000) -> tuple[float, float]:
    """Microseconds to hash one four-condition IIA as the builder writes it: wall clock and CPU of this process
    (the CPU figure holds on a busy machine)."""
    element = build_iia(_record(_partner(0)), None)
    hash_iia(element)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        hash_iia(element)
    return (time.perf_counter() - wall) / repeat * 1e6, (time.process_time() - cpu) / repeat * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iias", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=10, help="partner HEIs the IIAs are spread over")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--cnrs", type=int, default=2000, help="IIA CNRs the outbox delivers")
    args = parser.parse_args()
    hash_us, hash_cpu_us = measure_hash()
    out: dict[str, Any] = {"iias": args.iias, "partners": args.partners, "hash_us": round(hash_us, 1),
                           "hash_cpu_us": round(hash_cpu_us, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = measure_store(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", count=args.iias, partners=args.partners,
                               repeat=args.repeat)
    out |= {"ratio_index_sqlite": sqlite["index"]["ratio"], "ratio_get_sqlite": sqlite["get_max_ids"]["ratio"]}
    stores = {"sqlite": sqlite}
    if not args.no_postgres and _reachable(args.postgres):
        with _database(args.postgres) as url:  # a schema of its own, dropped afterwards
            pg = measure_store(url, count=args.iias, partners=args.partners, repeat=args.repeat)
        out |= {"ratio_index_postgresql": pg["index"]["ratio"], "ratio_get_postgresql": pg["get_max_ids"]["ratio"]}
        stores["postgresql"] = pg
    with tempfile.TemporaryDirectory(prefix="ewp-bench-iia-outbox-") as tmp:
        outbox = run_outbox(args.cnrs, 4, None, Path(tmp))
    out["outbox_cnr_per_s"] = outbox["outbox_cnr_per_s"]
    json.dump({**out, **stores, "outbox": outbox}, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
