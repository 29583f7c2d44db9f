"""``ewp-node tor HOME import|list|show|fetch|export`` and ``ewp-node sis HOME list|replay``: transcripts of records for
the international office, and their hand-off to the student information system.

``import FILE`` issues the transcripts of incoming students (docs/tor-import-format.md), all or nothing;
``list`` and ``show ID`` show the transcripts received for our students, with the converted grades;
``fetch --hei PARTNER --omobility ID`` fetches, checks and converts a partner's transcript now;
``export ID`` writes a recognised mobility for the diploma supplement (JSON, PDF page);
``sis list`` shows the recognition records, ``sis replay ID`` writes one again and queues its webhook POST,
``sis registrations`` writes the registration records of approved mobilities.
Exit codes: 0 done, 1 refused (invalid file, not our mobility, partner failure, rejected transcript).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ewp_node.context import home_context
from ewp_node.tors.records import ReceivedTranscript


def cmd_import(args: argparse.Namespace) -> int:
    from ewp_node.tors.importer import read_file
    from ewp_node.tors.service import issue_transcripts

    transcripts = read_file(Path(args.file))
    with home_context(args.home) as ctx:
        issued = issue_transcripts(ctx, transcripts)
    for transcript in issued:
        print(f"issued the transcript of {transcript.omobility_id} ({transcript.sending_hei_id}); "
              "its ToR CNR is queued")
    return 0


def _line(received: ReceivedTranscript) -> str:
    if received.recognition is None:
        what = f"REJECTED: {received.reason}"
    else:
        results = received.recognition.results
        converted = sum(1 for r in results if r.home_grade is not None)
        what = f"accepted: {len(results)} results, {converted} converted"
        if received.recognition.missing:
            what += f", {len(received.recognition.missing)} planned courses missing"
    return (f"{received.id:5}  {received.received_at:%Y-%m-%d %H:%M}  {received.omobility_id}  "
            f"{received.receiving_hei_id}  {what}")


def cmd_list(args: argparse.Namespace) -> int:
    from ewp_node.tors import repository as repo

    with home_context(args.home) as ctx, ctx.sessions() as session:
        for received in repo.received(session, ctx.settings.hei_ids):
            print(_line(received))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ewp_node.tors import repository as repo

    with home_context(args.home) as ctx, ctx.sessions() as session:
        found = repo.received_by_id(session, ctx.settings.hei_ids, args.id)
    if found is None:
        print(f"ewp-node tor show: no received transcript #{args.id}", file=sys.stderr)
        return 1
    received = found[0]
    print(_line(received))
    if received.recognition is not None:
        for result in received.recognition.results:
            planned = f"planned as {result.planned_as!r}" if result.planned_as else "not in the learning agreement"
            home = result.home_grade or "-"
            print(f"  {result.code:12} {result.title[:40]:40} {result.ects or '?':>4} ECTS  "
                  f"{result.host_grade:>5} -> {home:>5}  {planned}")
            print(f"      {result.explanation}")
        for title in received.recognition.missing:
            print(f"  MISSING: {title!r} was planned in the learning agreement but is not on the transcript")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from ewp_node.client import EwpClient
    from ewp_node.tors.conversion import load_policy
    from ewp_node.tors.receive import Receiver, fetch_transcripts

    with home_context(args.home) as ctx:
        home = ctx.settings.home
        receiver = Receiver(EwpClient(ctx), ctx.sessions, ctx.settings.hei_ids, load_policy(home), home,
                            sis_webhook=ctx.settings.sis_webhook_url is not None)
        recorded = fetch_transcripts(receiver, args.hei, args.omobility)
    if not recorded:
        print(f"{args.hei} has no transcript of these mobilities of ours")
    for received in recorded:
        print(_line(received))
    return 0 if recorded and all(r.recognition is not None for r in recorded) else 1


def cmd_sis_list(args: argparse.Namespace) -> int:
    from ewp_node.tors import repository as repo
    from ewp_node.tors.sis import record_path

    with home_context(args.home) as ctx, ctx.sessions() as session:
        for received in repo.received(session, ctx.settings.hei_ids):
            if received.recognition is not None:
                path = record_path(ctx.settings.home, received.id)
                print(f"{received.id:5}  {received.omobility_id}  {received.receiving_hei_id}  "
                      f"{path if path.exists() else 'file missing: replay it'}")
    return 0


def cmd_sis_registrations(args: argparse.Namespace) -> int:
    from ewp_node.tors.registration import write_registrations

    with home_context(args.home) as ctx:
        written = write_registrations(ctx.sessions, ctx.settings.home, ctx.settings.hei_ids,
                                      webhook=ctx.settings.sis_webhook_url is not None)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} new registration records")
    return 0


def cmd_sis_replay(args: argparse.Namespace) -> int:
    from ewp_node.tors.sis import replay

    with home_context(args.home) as ctx:
        webhook = ctx.settings.sis_webhook_url is not None
        path = replay(ctx.sessions, ctx.settings.home, ctx.settings.hei_ids, args.id, webhook=webhook)
    print(f"wrote {path}" + ("; its webhook POST is queued" if webhook else ""))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ewp_node.tors.pdf import render_recognition_pdf
    from ewp_node.tors.sis import load_record, recognition_record

    with home_context(args.home) as ctx, ctx.sessions() as session:
        received, mobility = load_record(session, ctx.settings.hei_ids, args.id)
    text = json.dumps(recognition_record(received, mobility), ensure_ascii=False, indent=1) + "\n"
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    elif not args.pdf:
        sys.stdout.write(text)
    if args.pdf:
        Path(args.pdf).write_bytes(render_recognition_pdf(received, mobility, args.lang))
    return 0


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One error boundary for the expected failures: a message and exit code 1, nothing changed."""
    from ewp_node.client import PartnerUnavailable
    from ewp_node.security.errors import ResponseVerificationError
    from ewp_node.tors.conversion import PolicyUnreadable
    from ewp_node.tors.importer import TorImportFailed
    from ewp_node.tors.receive import InvalidTorResponse
    from ewp_node.tors.service import NotOurIncomingMobility
    from ewp_node.tors.sis import UnknownRecord

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except (TorImportFailed, NotOurIncomingMobility, PolicyUnreadable, UnknownRecord) as exc:
            print(f"ewp-node {args.command} {args.action}: {exc}", file=sys.stderr)
        except (PartnerUnavailable, ResponseVerificationError, InvalidTorResponse) as exc:
            print(f"ewp-node {args.command} {args.action}: {type(exc).__name__}: {exc} (nothing changed)",
                  file=sys.stderr)
        return 1

    return run


def register(subparsers: Any) -> None:
    """Add ``tor`` to the ``ewp-node`` command."""
    p = subparsers.add_parser("tor", help="transcripts of records: import (ours), list/show/fetch (theirs)")
    p.add_argument("home")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("import", help="issue transcripts of incoming students (docs/tor-import-format.md)")
    a.add_argument("file")
    a.set_defaults(func=_guarded(cmd_import))
    actions.add_parser("list", help="transcripts received for our students, one a line").set_defaults(
        func=_guarded(cmd_list))
    a = actions.add_parser("show", help="one received transcript with its converted grades")
    a.add_argument("id", type=int)
    a.set_defaults(func=_guarded(cmd_show))
    a = actions.add_parser("fetch", help="fetch, verify and convert a partner's transcripts of our students now")
    a.add_argument("--hei", required=True, help="the receiving HEI")
    a.add_argument("--omobility", action="append", required=True, metavar="ID", help="repeatable")
    a.set_defaults(func=_guarded(cmd_fetch))

    a = actions.add_parser("export", help="a recognised mobility for the diploma supplement: JSON and/or a PDF page")
    a.add_argument("id", type=int, help="the received transcript's id (tor list)")
    a.add_argument("--json", metavar="FILE", help="write the JSON here (default: standard output, unless --pdf)")
    a.add_argument("--pdf", metavar="FILE", help="write the PDF page here")
    a.add_argument("--lang", choices=("en", "fr"), default="en")
    a.set_defaults(func=_guarded(cmd_export))

    p = subparsers.add_parser("sis", help="recognition records handed to the student information system")
    p.add_argument("home")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every recognition record and its file").set_defaults(func=_guarded(cmd_sis_list))
    actions.add_parser("registrations", help="write a registration record for each mobility whose nomination and "
                       "learning agreement are approved (new ones only)").set_defaults(
        func=_guarded(cmd_sis_registrations))
    a = actions.add_parser("replay", help="write a record's file again and queue its webhook POST again")
    a.add_argument("id", type=int, help="the received transcript's id (tor list)")
    a.set_defaults(func=_guarded(cmd_sis_replay))
