"""What an anonymous flood costs the node: unauthenticated Echo requests with and without ``Accept-Signature``.
Prints one JSON object.

Each unauthenticated request is answered 401. When it asks for a signed response, the node signs at most
``UNVERIFIED_SIGNATURES_PER_SECOND`` such answers per worker and sends the rest unsigned, so asking should
cost next to nothing: ``ratio`` = req/s asking / req/s not asking, target >= 0.9 (it was ~0.54 when every
401 was signed); ``cpu_ratio`` = server CPU per request not asking / asking, the same target, steadier when
other processes share the machine. The node runs on ``ewp-node serve`` as in ``bench/echo.py`` (whose helpers
this reuses); the load is ``wrk`` with fixed headers. ``signed_in_sample``: of ``--sample`` requests sent right
after the flood, how many came back signed (the bucket refills at the rate above).

    .venv/bin/python bench/unverified.py [--duration 5] [--connections 16]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from echo import (  # noqa: E402
    Partner,
    ServerProcess,
    catalogue_for,
    catalogue_server,
    free_port,
    make_node_home,
    node_server,
)

from ewp_node.security.middleware import UNVERIFIED_SIGNATURES_PER_SECOND  # noqa: E402
from ewp_node.server import default_workers  # noqa: E402

TARGET_RATIO = 0.9


def wrk_load(server: ServerProcess, url: str, headers: dict[str, str], duration: int,
             connections: int) -> tuple[float, float]:
    """req/s, and the server's CPU microseconds per request (steadier on a busy machine)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", url]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    cpu_before = sum(server.cpu_seconds().values())
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=True)
    cpu = sum(server.cpu_seconds().values()) - cpu_before
    rate = re.search(r"Requests/sec:\s+([0-9.]+)", done.stdout)
    total = re.search(r"([0-9]+) requests in", done.stdout)
    if rate is None or total is None:
        raise RuntimeError(f"wrk printed no rate: {done.stdout[-500:]}")
    return float(rate.group(1)), cpu / int(total.group(1)) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--sample", type=int, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if shutil.which("wrk") is None:
        print(json.dumps({"bench": "unverified", "skipped": "wrk is not installed"}))
        return 0
    workers = default_workers()
    partner = Partner(*(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)))
    with tempfile.TemporaryDirectory(prefix="ewp-bench-unverified-") as tmp:
        work = Path(tmp)
        port, catalogue_port = free_port(), free_port()
        holder: dict[str, bytes] = {}
        with catalogue_server(catalogue_port, holder) as catalogue_url:
            settings = make_node_home(work / "home", port, catalogue_url)
            holder["body"] = catalogue_for(settings, partner)
            url = f"http://127.0.0.1:{port}/ewp/echo"
            anonymous = {"X-Request-Id": str(uuid.uuid4())}
            with node_server(settings, port, workers, work / "node.log") as server:
                plain, plain_cpu = wrk_load(server, url, anonymous, args.duration, args.connections)
                asking, asking_cpu = wrk_load(server, url, {**anonymous, "Accept-Signature": "rsa-sha256"},
                                              args.duration, args.connections)
                sample = [requests.get(url, headers={"Accept-Signature": "rsa-sha256"}, timeout=10)
                          for _ in range(args.sample)]
    statuses = sorted({r.status_code for r in sample})
    print(json.dumps({
        "bench": "unverified", "workers": workers, "connections": args.connections, "duration_s": args.duration,
        "req_per_s_without_accept_signature": round(plain), "req_per_s_with_accept_signature": round(asking),
        "ratio": round(asking / plain, 3) if plain else None, "target_ratio": TARGET_RATIO,
        "server_cpu_us_per_req_without": round(plain_cpu), "server_cpu_us_per_req_with": round(asking_cpu),
        "cpu_ratio": round(plain_cpu / asking_cpu, 3) if asking_cpu else None,
        "signatures_per_second_per_worker": UNVERIFIED_SIGNATURES_PER_SECOND,
        "sample_statuses": statuses, "signed_in_sample": sum("Signature" in r.headers for r in sample),
        "sample": len(sample),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
