"""Benchmark: OMobility LAs ``get`` with max ids and ``index`` over 50,000 learning agreements, on SQLite and on
PostgreSQL, and an LA approve round trip between two local nodes.

Prints one JSON object: for ``get`` and ``index``, the time per request (parameters parsed, store read, XML
built and serialised: everything but the HTTP signature layer) against the bare SQL queries reading the same
rows (sampled in turn with the request), and their ratio (``ratio...``, target <= 3; for ``get`` also against
the same queries reading the JSON columns as text, undecoded, as the handler does: ``ratio_json_as_text``),
per database; then ``approve_round_trip_ms``: the receiving node approving the sending node's proposal
through its signed LA ``update`` endpoint (two sandbox nodes over HTTPS on loopback, our copy updated
afterwards), the median of ``--approvals`` rounds.
Usage: ``python bench/mobility.py [--mobilities N] [--postgres-url URL | --no-postgres] [--approvals N]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _handler_request import request_maker
from catalogue import _database, _time_in_turn
from sqlalchemy import JSON, Text, cast, exists, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.config import HeiConfig, Settings
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.models import LaComponentRow, LaVersionRow, MobilityRow
from ewp_node.mobilities.records import Direction, ProposalState, Signature
from ewp_node.responses import serialize
from ewp_node.store.db import make_engine, session_factory, upgrade_database
from handlers import omobility_las

HEI, PARTNER = "bench.example.eu", "partner.example.eu"
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BATCH = 5_000


def _fill(sessions: sessionmaker[Session], count: int) -> None:
    """``count`` outgoing mobilities to PARTNER, each with a pending three-component LA proposal (bulk insert)."""
    template, (version,) = next((m, v) for m, v in demo_mobilities(HEI, PARTNER) if m.direction is Direction.OUTGOING)
    version_columns = {c: getattr(repo.version_row(1, version), c) for c in
                       ("seq", "state", "student_signature", "sending_signature", "receiving_signature", "comment")}
    components = [{c.key: getattr(repo.component_row(i, component), c.key) for c in LaComponentRow.__table__.columns
                   if c.key not in ("id", "version_pk")} for i, component in enumerate(version.components)]
    now = datetime.now(UTC)
    for start in range(0, count, BATCH):
        numbers = range(start, min(count, start + BATCH))
        mobilities = [{**repo.mobility_columns(replace(template, omobility_id=f"m-{n:06d}")), "id": n + 1,
                       "modified_at": now} for n in numbers]
        versions = [{**version_columns, "id": n + 1, "mobility_pk": n + 1, "proposal_id": f"p-{n:06d}"}
                    for n in numbers]
        parts = [{**c, "id": n * len(components) + i + 1, "version_pk": n + 1} for n in numbers
                 for i, c in enumerate(components)]
        with sessions.begin() as session:
            session.execute(insert(MobilityRow), mobilities)
            session.execute(insert(LaVersionRow), versions)
            session.execute(insert(LaComponentRow), parts)


def _bench_database(url: str, count: int, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade_database(engine)
    sessions = session_factory(engine)
    started = time.perf_counter()
    _fill(sessions, count)
    fill_seconds = time.perf_counter() - started

    settings = Settings(home=Path("."), base_url="https://bench.example.eu",
                        heis=(HeiConfig(id=HEI, names={"en": "Bench"}),), database_url=url)
    make = request_maker(settings, sessions, PARTNER)
    max_ids = omobility_las.API.limit(settings, "max-omobility-ids")
    ids = [f"m-{n:06d}" for n in range(0, count, max(1, count // max_ids))][:max_ids]

    def request(view, pairs):  # type: ignore[no-untyped-def]
        return lambda: serialize(view(make(pairs)))

    def bare_get(as_text: bool) -> Callable[[], None]:
        def columns(table: Any) -> list[Any]:
            return [cast(c, Text) if as_text and isinstance(c.type, JSON) else c for c in table.columns]

        def run() -> None:
            with sessions() as session:
                rows = session.execute(select(*columns(MobilityRow.__table__)).where(
                    MobilityRow.direction == "outgoing", MobilityRow.sending_hei_id == HEI,
                    MobilityRow.receiving_hei_id == PARTNER, MobilityRow.omobility_id.in_(ids))).all()
                versions = session.execute(select(*columns(LaVersionRow.__table__)).where(
                    LaVersionRow.mobility_pk.in_([r.id for r in rows]))).all()
                session.execute(select(*columns(LaComponentRow.__table__)).where(
                    LaComponentRow.version_pk.in_([v.id for v in versions]))).all()
        return run

    def bare_index() -> None:
        with sessions() as session:
            session.execute(select(MobilityRow.omobility_id).where(
                MobilityRow.direction == "outgoing", MobilityRow.sending_hei_id == HEI,
                MobilityRow.receiving_hei_id == PARTNER,
                exists().where(LaVersionRow.mobility_pk == MobilityRow.id)).order_by(MobilityRow.id)).all()

    results: dict[str, Any] = {"fill_seconds": round(fill_seconds, 1)}
    for name, view, pairs, bares, runs in [
        ("la_get_max_ids", omobility_las.get, [("sending_hei_id", HEI)] + [("omobility_id", i) for i in ids],
         {"": bare_get(False), "_json_as_text": bare_get(True)}, repeat),
        ("la_index_all", omobility_las.index, [("sending_hei_id", HEI)], {"": bare_index}, max(3, repeat // 5)),
    ]:
        run = request(view, pairs)
        for warm in (run, *bares.values()):
            warm()
        times = _time_in_turn({"": run, **{f"bare{suffix}": bare for suffix, bare in bares.items()}}, runs)
        handler_ms = times[""]
        results[name] = {"request_ms": round(handler_ms, 2), "response_bytes": len(run())}
        for suffix in bares:
            bare_ms = times[f"bare{suffix}"]
            results[name] |= {f"bare_sql{suffix}_ms": round(bare_ms, 2),
                              f"ratio{suffix}": round(handler_ms / bare_ms, 2)}
    results["la_get_max_ids"]["ids"] = len(ids)
    engine.dispose()
    return results


def _approve_round_trip(approvals: int) -> dict[str, Any]:
    """Two sandbox nodes: node 1 sends, node 2 fetches and approves ``approvals`` proposals one by one."""
    from ewp_node.client import EwpClient
    from ewp_node.config import load_settings
    from ewp_node.context import build_context
    from ewp_node.mobilities import service
    from ewp_node.mobilities.demo import load_demo_mobilities
    from ewp_node.mobilities.partner import answer_proposal, fetch_las
    from ewp_node.sandbox import Sandbox

    with Sandbox(nodes=2) as sandbox:
        sender, receiver = sandbox.nodes
        ours, theirs = build_context(load_settings(sender.home)), build_context(load_settings(receiver.home))
        load_demo_mobilities(ours.sessions, sender.hei_id, receiver.hei_id)
        mobility, (proposal,) = next((m, v) for m, v in demo_mobilities(sender.hei_id, receiver.hei_id)
                                     if v and v[0].state is ProposalState.PENDING)
        client = EwpClient(theirs)
        signer = Signature(datetime.now(UTC), "Bench Receiver", "Coordinator", f"erasmus@{receiver.hei_id}")
        samples = []
        for _ in range(approvals):
            service.propose_changes(ours.sessions, sender.hei_id, mobility.omobility_id, proposal.components,
                                    proposal.student_signature, proposal.sending_signature)
            fetch_las(client, theirs.sessions, sender.hei_id, {receiver.hei_id}, [mobility.omobility_id])
            started = time.perf_counter()
            answer_proposal(client, theirs.sessions, sender.hei_id, {receiver.hei_id}, mobility.omobility_id, signer)
            samples.append((time.perf_counter() - started) * 1000)
        for ctx in (ours, theirs):
            ctx.audit.close()
    return {"approve_round_trip_ms": round(statistics.median(samples), 1), "approvals": approvals}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mobilities", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--approvals", type=int, default=10)
    args = parser.parse_args()
    output: dict[str, Any] = {"mobilities": args.mobilities}
    with tempfile.TemporaryDirectory() as tmp:
        output["sqlite"] = _bench_database(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", args.mobilities, args.repeat)
    if not args.no_postgres:
        try:
            with _database(args.postgres_url) as url:
                output["postgresql"] = _bench_database(url, args.mobilities, args.repeat)
        except OperationalError as exc:
            output["postgresql"] = {"skipped": f"not reachable: {type(exc.orig).__name__}"}
    if args.approvals > 0:
        output |= _approve_round_trip(args.approvals)
    json.dump(output, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
