"""Benchmark: the Indicators page's new read models over a large store.

Fills a store with ``--exchanges`` audit rows spread over a year and 50 partners (5 % failed), ``--mobilities``
mobilities (both directions, 10 faculties, 40 partners), a transcript issued for every incoming one and one or
two fetches received for every outgoing one; then prints one JSON object with the median time (ms) of each read
model: mobilities per faculty and per country, transcripts per year and partner, exchanges per partner per day
(30 days) and per week (365 days). Every count is done by the database: the times grow with the rows scanned,
not with Python loops. The tables are analyzed before timing: on PostgreSQL, freshly bulk-filled tables without
statistics until autovacuum runs can get nested-loop plans seconds slower.
Usage: ``python bench/indicators.py [--exchanges N] [--mobilities N] [--database-url URL]``; on PostgreSQL it
works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from catalogue import _database, _time  # the same timing and PostgreSQL schema as the catalogue bench
from sqlalchemy import insert, text

from ewp_node.mobilities.models import MobilityRow
from ewp_node.office.exchanges import partner_periods
from ewp_node.office.indicators import per_country, per_faculty, transcript_counts
from ewp_node.publish.models import OUnit
from ewp_node.store.audit import Direction, Exchange, record_exchanges
from ewp_node.store.db import make_engine, session_factory, upgrade_database
from ewp_node.tors.models import IssuedTranscriptRow, ReceivedTranscriptRow

HEI = "bench.example.eu"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BATCH = 10_000


def _partner(n: int) -> str:
    return f"partner-{n % 40:02d}.example.eu"


def _mobility(n: int) -> dict[str, object]:
    outgoing = n % 2 == 0
    sending, receiving = (HEI, _partner(n)) if outgoing else (_partner(n), HEI)
    ounit = f"fac-{n % 11}" if n % 11 < 10 else None  # one in eleven without a unit
    return {"direction": "outgoing" if outgoing else "incoming", "omobility_id": f"m-{n:07d}",
            "sending_hei_id": sending, "receiving_hei_id": receiving,
            "sending_ounit_id": ounit if outgoing else None, "receiving_ounit_id": None if outgoing else ounit,
            "student_given_names": "Ada", "student_family_name": f"Student {n}",
            "student_global_id": f"urn:schac:personalUniqueCode:int:esi:{sending}:{n}",
            "student_birth_date": date(2004, 1, 1), "student_citizenship": "FR", "student_gender": 2,
            "student_email": f"s{n}@example.eu", "receiving_academic_year_id": f"{2022 + n % 5}/{2023 + n % 5}",
            "activity_type": "student-studies", "activity_attributes": "long-term", "eqf_level": 6,
            "isced_code": "0613", "language_skills": [], "nomination_status": "approved",
            "nomination_proposal_id": f"p-{n}", "modified_at": NOW}


def _fill(sessions, exchanges: int, mobilities: int) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, exchanges, BATCH):
        with sessions.begin() as session:
            record_exchanges(session, [
                Exchange(NOW - timedelta(minutes=n * 525_600 // exchanges), Direction.IN if n % 3 else Direction.OUT,
                         "omobilities", "POST", 500 if n % 20 == 0 else 200, 5, f"partner-{n % 50:02d}.example.eu")
                for n in range(start, min(start + BATCH, exchanges))])
    for start in range(0, mobilities, BATCH):
        numbers = range(start, min(start + BATCH, mobilities))
        with sessions.begin() as session:
            session.execute(insert(MobilityRow), [_mobility(n) for n in numbers])
            session.execute(insert(IssuedTranscriptRow), [
                {"receiving_hei_id": HEI, "sending_hei_id": _partner(n), "omobility_id": f"m-{n:07d}",
                 "receiving_academic_year_id": f"{2022 + n % 5}/{2023 + n % 5}", "elmo": b"", "conversion_table": b"",
                 "elmo_v1": b"", "conversion_table_v1": b"", "issued_at": NOW, "modified_at": NOW}
                for n in numbers if n % 2])
            session.execute(insert(ReceivedTranscriptRow), [
                {"sending_hei_id": HEI, "receiving_hei_id": _partner(n), "omobility_id": f"m-{n:07d}",
                 "state": state, "reason": None, "elmo": b"", "recognition": None, "received_at": NOW}
                for n in numbers if n % 2 == 0 for state in (("rejected", "accepted") if n % 4 else ("accepted",))])
    with sessions.begin() as session:
        session.execute(insert(OUnit), [{"hei_id": HEI, "ounit_id": f"fac-{n}", "ounit_code": f"F{n}",
                                         "parent_ounit_id": None, "data": {"names": [{"text": f"Faculty {n}"}]},
                                         "modified_at": NOW} for n in range(10)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--exchanges", type=int, default=200_000)
    parser.add_argument("--mobilities", type=int, default=20_000)
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, \
            _database(args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}") as url:
        engine = make_engine(url)
        upgrade_database(engine)
        sessions = session_factory(engine)
        _fill(sessions, args.exchanges, args.mobilities)
        with engine.begin() as connection:  # planner statistics, as a live store has them (autovacuum)
            connection.execute(text("ANALYZE"))
        heis = {HEI}

        def timed(read):  # type: ignore[no-untyped-def]
            def run() -> object:
                with sessions() as session:
                    return read(session)
            return round(_time(run, args.repeat), 1)

        results = {
            "database": engine.dialect.name, "exchanges": args.exchanges, "mobilities": args.mobilities,
            "per_faculty_ms": timed(lambda s: per_faculty(s, heis)),
            "per_country_ms": timed(lambda s: per_country(s, heis, lambda hei: None)),
            "transcripts_ms": timed(lambda s: transcript_counts(s, heis)),
            "exchanges_30_days_daily_ms": timed(lambda s: partner_periods(s, NOW - timedelta(days=30), NOW)),
            "exchanges_365_days_weekly_ms": timed(
                lambda s: partner_periods(s, NOW - timedelta(days=365), NOW, weekly=True)),
        }
        engine.dispose()
    json.dump(results, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
