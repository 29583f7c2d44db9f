"""Outbox delivery throughput to a local loopback partner. Prints one JSON object.

What runs: a temporary node home (``ewp_node.home.create_home``: fresh keys, SQLite by default) whose registry is a
loopback partner's catalogue (``ewp_node.cnr.loopback.LoopbackPartner``, in a process of its own so it does not
share our interpreter's lock). ``--rows`` IIA CNRs (distinct ids) are enqueued, then ``--workers`` outbox worker
threads, each with its own signed client, drain the outbox: each row is one signed POST (RSA-2048 signature,
Digest), the partner's answer, and the row's outcome committed.

Reading the output:
  ``outbox_cnr_per_s``: rows delivered per second of wall time (target >= 200 on 2 cores); the key folded
  into bench/iia.py's output. On a busy machine (``load_average_1m`` well above ``cores``) it measures the
  neighbours: ``cpu_us_per_cnr`` (CPU of the worker process and the partner per delivered row) and
  ``cpu_bound_cnr_per_s`` (= cores / that CPU: the rate the two cores sustain when nothing else runs) hold.
  ``delivered`` must equal ``rows``; ``partner_received`` counts the requests the partner accepted (equal to
  ``rows``: nothing sent twice). ``sign_us``: one RSA-2048 signature here, for scale.

    .venv/bin/python bench/outbox.py [--rows 2000] [--workers 4] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ewp_node.cnr.loopback import LoopbackPartner
from ewp_node.cnr.outbox import OutboxRow, OutboxState, enqueue
from ewp_node.cnr.worker import build_worker
from ewp_node.config import load_settings
from ewp_node.context import build_context
from ewp_node.home import HomeSpec, create_home

OURS, PARTNER = "uni-a.example.eu", "partner.example.eu"


def _serve_partner(catalogue_url: Any, accepted: Any, cpu_s: Any, go: Any, stop: Any) -> None:
    """The partner's process: serve until ``stop`` is set, then report how many CNRs it accepted and the CPU
    it used from ``go`` on."""
    with LoopbackPartner(PARTNER) as partner:
        catalogue_url.value = partner.catalogue_url.encode()
        go.wait()
        started = time.process_time()
        stop.wait()
        cpu_s.value = time.process_time() - started
        accepted.value = len(partner.ids("iia-cnr", "iia_id"))


def _sign_us() -> float:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    started, rounds = time.perf_counter(), 200
    for _ in range(rounds):
        key.sign(b"x" * 200, padding.PKCS1v15(), hashes.SHA256())
    return (time.perf_counter() - started) / rounds * 1e6


def run(rows: int, workers: int, database_url: str | None, directory: Path) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    catalogue_url, accepted, partner_cpu = context.Array("c", 200), context.Value("i", -1), context.Value("d", 0.0)
    go, stop = context.Event(), context.Event()
    partner = context.Process(target=_serve_partner, args=(catalogue_url, accepted, partner_cpu, go, stop),
                              daemon=True)
    partner.start()
    while not catalogue_url.value:
        time.sleep(0.05)
    os.environ["EWP_NODE_ALLOW_HTTP"] = "1"  # loopback only
    home = directory / "home"
    create_home(home, HomeSpec(hei_id=OURS, hei_name="Bench University", base_url="http://127.0.0.1:9",
                               registry_url=catalogue_url.value.decode(), database_url=database_url))
    ctx = build_context(load_settings(home))
    try:
        ctx.registry.index  # noqa: B018 - fetch the catalogue before the clock starts
        with ctx.sessions.begin() as session:
            enqueue(session, "iia-cnr", owner_hei=OURS, partner_hei=PARTNER,
                    object_ids=[f"iia-{i}" for i in range(rows)])
        pool = [build_worker(ctx, timeout=10) for _ in range(workers)]
        go.set()
        started, cpu_started = time.perf_counter(), time.process_time()
        threads = [threading.Thread(target=worker.drain) for worker in pool]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, worker_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        with ctx.sessions() as session:
            delivered = session.scalar(select(func.count()).select_from(OutboxRow)
                                       .where(OutboxRow.state == OutboxState.DELIVERED))
    finally:
        ctx.audit.close()
        stop.set()
        partner.join(timeout=10)
    cpu_us = (worker_cpu + partner_cpu.value) / rows * 1e6
    cores = os.cpu_count() or 1
    return {
        "outbox_cnr_per_s": round(rows / elapsed, 1),
        "cpu_us_per_cnr": round(cpu_us, 1),
        "worker_cpu_us_per_cnr": round(worker_cpu / rows * 1e6, 1),
        "cpu_bound_cnr_per_s": round(cores * 1e6 / cpu_us, 1),
        "load_average_1m": os.getloadavg()[0],
        "rows": rows,
        "delivered": delivered,
        "partner_received": accepted.value,
        "workers": workers,
        "seconds": round(elapsed, 2),
        "database": ctx.settings.database_url.split(":", 1)[0],
        "cores": cores,
        "sign_us": round(_sign_us(), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="worker threads, each with its own client")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ewp-bench-outbox-") as directory:
        print(json.dumps(run(args.rows, args.workers, args.database_url, Path(directory))))


if __name__ == "__main__":
    main()
