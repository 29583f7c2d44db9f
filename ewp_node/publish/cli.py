"""``ewp-node import``, ``export`` and ``replicate``, and the demo data loader of ``init --with-demo-data``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.config import load_settings


def load_demo_data(sessions: sessionmaker[Session], hei_id: str, dataset: str, file_api_url: str | None = None
                   ) -> None:
    """Fill ``hei_id`` with demo data set ``dataset`` (``fr`` or ``pl``); idempotent. ``file_api_url``: our
    File API URL, named by the institution's data (its guide is served there).

    :raises KeyError: unknown data set.
    """
    from ewp_node.publish.demo_data import build_document
    from ewp_node.publish.importer import import_document

    import_document(sessions, build_document(dataset, hei_id, file_api_url), {hei_id},
                    source=f"demo data {dataset!r}")


class ProgressBar:
    """A one-line progress bar on a terminal (nothing when ``stream`` is not one)."""

    WIDTH = 30

    def __init__(self, label: str, stream: TextIO) -> None:
        self.label, self.stream = label, stream

    def __call__(self, done: int, total: int) -> None:
        if not self.stream.isatty() or total < 200:
            return
        filled = self.WIDTH * done // max(total, 1)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}{end}")
        self.stream.flush()


def _context(home: str) -> Any:
    from ewp_node.context import build_context

    return build_context(load_settings(home))


def cmd_import(args: argparse.Namespace) -> int:
    from ewp_node.publish.importer import ImportFailed, import_file

    ctx = _context(args.home)
    settings, sessions = ctx.settings, ctx.sessions
    status = 0
    for name in args.files:
        try:
            report = import_file(sessions, Path(name), settings.hei_ids, progress=ProgressBar(name, sys.stderr))
        except ImportFailed as exc:
            print(f"ewp-node import: {name} not imported (nothing changed):\n{exc}", file=sys.stderr)
            status = 1
            continue
        print(report.summary())
    return status


def cmd_export(args: argparse.Namespace) -> int:
    from ewp_node.publish.export import export_document

    ctx = _context(args.home)
    hei_id = args.hei or ctx.settings.heis[0].id
    if hei_id not in ctx.settings.hei_ids:
        print(f"ewp-node export: {hei_id!r} is not covered by this node", file=sys.stderr)
        return 2
    with ctx.sessions() as session:
        write_json(export_document(session, hei_id), args.output)
    return 0


def write_json(document: Any, output: str | None) -> None:
    """An exported document as indented JSON, to the file ``output`` or to standard output."""
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def cmd_replicate(args: argparse.Namespace) -> int:
    from ewp_node.client import PartnerUnavailable
    from ewp_node.params import parse_datetime
    from ewp_node.publish.replicate import ReplicationFailed, replicate_catalogue
    from ewp_node.security.errors import ResponseVerificationError
    from ewp_node.xml.parse import MalformedDocument

    ctx = _context(args.home)
    try:
        since = parse_datetime(args.modified_since, "--modified-since") if args.modified_since else None
        report = replicate_catalogue(ctx, args.hei, modified_since=since,
                                     progress=ProgressBar(f"{args.hei} courses", sys.stderr))
    except (PartnerUnavailable, ReplicationFailed, ResponseVerificationError, MalformedDocument) as exc:
        print(f"ewp-node replicate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    for problem in report.skipped[:20]:
        print(f"  skipped {problem}", file=sys.stderr)
    return 0


def register(subparsers: Any) -> None:
    """Add ``import``, ``export`` and ``replicate`` to the ``ewp-node`` command."""
    p = subparsers.add_parser("import", help="import published data (JSON, or CSV course catalogues)",
                              description="Import files in the format of docs/import-format.md. Each file is "
                              "imported completely or not at all; importing the same file again changes nothing.")
    p.add_argument("home")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("export", help="export a covered HEI's published data in the import format")
    p.add_argument("home")
    p.add_argument("--hei", help="the covered HEI (default: the first one)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("replicate", help="copy a partner's course catalogue into our store")
    p.add_argument("home")
    p.add_argument("--hei", required=True, help="the partner HEI whose courses to copy")
    p.add_argument("--modified-since", help="only LOSes changed since this xs:dateTime")
    p.set_defaults(func=cmd_replicate)
