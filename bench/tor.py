"""Benchmark: transcripts of records.

Prints one JSON object: ``build_sign_ms`` (a 40-course ELMO 2.1.1 built from the SIS records, its PDF in two
languages attached, and signed with the server key, its certificate included; ``build_sign_both_majors_ms``: also
signed as ELMO 1.7 for ToRs v2, what an import does) and ``verify_convert_ms`` (the signature verified against the
partner's key, the document validated and read, every result converted and matched against the LA), medians
of ``--repeat`` runs; then, per database, IMobility ToRs ``get`` with max ids (parameters parsed, store read,
each signed ELMO parsed into the response, serialised: everything but the HTTP signature layer) against the
bare SQL query reading the same rows, and their ratio (``ratio...``, target <= 3).
Usage: ``python bench/tor.py [--transcripts N] [--repeat N] [--postgres-url URL | --no-postgres]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from _handler_request import request_maker
from catalogue import _database, _time
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

from ewp_node.config import HeiConfig, Settings
from ewp_node.context import KeyPair
from ewp_node.grades import ConversionPolicy, GradeDistribution, GradingScale, PolicyEntry
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.records import Direction
from ewp_node.security.keys import fingerprint
from ewp_node.store.db import make_engine, session_factory, upgrade_database
from ewp_node.tors.build import build_conversion_table, build_tors_get, parse_tors_get
from ewp_node.tors.issue import ELMO_V1_VERSION, ELMO_VERSION, isced_tables, sign_transcript, transcript_elmo
from ewp_node.tors.models import IssuedTranscriptRow
from ewp_node.tors.receive import recognize, verified_elmo
from ewp_node.tors.records import CourseResult, GradeShare, IssuedTranscript, Term, TranscriptInput
from ewp_node.xml.parse import parse_xml
from handlers import imobility_tors

HEI, PARTNER = "bench-receiving.example.eu", "bench-sending.example.eu"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
COURSES = 40
HOST = GradingScale("HOST", ("A", "B", "C", "D", "E"), ("F",))
HOME = GradeDistribution(GradingScale("HOME", ("5", "4.5", "4", "3.5", "3"), ("2",)), (90, 150, 220, 180, 160))
COHORT = (GradeShare("A", 12), GradeShare("B", 30), GradeShare("C", 41), GradeShare("D", 25), GradeShare("E", 9),
          GradeShare("F", 7))


def _transcript(omobility_id: str) -> TranscriptInput:
    term = Term("Winter semester 2026/2027", date(2026, 9, 1), date(2027, 1, 31))
    courses = tuple(CourseResult(code=f"C{n:03d}", title=f"Course number {n}", isced_code=f"04{n % 4}1",
                                 ects=Decimal(6), result="ABCDE"[n % 5], passed=True, distribution=COHORT, term=term,
                                 date=date(2027, 1, 20), los_id=f"CR/{n:03d}", language="en") for n in range(COURSES))
    return TranscriptInput(PARTNER, omobility_id, (("HOST", "A best, E lowest pass, F fail"),), courses)


def _sign_and_verify(repeat: int) -> tuple[dict[str, Any], IssuedTranscript]:
    mobility = replace(next(m for m, _ in demo_mobilities(PARTNER, HEI) if m.direction is Direction.OUTGOING),
                       omobility_id="m-000000")
    transcript = _transcript(mobility.omobility_id)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server_key = KeyPair(key, fingerprint(key.public_key()))
    hei = HeiConfig(id=HEI, names={"en": "Bench University"})
    now = datetime.now(UTC)

    def build_sign() -> bytes:
        [signed] = sign_transcript(transcript_elmo(transcript, mobility, hei, "https://bench.example.eu", now),
                                   server_key, HEI, now)
        return signed

    def build_sign_both_majors() -> list[bytes]:  # what an import does: ELMO 2.1.1 (ToRs v3) and 1.7 (v2)
        return sign_transcript(transcript_elmo(transcript, mobility, hei, "https://bench.example.eu", now),
                               server_key, HEI, now, (ELMO_VERSION, ELMO_V1_VERSION))

    signed = build_sign()
    issued = IssuedTranscript(HEI, PARTNER, mobility.omobility_id, mobility.receiving_academic_year_id, signed,
                              build_conversion_table(isced_tables(transcript)), now, now)
    [fetched] = parse_tors_get(parse_xml(build_tors_get([issued])))
    policy = ConversionPolicy([PolicyEntry("", HOST, HOME)])

    def verify_convert() -> None:
        elmo = verified_elmo(fetched, [key.public_key()], mobility, HEI)
        recognition = recognize(elmo, fetched, policy, HEI, mobility)
        assert len(recognition.results) == COURSES and all(r.home_grade for r in recognition.results)

    verify_convert()
    return {"courses": COURSES, "elmo_bytes": len(signed), "build_sign_ms": round(_time(build_sign, repeat), 2),
            "build_sign_both_majors_ms": round(_time(build_sign_both_majors, repeat), 2),
            "verify_convert_ms": round(_time(verify_convert, repeat), 2)}, issued


def _bench_get(url: str, issued: IssuedTranscript, count: int, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade_database(engine)
    sessions = session_factory(engine)
    rows = [{"receiving_hei_id": HEI, "sending_hei_id": PARTNER, "omobility_id": f"m-{n:06d}",
             "receiving_academic_year_id": issued.receiving_academic_year_id, "elmo": issued.elmo,
             "conversion_table": issued.conversion_table, "elmo_v1": b"", "conversion_table_v1": b"",
             "issued_at": issued.issued_at, "modified_at": issued.modified_at}
            for n in range(count)]
    with sessions.begin() as session:
        session.execute(insert(IssuedTranscriptRow), rows)

    settings = Settings(home=Path("."), base_url="https://bench.example.eu",
                        heis=(HeiConfig(id=HEI, names={"en": "Bench"}),), database_url=url)
    make = request_maker(settings, sessions, PARTNER)
    max_ids = imobility_tors.API.limit(settings, "max-omobility-ids")
    ids = [f"m-{n:06d}" for n in range(0, count, max(1, count // max_ids))][:max_ids]
    pairs = [("receiving_hei_id", HEI), *(("omobility_id", i) for i in ids)]

    def get() -> bytes:
        return imobility_tors.get(make(pairs)).content

    def bare_get() -> None:
        with sessions() as session:
            session.execute(select(*IssuedTranscriptRow.__table__.columns).where(
                IssuedTranscriptRow.receiving_hei_id == HEI, IssuedTranscriptRow.sending_hei_id == PARTNER,
                IssuedTranscriptRow.omobility_id.in_(ids))).all()

    get()
    bare_get()
    handler_ms, bare_ms = _time(get, repeat), _time(bare_get, repeat)
    engine.dispose()
    return {"tor_get_max_ids": {"ids": len(ids), "request_ms": round(handler_ms, 2), "bare_sql_ms": round(bare_ms, 2),
                                "ratio": round(handler_ms / bare_ms, 2), "response_bytes": len(get())}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transcripts", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    result, issued = _sign_and_verify(args.repeat)
    result["transcripts"] = args.transcripts
    with tempfile.TemporaryDirectory() as folder:
        result["sqlite"] = _bench_get(f"sqlite:///{folder}/bench.db", issued, args.transcripts, args.repeat)
    if not args.no_postgres:
        try:
            with _database(args.postgres_url) as url:
                result["postgresql"] = _bench_get(url, issued, args.transcripts, args.repeat)
        except OperationalError as exc:
            result["postgresql"] = {"skipped": str(exc).splitlines()[0]}
    result["ratio_tor_get_max_ids"] = max(db["tor_get_max_ids"]["ratio"] for db in (result["sqlite"],
                                          result.get("postgresql", {})) if "tor_get_max_ids" in db)
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
