"""Catalogue indexing at Dashboard scale: parse vs index time, lookup cost, peak memory. Prints one JSON object.

The synthetic catalogue has ``--heis`` HEIs: ``--provider-heis`` of them served by one provider (by default
one ``<host>`` per HEI with per-HEI URLs and the same keys everywhere; ``--single-host`` puts them all in one
``<host>``), the rest spread over ``--hosts`` ordinary hosts of ~13 API entries each.

    .venv/bin/python bench/registry.py [--single-host]
"""

from __future__ import annotations

import argparse
import base64
import gc
import hashlib
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.xml import ns

GH = ns.GH
#: prefix -> (namespace, entry local name, version, children template); {u} = base URL of the host.
APIS = {
    "d6": (ns.DISCOVERY_ENTRY, "discovery", "6.0.0", "<d6:url>{u}/manifest.xml</d6:url>"),
    "e2": (ns.ECHO_ENTRY, "echo", "2.0.1", "<e2:url>{u}/echo</e2:url>"),
    "in2": (ns.INSTITUTIONS_ENTRY, "institutions", "2.2.0",
            "<in2:url>{u}/institutions</in2:url><in2:max-hei-ids>1</in2:max-hei-ids>"),
    "ou2": (ns.OUNITS_ENTRY, "organizational-units", "2.1.1",
            ("<ou2:url>{u}/ounits</ou2:url><ou2:max-ounit-ids>100</ou2:max-ounit-ids>"
            "<ou2:max-ounit-codes>100</ou2:max-ounit-codes>")),
    "fs1": (ns.FACTSHEET_ENTRY, "factsheet", "1.2.0",
            "<fs1:url>{u}/factsheet</fs1:url><fs1:max-hei-ids>1</fs1:max-hei-ids>"),
    "fi1": (ns.FILE_ENTRY, "file", "1.0.0",
            "<fi1:url>{u}/file</fi1:url>"),
    "ia7": (f"{GH}/ewp-specs-api-iias/blob/stable-v7/manifest-entry.xsd", "iias", "7.0.0",
            ("<ia7:get-url>{u}/iias/get</ia7:get-url><ia7:max-iia-ids>3</ia7:max-iia-ids>"
            "<ia7:index-url>{u}/iias/index</ia7:index-url><ia7:stats-url>{u}/iias/stats</ia7:stats-url>")),
    "iap2": (f"{GH}/ewp-specs-api-iias-approval/blob/stable-v2/manifest-entry.xsd", "iias-approval", "2.0.0",
             "<iap2:url>{u}/iias-approval</iap2:url><iap2:max-iia-ids>3</iap2:max-iia-ids>"),
    "iac3": (f"{GH}/ewp-specs-api-iia-cnr/blob/stable-v3/manifest-entry.xsd", "iia-cnr", "3.0.0",
             "<iac3:url>{u}/iia-cnr</iac3:url>"),
    "iaac2": (f"{GH}/ewp-specs-api-iia-approval-cnr/blob/stable-v2/manifest-entry.xsd", "iia-approval-cnr",
              "2.0.0", "<iaac2:url>{u}/iia-approval-cnr</iaac2:url>"),
    "om2": (f"{GH}/ewp-specs-api-omobilities/blob/stable-v2/manifest-entry.xsd", "omobilities", "2.0.0",
            ("<om2:get-url>{u}/omobilities/get</om2:get-url><om2:index-url>{u}/omobilities/index</om2:index-url>"
            "<om2:max-omobility-ids>100</om2:max-omobility-ids>")),
    "la1": (f"{GH}/ewp-specs-api-omobility-las/blob/stable-v1/manifest-entry.xsd", "omobility-las", "1.2.0",
            ("<la1:get-url>{u}/las/get</la1:get-url><la1:index-url>{u}/las/index</la1:index-url>"
            "<la1:update-url>{u}/las/update</la1:update-url><la1:stats-url>{u}/las/stats</la1:stats-url>"
            "<la1:max-omobility-ids>100</la1:max-omobility-ids>")),
    "lac1": (f"{GH}/ewp-specs-api-omobility-la-cnr/blob/stable-v1/manifest-entry.xsd", "omobility-la-cnr",
             "1.1.0", "<lac1:url>{u}/la-cnr</lac1:url>"),
}
SECURITY = (
    "<{p}:http-security><sec:client-auth-methods><cli:httpsig/></sec:client-auth-methods>"
    "<sec:server-auth-methods><srvt:tlscert/><srvh:httpsig/></sec:server-auth-methods>"
    "<sec:request-encryption-methods><req:tls/></sec:request-encryption-methods>"
    "<sec:response-encryption-methods><res:tls/></sec:response-encryption-methods></{p}:http-security>"
)
NSDECLS = {
    "": ns.REGISTRY, "ewp": ns.COMMON, "sec": ns.SEC, "cli": ns.CLIAUTH_HTTPSIG, "srvt": ns.SRVAUTH_TLSCERT,
    "srvh": ns.SRVAUTH_HTTPSIG, "req": ns.REQENCR_TLS, "res": ns.RESENCR_TLS,
    **{prefix: spec[0] for prefix, spec in APIS.items()},
}


def random_key_b64(rng: random.Random) -> str:
    """A syntactically valid 2048-bit RSA public key (random odd modulus: fine for indexing, fast to make)."""
    modulus = rng.getrandbits(2048) | (1 << 2047) | 1
    key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def host_xml(base_url: str, hei_ids: list[str], client: str, server: str) -> str:
    entries = "".join(
        f'<{p}:{name} version="{version}">{SECURITY.format(p=p) if p != "d6" else ""}'
        f"{children.format(u=base_url)}</{p}:{name}>"
        for p, (_, name, version, children) in APIS.items()
    )
    heis = "".join(f"<hei-id>{h}</hei-id>" for h in hei_ids)
    return (
        f"<host><ewp:admin-email>admin@{base_url[8:].split('/')[0]}</ewp:admin-email>"
        f"<ewp:admin-provider>Provider</ewp:admin-provider><apis-implemented>{entries}</apis-implemented>"
        f"<institutions-covered>{heis}</institutions-covered>"
        f'<client-credentials-in-use><rsa-public-key sha-256="{client}"/></client-credentials-in-use>'
        f'<server-credentials-in-use><rsa-public-key sha-256="{server}"/></server-credentials-in-use></host>'
    )


def build_catalogue(
    heis: int, hosts: int, provider_heis: int, single_host: bool, seed: int = 7
) -> tuple[bytes, list[str]]:
    """The catalogue bytes and the client key ids it lists."""
    rng = random.Random(seed)
    hei_ids = [f"hei{i:05d}.example.eu" for i in range(heis)]
    keys: dict[str, str] = {}

    def new_key() -> str:
        b64 = random_key_b64(rng)
        key_id = hashlib.sha256(base64.b64decode(b64)).hexdigest()
        keys[key_id] = b64
        return key_id

    parts = []
    provider, rest = hei_ids[:provider_heis], hei_ids[provider_heis:]
    client, server = new_key(), new_key()
    client_ids = [client]
    if single_host:
        parts.append(host_xml("https://dash.example.eu/ewp", provider, client, server))
    else:
        parts.extend(host_xml(f"https://dash.example.eu/ewp/{h}", [h], client, server) for h in provider)
    for index in range(hosts):
        client_ids.append(new_key())
        covered = rest[index::hosts]
        parts.append(host_xml(f"https://node{index}.example.org/ewp", covered, client_ids[-1], new_key()))
    parts.append("<institutions>")
    parts.extend(
        f'<hei id="{h}"><other-id type="erasmus">X  CITY{i:05d}</other-id><other-id type="pic">{9_000_000 + i}'
        f'</other-id><name xml:lang="en">University {i}</name><name xml:lang="xx">Universitas {i}</name></hei>'
        for i, h in enumerate(hei_ids)
    )
    parts.append("</institutions><binaries>")
    parts.extend(f'<rsa-public-key sha-256="{k}">{b64}</rsa-public-key>' for k, b64 in keys.items())
    parts.append("</binaries></catalogue>")
    decls = " ".join(f'xmlns{":" + p if p else ""}="{n}"' for p, n in NSDECLS.items())
    data = f"<?xml version='1.0' encoding='UTF-8'?>\n<catalogue {decls}>" + "".join(parts)
    return data.encode(), client_ids


def current_rss_mb() -> float:
    """Resident set size now (Linux /proc; 0 elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * resource.getpagesize() / 2**20


def median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call_us(action: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) / calls * 1e6


def index_memory(path: Path) -> dict[str, float]:
    """In this (fresh) process, as a node worker does: read the catalogue file, index it. RSS in MB."""
    data = path.read_bytes()
    gc.collect()
    rss_before = current_rss_mb()
    index = CatalogueIndex.from_bytes(data)
    gc.collect()
    index_rss_mb = current_rss_mb() - rss_before
    assert index.hei_ids()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"index_rss_mb": round(index_rss_mb, 1), "peak_rss_mb": round(peak_kb / 1024, 1)}


def memory_in_fresh_process(data: bytes) -> dict[str, float]:
    """:func:`index_memory` in a child process, so the benchmark's own catalogue building does not count."""
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        tmp.write(data)
        tmp.flush()
        out = subprocess.run([sys.executable, __file__, "--memory-of", tmp.name], check=True,
                             capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heis", type=int, default=5000)
    parser.add_argument("--hosts", type=int, default=300)
    parser.add_argument("--provider-heis", type=int, default=4000)
    parser.add_argument("--single-host", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--memory-of", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of:
        print(json.dumps(index_memory(args.memory_of)))
        return

    data, client_ids = build_catalogue(args.heis, args.hosts, args.provider_heis, args.single_host)
    memory = memory_in_fresh_process(data)
    index = CatalogueIndex.from_bytes(data)
    parse_s = median_seconds(lambda: etree.fromstring(data), args.runs)
    index_s = median_seconds(lambda: CatalogueIndex.from_bytes(data), args.runs)
    rng = random.Random(11)
    heis = sorted(index.hei_ids())
    apis = [spec[1] for spec in APIS.values()]
    pairs = [(rng.choice(heis), rng.choice(apis)) for _ in range(args.lookups)]
    distinct = list(dict.fromkeys(pairs))
    cold_us = per_call_us(lambda: [index.lookup(h, a) for h, a in distinct], len(distinct))
    misses = sum(index.lookup(h, a) is None for h, a in pairs)
    lookup_us = per_call_us(lambda: [index.lookup(h, a) for h, a in pairs], len(pairs))
    assert all(index.client_key(k) is not None for k in client_ids)
    key_calls = [rng.choice(client_ids) for _ in range(args.lookups)]
    key_lookup_us = per_call_us(lambda: [index.client_key(k) for k in key_calls], len(key_calls))
    heis_us = per_call_us(lambda: [index.heis_for_client_key(k) for k in key_calls], len(key_calls))

    print(json.dumps({
        "heis": len(heis),
        "hosts": args.hosts + (1 if args.single_host else args.provider_heis),
        "provider_shape": "single-host" if args.single_host else "host-per-hei",
        "catalogue_mb": round(len(data) / 2**20, 2),
        "parse_s": round(parse_s, 4),
        "index_s": round(index_s, 4),
        "index_to_parse_ratio": round(index_s / parse_s, 2),
        "lookup_us": round(lookup_us, 3),
        "lookup_cold_us": round(cold_us, 3),
        "lookup_misses": misses,
        "key_lookup_us": round(key_lookup_us, 3),
        "heis_for_key_us": round(heis_us, 3),
        "client_keys": len(client_ids),
        **memory,
    }))


if __name__ == "__main__":
    main()
