"""``ewp-node import``, ``export`` and ``replicate``, and the demo data loader of ``init --with-demo-data``."""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.config import load_settings

if TYPE_CHECKING:
    from ewp_node.context import NodeContext


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


def _context(home: str) -> NodeContext:
    from ewp_node.context import build_context

    return build_context(load_settings(home))


def cmd_import(args: argparse.Namespace) -> int:
    with _context(args.home) as ctx:
        return _import_files(ctx.sessions, ctx.settings.hei_ids, args.files, args.encoding)


def _import_files(sessions: sessionmaker[Session], hei_ids: frozenset[str], files: list[str],
                  encoding: str | None) -> int:
    from ewp_node.progress import progress_bar
    from ewp_node.publish.importer import ImportFailed, import_file

    status = 0
    for name in files:
        try:
            with progress_bar(name) as progress:
                report = import_file(sessions, Path(name), hei_ids, progress=progress, encoding=encoding)
        except ImportFailed as exc:
            if len(exc.problems) == 1:
                print(f"ewp-node: error: {exc} (nothing imported)", file=sys.stderr)
            else:
                print(f"ewp-node: error: {name}: {len(exc.problems)} problems, nothing imported:\n{exc}",
                      file=sys.stderr)
            status = 1
            continue
        print(report.summary())
    return status


def cmd_export(args: argparse.Namespace) -> int:
    from ewp_node.cli_errors import UsageError
    from ewp_node.publish.csv_catalogue import write_csv
    from ewp_node.publish.export import export_document

    with _context(args.home) as ctx:
        hei_id = args.hei or ctx.settings.heis[0].id
        if hei_id not in ctx.settings.hei_ids:
            raise UsageError(f"--hei {hei_id}: not covered by this node")
        with ctx.sessions() as session:
            document = export_document(session, hei_id)
    if args.format == "csv":
        text, dropped = write_csv(hei_id, document.get("courses", []), delimiter=args.delimiter)
        if dropped:
            print(f"ewp-node export: a CSV sheet holds the course catalogue only, without: {', '.join(dropped)} "
                  "(export JSON for a complete copy)", file=sys.stderr)
        write_text(text, args.output)
    else:
        write_json(document, args.output)
    return 0


def write_text(text: str, output: str | None) -> None:
    """Exported text to the file ``output``, or to standard output."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def write_json(document: Any, output: str | None) -> None:
    """An exported document as indented JSON, to the file ``output`` or to standard output."""
    write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", output)


def cmd_replicate(args: argparse.Namespace) -> int:
    from ewp_node.progress import progress_bar
    from ewp_node.publish.replicate import replicate_catalogue

    with _context(args.home) as ctx, progress_bar(f"{args.hei} courses") as progress:
        report = replicate_catalogue(ctx, args.hei, modified_since=args.modified_since, progress=progress)
    print(report.summary())
    for problem in report.skipped[:20]:
        print(f"  skipped {problem}", file=sys.stderr)
    return 0


def modified_since(text: str) -> datetime:
    """``--modified-since``: an xs:dateTime, read as the EWP parameter is."""
    from ewp_node.errors import BadRequest
    from ewp_node.params import parse_datetime

    try:
        return parse_datetime(text, "--modified-since")
    except BadRequest:
        raise argparse.ArgumentTypeError(f"{text!r} is not an xs:dateTime such as 2026-01-31T00:00:00Z") from None


def _encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"{name!r} is not an encoding Python knows (e.g. cp1252, latin-1)") from None


def register(subparsers: Any) -> None:
    """Add ``import``, ``export`` and ``replicate`` to the ``ewp-node`` command."""
    p = subparsers.add_parser("import", help="import published data (JSON, or CSV course catalogues)",
                              description="Import files in the format of docs/import-format.md. Each file is "
                              "imported completely or not at all; importing the same file again changes nothing.")
    p.add_argument("home")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--encoding", type=_encoding, help="encoding of CSV files that are not UTF-8 (e.g. cp1252)")
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("export", help="export a covered HEI's published data in the import format")
    p.add_argument("home")
    p.add_argument("--hei", help="the covered HEI (default: the first one)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.add_argument("--format", choices=("json", "csv"), default="json",
                   help="json: everything; csv: the course catalogue as a sheet (the CSV import columns)")
    p.add_argument("--delimiter", choices=(",", ";"), default=",", help="CSV separator (';' for Excel in France)")
    p.set_defaults(func=cmd_export)

    p = subparsers.add_parser("replicate", help="copy a partner's course catalogue into our store")
    p.add_argument("home")
    p.add_argument("--hei", required=True, help="the partner HEI whose courses to copy")
    p.add_argument("--modified-since", type=modified_since, help="only LOSes changed since this xs:dateTime")
    p.set_defaults(func=cmd_replicate)
