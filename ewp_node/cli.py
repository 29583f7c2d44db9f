"""The ``ewp-node`` command for operators: init, manifest, serve, registry, call, sandbox, demo, and the
commands of the feature packages (import/export/replicate, elmo, grades)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from ewp_node.config import ConfigError, load_settings

log = logging.getLogger("ewp_node")


def cmd_init(args: argparse.Namespace) -> int:
    from ewp_node.home import HomeSpec, create_home

    spec = HomeSpec(hei_id=args.hei_id, hei_name=args.hei_name, base_url=args.base_url,
                    registry_url=args.registry_url or HomeSpec.registry_url, database_url=args.database_url,
                    admin_email=args.admin_email)
    settings = create_home(Path(args.home), spec)
    if args.with_demo_data:
        from ewp_node.context import build_context
        from ewp_node.publish.cli import load_demo_data

        ctx = build_context(settings)
        load_demo_data(ctx.sessions, settings.heis[0].id, args.with_demo_data)
        if args.demo_partner:
            from ewp_node.mobilities.demo import load_demo_mobilities
            from ewp_node.tors.demo import load_demo_transcript

            load_demo_mobilities(ctx.sessions, settings.heis[0].id, args.demo_partner)
            load_demo_transcript(ctx, settings.heis[0].id, args.demo_partner)
        ctx.audit.close()
    print(f"created node home {settings.home} for {settings.heis[0].id}; manifest at {settings.url('manifest.xml')}",
          file=sys.stderr)
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from ewp_node.app import manifest_bytes
    from ewp_node.context import KeyPair

    settings = load_settings(args.home)
    data = manifest_bytes(settings, KeyPair.load(settings.client_key_path), KeyPair.load(settings.server_key_path),
                          args.hei)
    sys.stdout.write(data.decode("utf-8") + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ewp_node.cnr.cli import background_worker
    from ewp_node.server import serve
    from ewp_node.wsgi import app_for_home

    settings = load_settings(args.home)
    bind = args.bind or "127.0.0.1:8443"
    tls = (str(settings.tls_cert), str(settings.tls_key)) if settings.tls_cert and settings.tls_key else (None, None)
    scheme = "https" if tls[0] else "http"
    print(f"serving {settings.heis[0].id} on {scheme}://{bind} (public base URL {settings.base_url})", file=sys.stderr)
    with background_worker(settings.home):  # the outbox worker: CNRs and follow-up fetches
        serve(lambda: app_for_home(settings.home), bind, workers=args.workers, certfile=tls[0], keyfile=tls[1])
    return 0


def cmd_registry(args: argparse.Namespace) -> int:
    from ewp_node.context import build_context

    ctx = build_context(load_settings(args.home))
    registry = ctx.registry
    if args.action == "refresh":
        ok = registry.refresh(force=True)  # type: ignore[attr-defined]
        print("catalogue refreshed" if ok else f"refresh failed: {registry.last_error}")  # type: ignore[attr-defined]
        return 0 if ok else 1
    index = registry.index
    if args.action == "show":
        print(f"catalogue: {registry.catalogue_url}")  # type: ignore[attr-defined]
        print(f"last refresh: {registry.last_refresh}  etag: {registry.etag}")  # type: ignore[attr-defined]
        print(f"HEIs: {len(index.hei_ids())}")
        return 0
    if not args.hei:
        print("lookup needs a HEI id", file=sys.stderr)
        return 2
    hei = index.hei(args.hei)
    if hei is None:
        print(f"{args.hei}: not in the catalogue")
        return 1
    print(f"{hei.id}: {hei.name()}")
    apis = [args.api] if args.api else sorted(index.api_names(args.hei))
    for api in apis:
        entry = index.lookup(args.hei, api)
        if entry is None:
            print(f"  {api}: not implemented")
            continue
        urls = ", ".join(f"{k}={v}" for k, v in entry.urls.items())
        limits = ", ".join(f"{k}={v}" for k, v in entry.limits.items())
        print(f"  {api} v{entry.version}: {urls}" + (f" [{limits}]" if limits else ""))
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from ewp_node.client import EwpClient
    from ewp_node.context import build_context

    ctx = build_context(load_settings(args.home))
    params = []
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"--param {item!r}: NAME=VALUE expected", file=sys.stderr)
            return 2
        params.append((name, value))
    try:
        response = EwpClient(ctx).call(args.hei, args.api, args.endpoint, params, method=args.method)
    finally:
        ctx.audit.close()
    if response.root is not None:
        print(etree.tostring(response.root, pretty_print=True, encoding="unicode"))
    else:
        print(response.body.decode(errors="replace"))
    print(f"HTTP {response.status} from {response.url}; response signature "
          f"{'verified' if response.signature_verified else 'not requested (partner does not sign)'}",
          file=sys.stderr)
    return 0 if response.status == 200 else 1


def cmd_sandbox(args: argparse.Namespace) -> int:
    from ewp_node.sandbox import Sandbox

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a TERM stops the nodes too, like Ctrl-C
    with Sandbox(Path(args.dir) if args.dir else None, nodes=args.nodes) as sandbox:
        sandbox.describe(sys.stdout)
        print("sandbox running; press Ctrl-C to stop", file=sys.stderr)
        sandbox.wait()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ewp_node.demo import run_demo

    return run_demo(Path(args.dir) if args.dir else None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ewp-node", description="An Erasmus Without Paper network node.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create a node home: config, key pairs, database")
    p.add_argument("home")
    p.add_argument("--hei-id", required=True)
    p.add_argument("--hei-name", required=True)
    p.add_argument("--base-url", required=True, help="public https URL of the node")
    p.add_argument("--registry-url", help="full catalogue URL (default: the production EWP registry)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite file in the home)")
    p.add_argument("--admin-email")
    p.add_argument("--with-demo-data", nargs="?", const="fr", choices=("fr", "pl"),
                   help="fill the HEI with a demo data set (fr or pl)")
    p.add_argument("--demo-partner", metavar="HEI",
                   help="with --with-demo-data: also demo mobilities and learning agreements with this partner HEI")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("manifest", help="print the Discovery manifest (works offline)")
    p.add_argument("home")
    p.add_argument("--hei", help="the HEI whose manifest to print (multi-HEI nodes)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("serve", help="run the node on gunicorn in the foreground")
    p.add_argument("home")
    p.add_argument("--bind", help="HOST:PORT (default 127.0.0.1:8443)")
    p.add_argument("--workers", type=int)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("registry", help="registry catalogue: refresh, show, lookup HEI [API]")
    p.add_argument("home")
    p.add_argument("action", choices=("refresh", "show", "lookup"))
    p.add_argument("hei", nargs="?")
    p.add_argument("api", nargs="?")
    p.set_defaults(func=cmd_registry)

    p = sub.add_parser("call", help="a signed call to a partner API found through the registry")
    p.add_argument("home")
    p.add_argument("api", help="manifest entry name, e.g. echo, institutions, courses")
    p.add_argument("--hei", required=True, help="the partner HEI")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--endpoint", default="url", help="URL element of the entry (url, get-url, index-url...)")
    p.add_argument("--method", default="POST", choices=("GET", "POST"))
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("sandbox", help="a local EWP network on loopback, until interrupted")
    p.add_argument("--nodes", type=int, default=2)
    p.add_argument("--dir", help="where to keep the network's files (default: a temporary folder)")
    p.set_defaults(func=cmd_sandbox)

    p = sub.add_parser("demo", help="play a narrated exchange between two sandbox nodes, then exit")
    p.add_argument("--dir")
    p.set_defaults(func=cmd_demo)

    for module in ("ewp_node.publish.cli", "ewp_node.elmo.cli", "ewp_node.cnr.cli", "ewp_node.mobilities.cli",
                   "ewp_node.tors.cli"):
        try:
            __import__(module, fromlist=["register"]).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"ewp-node: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
