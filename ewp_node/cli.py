"""The ``ewp-node`` command for operators: init, manifest, serve, registry, call, sandbox, demo, and the
commands of the feature packages (import/export/replicate, elmo, grades)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from lxml import etree

from ewp_node.cli_errors import EXIT_FAILURE, EXIT_INTERRUPTED, CommandFailed, UsageError, explain, first_line
from ewp_node.config import load_settings

log = logging.getLogger("ewp_node")
DEFAULT_BIND = "127.0.0.1:8443"


def cmd_init(args: argparse.Namespace) -> int:
    from ewp_node.home import HomeSpec, create_home

    allow_http = args.allow_http or os.environ.get("EWP_NODE_ALLOW_HTTP") == "1"
    spec = HomeSpec(hei_id=args.hei_id, hei_name=args.hei_name, base_url=args.base_url,
                    registry_url=args.registry_url or HomeSpec.registry_url, database_url=args.database_url,
                    admin_email=args.admin_email, allow_http=allow_http)
    if args.demo_partner and (not args.with_demo_data or args.demo_partner == args.hei_id):
        print("--demo-partner needs --with-demo-data and a HEI other than --hei-id", file=sys.stderr)
        return 2
    settings = create_home(Path(args.home), spec)
    if not args.admin_email:
        print(f"ewp-node: warning: no --admin-email: the manifest publishes {settings.admin_email} as the "
              f"technical contact; set admin_email in {settings.home / 'ewp-node.toml'}", file=sys.stderr)
    if args.with_demo_data:
        from ewp_node.context import build_context
        from ewp_node.publish.cli import load_demo_data

        hei_id = settings.heis[0].id
        with build_context(settings) as ctx:
            load_demo_data(ctx.sessions, hei_id, args.with_demo_data, settings.url("ewp/file", hei_id))
            if args.demo_partner:
                from ewp_node.iias.demo import load_demo_iias
                from ewp_node.mobilities.demo import load_demo_mobilities
                from ewp_node.tors.demo import load_demo_transcript

                load_demo_iias(ctx.sessions, hei_id, args.demo_partner)
                load_demo_mobilities(ctx.sessions, hei_id, args.demo_partner)
                load_demo_transcript(ctx, hei_id, args.demo_partner)
    print(f"created node home {settings.home} for {settings.heis[0].id}; manifest at {settings.url('manifest.xml')}",
          file=sys.stderr)
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from ewp_node.app import manifest_bytes
    from ewp_node.context import KeyPair

    settings = load_settings(args.home)
    if args.hei and args.hei not in settings.hei_ids:
        covered = ", ".join(sorted(settings.hei_ids))
        raise UsageError(f"--hei {args.hei}: not covered by this node (it covers {covered})")
    data = manifest_bytes(settings, KeyPair.load(settings.client_key_path), KeyPair.load(settings.server_key_path),
                          args.hei)
    sys.stdout.write(data.decode("utf-8") + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ewp_node.audit import AuditRole
    from ewp_node.cnr.cli import background_worker
    from ewp_node.preflight import check_node
    from ewp_node.server import ServerLimits, serve
    from ewp_node.wsgi import app_for_home

    settings = load_settings(args.home)
    check_node(settings)
    bind = args.bind or DEFAULT_BIND
    tls = (str(settings.tls_cert), str(settings.tls_key)) if settings.tls_cert and settings.tls_key else (None, None)
    scheme = "https" if tls[0] else "http"
    print(f"serving {settings.heis[0].id} on {scheme}://{bind} (public base URL {settings.base_url})", file=sys.stderr)
    with background_worker(settings.home):  # the outbox worker: CNRs, follow-up fetches, the audit journal
        serve(lambda: app_for_home(settings.home, AuditRole.HAND_OFF), bind, workers=args.workers,
              certfile=tls[0], keyfile=tls[1], limits=ServerLimits(max_body_bytes=settings.max_request_bytes))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from ewp_node.preflight import NotReady, database_problem, schema_heads
    from ewp_node.store.db import make_engine, upgrade_database

    settings = load_settings(args.home)
    engine = make_engine(settings.database_url)
    try:
        before, _ = schema_heads(engine)
        upgrade_database(engine)
        after, _ = schema_heads(engine)
    except SQLAlchemyError as exc:
        raise NotReady(database_problem(settings.database_url, exc)) from None
    finally:
        engine.dispose()
    was, now = ", ".join(sorted(before)) or "empty", ", ".join(sorted(after))
    print(f"database schema: {was} -> {now}" if before != after else f"database schema up to date ({now})",
          file=sys.stderr)
    return 0


def cmd_registry(args: argparse.Namespace) -> int:
    from ewp_node.context import build_context
    from ewp_node.progress import spinner
    from ewp_node.registry.fetch import RegistryClient

    ctx = build_context(load_settings(args.home))
    registry = ctx.registry
    assert isinstance(registry, RegistryClient)  # build_context makes one when it is not given another
    if args.action == "refresh":
        with spinner(f"fetching {registry.catalogue_url}"):
            ok = registry.refresh(force=True)
        if not ok:
            raise CommandFailed(f"registry refresh failed: {registry.last_error}")
        print("catalogue refreshed")
        return 0
    if args.action == "lookup" and not args.hei:
        raise UsageError("registry lookup needs a HEI id: ewp-node registry HOME lookup HEI [API]")
    with spinner(f"loading the catalogue of {registry.catalogue_url}"):
        index = registry.index
    if args.action == "show":
        print(f"catalogue: {registry.catalogue_url}")
        print(f"last refresh: {registry.last_refresh}  etag: {registry.etag}")
        hei_ids = sorted(index.hei_ids())
        print(f"HEIs: {len(hei_ids)}")
        for hei_id in hei_ids:
            info = index.hei(hei_id)
            print(f"  {hei_id}: {(info.name() if info else None) or '(no name)'}")
        return 0
    hei = index.hei(args.hei)
    if hei is None:
        raise CommandFailed(f"{args.hei}: not in the catalogue")
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


def cmd_status(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from ewp_node.context import build_context
    from ewp_node.web.status import summarize, summary_text

    ctx = build_context(load_settings(args.home))
    try:
        print(summary_text(ctx, summarize(ctx, datetime.now(UTC))))
    finally:
        ctx.audit.close()
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from ewp_node.client import EwpClient
    from ewp_node.context import build_context

    params = []
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"--param {item!r}: NAME=VALUE expected")
        params.append((name, value))
    ctx = build_context(load_settings(args.home))
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
    join = [Path(home) for home in args.join]
    for home in join:
        load_settings(home)  # a bad home is refused before anything starts
    with Sandbox(Path(args.dir) if args.dir else None, nodes=args.nodes, join=join) as sandbox:
        sandbox.describe(sys.stdout)
        print("sandbox running; press Ctrl-C to stop", file=sys.stderr)
        sandbox.wait()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ewp_node.demo import run_demo

    return run_demo(Path(args.dir) if args.dir else None, keep=args.keep)


class _Parser(argparse.ArgumentParser):
    """Bad usage raises :class:`UsageError`, so that it is reported like every other error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def bind_address(text: str) -> str:
    """``--bind``: ``PORT`` (on 127.0.0.1), ``HOST:PORT`` or ``[IPv6]:PORT``, as the server binds ``HOST:PORT``."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    elif not host or (":" in host and not (host.startswith("[") and host.endswith("]"))):
        raise argparse.ArgumentTypeError(f"{text!r}: PORT, HOST:PORT or [IPv6]:PORT expected")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: the port must be a number from 1 to 65535")
    return f"{host}:{int(port)}"


def _add_common_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """Options every command takes, before or after its name (only the main parser sets their defaults)."""
    default: object = False if defaults else argparse.SUPPRESS
    parser.add_argument("-v", "--verbose", action="store_true", default=default, help="log debug messages to stderr")
    parser.add_argument("--debug", action="store_true", default=default, help="show the trace of an unexpected error")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ewp-node", description="An Erasmus Without Paper network node.")
    _add_common_options(parser, defaults=True)
    # One-shot commands report their outcome themselves; long-running ones log warnings as they happen.
    parser.set_defaults(log_level=logging.ERROR)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("init", help="create a node home: config, key pairs, database")
    p.add_argument("home")
    p.add_argument("--hei-id", required=True, help="the HEI's SCHAC id: its lower-case internet domain")
    p.add_argument("--hei-name", required=True)
    p.add_argument("--base-url", required=True, help="public https URL of the node")
    p.add_argument("--registry-url", help="full catalogue URL (default: the production EWP registry)")
    p.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite file in the home)")
    p.add_argument("--admin-email", help="technical contact published in the manifest")
    p.add_argument("--allow-http", action="store_true",
                   help="accept plain http:// URLs (loopback tests only); saved in the configuration")
    p.add_argument("--with-demo-data", nargs="?", const="fr", choices=("fr", "pl"),
                   help="fill the HEI with a demo data set (fr or pl)")
    p.add_argument("--demo-partner", metavar="HEI",
                   help="with --with-demo-data: also demo IIAs (all condition kinds), mobilities and learning "
                   "agreements with this partner HEI")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("manifest", help="print the Discovery manifest (works offline)")
    p.add_argument("home")
    p.add_argument("--hei", help="the HEI whose manifest to print (multi-HEI nodes)")
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("serve", help="run the node on granian in the foreground")
    p.add_argument("home")
    p.add_argument("--bind", type=bind_address, help=f"PORT, HOST:PORT or [IPv6]:PORT (default {DEFAULT_BIND})")
    p.add_argument("--workers", type=int)
    p.set_defaults(func=cmd_serve, log_level=logging.WARNING)

    p = sub.add_parser("migrate", help="upgrade the database schema to this version (back it up first)")
    p.add_argument("home")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("registry", help="registry catalogue: refresh, show, lookup HEI [API]")
    p.add_argument("home")
    p.add_argument("action", choices=("refresh", "show", "lookup"))
    p.add_argument("hei", nargs="?")
    p.add_argument("api", nargs="?")
    p.set_defaults(func=cmd_registry)

    p = sub.add_parser("status", help="the /status summary as text: exchanges, errors, latest partners")
    p.add_argument("home")
    p.set_defaults(func=cmd_status)

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
    p.add_argument("--join", action="append", default=[], metavar="HOME",
                   help="also serve this node home in the network (repeatable); see docs/sandbox.md")
    p.set_defaults(func=cmd_sandbox, log_level=logging.WARNING)

    p = sub.add_parser("demo", help="play a narrated exchange between two sandbox nodes, then exit")
    p.add_argument("--dir")
    p.add_argument("--keep", action="store_true",
                   help="then keep the network running with each node's office console open (prints a login)")
    p.set_defaults(func=cmd_demo, log_level=logging.WARNING)

    for module in ("ewp_node.publish.cli", "ewp_node.elmo.cli", "ewp_node.cnr.cli", "ewp_node.iias.cli",
                   "ewp_node.mobilities.cli", "ewp_node.tors.cli", "ewp_node.office.cli"):
        try:
            __import__(module, fromlist=["register"]).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
    for command in set(sub.choices.values()):
        _add_common_options(command, defaults=False)
    return parser


def report_error(exc: Exception, *, debug: bool) -> int:
    """Print one line for ``exc`` (after its trace with ``--debug``); the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    explained = explain(exc)
    if explained is None:
        hint = "" if debug else " (run with --debug for the trace)"
        print(f"ewp-node: error: unexpected {type(exc).__name__}: {first_line(str(exc))}{hint}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"ewp-node: error: {explained.message}", file=sys.stderr)
    return explained.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every error ends here as one line on stderr and an exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
        logging.basicConfig(level=logging.DEBUG if args.verbose else args.log_level, stream=sys.stderr,
                            format="%(levelname)s %(name)s: %(message)s")
        return int(args.func(args))
    except KeyboardInterrupt:
        print("ewp-node: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        return report_error(exc, debug="--debug" in argv)


if __name__ == "__main__":
    sys.exit(main())
