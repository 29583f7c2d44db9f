"""``ewp-node mobility HOME list|show|import|export|approve|reject`` and
``ewp-node la HOME show|propose|fetch|approve|comment``: the international office's nominations and learning
agreements, in both directions."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ewp_node.config import load_settings
from ewp_node.context import NodeContext
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.records import Direction, LaVersion, LearningAgreement, Mobility, Signature


@contextmanager
def _context(home: str) -> Iterator[NodeContext]:
    from ewp_node.context import build_context

    with build_context(load_settings(home)) as ctx:
        yield ctx


def _find(ctx: NodeContext, omobility_id: str) -> LearningAgreement:
    """The mobility (with its LA versions) of that id that a covered HEI sends or receives.

    :raises service.UnknownMobility: none, or several (then named).
    """
    covered = ctx.settings.hei_ids
    with ctx.sessions() as session:
        found = [m for m in repo.list_mobilities(session, covered) if m.omobility_id == omobility_id]
        if len(found) != 1:
            raise service.UnknownMobility(f"{len(found)} mobilities have the id {omobility_id!r}")
        row = repo.find(session, found[0].sending.hei_id, omobility_id)
        assert row is not None
        return repo.la_record(row)


def _la_state(la: LearningAgreement) -> str:
    latest = la.latest
    return "no LA" if latest is None else f"LA {latest.state.value}"


def _line(mobility: Mobility, la: LearningAgreement) -> str:
    partner = mobility.receiving if mobility.direction is Direction.OUTGOING else mobility.sending
    student = mobility.student
    return (f"{mobility.direction.value:8} {mobility.omobility_id}  {student.given_names} {student.family_name}  "
            f"{partner.hei_id}  {mobility.receiving_academic_year_id}  nomination {mobility.nomination.status.value}"
            f"  {_la_state(la)}")


def cmd_list(args: argparse.Namespace) -> int:
    with _context(args.home) as ctx, ctx.sessions() as session:
        for mobility in repo.list_mobilities(session, ctx.settings.hei_ids):
            row = repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
            assert row is not None
            print(_line(mobility, repo.la_record(row)))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ewp_node.mobilities.importer import export_record

    with _context(args.home) as ctx:
        la = _find(ctx, args.omobility_id)
    print(json.dumps(export_record(la.mobility), ensure_ascii=False, indent=1))
    print(_la_state(la))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ewp_node.mobilities.importer import MobilityImportFailed, import_file

    with _context(args.home) as ctx:
        try:
            report = import_file(ctx.sessions, Path(args.file), ctx.settings.hei_ids)
        except MobilityImportFailed as exc:
            print(f"ewp-node mobility import: {args.file} not imported (nothing changed):\n{exc}", file=sys.stderr)
            return 1
    print(report.summary())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ewp_node.mobilities.importer import export_document

    with _context(args.home) as ctx, ctx.sessions() as session:
        text = json.dumps(export_document(session, ctx.settings.hei_ids), ensure_ascii=False, indent=1) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _print_version(title: str, version: LaVersion) -> None:
    print(f"{title} {version.proposal_id} ({version.state.value})")
    for component in version.components:
        credits = ", ".join(f"{c.value} {c.scheme}" for c in component.credits)
        reference = f" [{component.los_id}]" if component.los_id else ""
        change = f" {component.status} ({component.reason_code or component.reason_text})" if component.status else ""
        print(f"  {component.kind.value}: {component.title}{reference} {credits}{change}")
    for who, signature in (("student", version.student_signature), ("sending HEI", version.sending_signature),
                           ("receiving HEI", version.receiving_signature)):
        if signature is not None:
            signer = f"{signature.signer_name}, " if signature.signer_name else ""
            print(f"  signed by {who}: {signer}{signature.timestamp.isoformat()}")
    if version.comment:
        print(f"  comment of the receiving HEI: {version.comment}")


def cmd_la_show(args: argparse.Namespace) -> int:
    with _context(args.home) as ctx:
        la = _find(ctx, args.omobility_id)
    print(_line(la.mobility, la))
    for title, version in (("first version", la.first_version), ("approved changes", la.approved_changes),
                           ("changes proposal", la.changes_proposal)):
        if version is not None:
            _print_version(title, version)
    latest = la.latest
    if latest is not None and latest.state.value == "commented":
        _print_version("latest (commented)", latest)
    return 0


def cmd_la_propose(args: argparse.Namespace) -> int:
    from ewp_node.mobilities.proposals import catalogue_titles, read_proposal
    from ewp_node.publish.records import InvalidRecords, Reader

    with _context(args.home) as ctx:
        la = _find(ctx, args.omobility_id)
        mobility = la.mobility
        if mobility.direction is not Direction.OUTGOING:
            print(f"ewp-node la propose: {args.omobility_id} is an incoming mobility: its sending HEI proposes",
                  file=sys.stderr)
            return 2
        try:
            document = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            print(f"ewp-node la propose: cannot read {args.file}: {exc}", file=sys.stderr)
            return 1
        reader = Reader()
        with ctx.sessions() as session:
            try:
                proposal = read_proposal(reader, document, catalogue_titles(session, mobility.receiving.hei_id,
                                                                            reader))
            except InvalidRecords as exc:
                print(f"ewp-node la propose: {args.file} not proposed (nothing changed):\n{exc}", file=sys.stderr)
                return 1
        proposal_id = service.propose_changes(ctx.sessions, mobility.sending.hei_id, mobility.omobility_id,
                                              proposal.components, proposal.student_signature,
                                              proposal.sending_signature)
    print(f"proposal {proposal_id} awaits the approval of {mobility.receiving.hei_id}")
    return 0


def _signature(args: argparse.Namespace) -> Signature:
    return Signature(timestamp=datetime.now(UTC), signer_name=args.signer_name, signer_position=args.signer_position,
                     signer_email=args.signer_email, signer_app="ewp-node")


def _client(ctx: NodeContext) -> Any:
    from ewp_node.client import EwpClient

    return EwpClient(ctx)


def cmd_la_fetch(args: argparse.Namespace) -> int:
    from ewp_node.mobilities.partner import fetch_las, incoming_ids

    with _context(args.home) as ctx:
        covered = ctx.settings.hei_ids
        ids = args.omobility_ids or incoming_ids(ctx.sessions, args.hei, covered)
        count = fetch_las(_client(ctx), ctx.sessions, args.hei, covered, ids) if ids else 0
    print(f"{count} learning agreements of {args.hei} stored")
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from ewp_node.mobilities.partner import fetch_nominations, resync_nominations

    with _context(args.home) as ctx:
        covered, client = ctx.settings.hei_ids, _client(ctx)
        count = (fetch_nominations(client, ctx.sessions, args.hei, covered, args.omobility_ids) if args.omobility_ids
                 else resync_nominations(client, ctx.sessions, args.hei, covered))
    print(f"{count} nominations of {args.hei} stored")
    return 0


def _decide(args: argparse.Namespace, reject_comment: str | None) -> int:
    from ewp_node.mobilities.partner import decide_nomination

    with _context(args.home) as ctx:
        partner = _find(ctx, args.omobility_id).mobility.sending.hei_id
        status = decide_nomination(_client(ctx), ctx.sessions, partner, ctx.settings.hei_ids, args.omobility_id,
                                   reject_comment)
    print(f"the nomination {args.omobility_id} of {partner} is {status.value}")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, None)


def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, args.comment)


def _answer(args: argparse.Namespace, comment: str | None) -> int:
    from ewp_node.mobilities.partner import answer_proposal

    with _context(args.home) as ctx:
        partner = _find(ctx, args.omobility_id).mobility.sending.hei_id
        state = answer_proposal(_client(ctx), ctx.sessions, partner, ctx.settings.hei_ids, args.omobility_id,
                                _signature(args), comment)
    print(f"the proposal of {partner} for {args.omobility_id} is {state.value}")
    return 0


def cmd_la_approve(args: argparse.Namespace) -> int:
    return _answer(args, None)


def cmd_la_comment(args: argparse.Namespace) -> int:
    return _answer(args, args.comment)


def _guarded(func: Any) -> Any:
    """Refused changes (unknown mobility, stale proposal) and a partner that cannot be read or answers badly
    are the operator's to read, not a trace; nothing was changed."""
    from ewp_node.client import PartnerUnavailable
    from ewp_node.mobilities.parse import InvalidDocument
    from ewp_node.security.errors import ResponseVerificationError

    def run(args: argparse.Namespace) -> int:
        try:
            return int(func(args))
        except service.MobilityError as exc:
            print(f"ewp-node {args.command}: {exc}", file=sys.stderr)
        except (PartnerUnavailable, ResponseVerificationError, InvalidDocument) as exc:
            print(f"ewp-node {args.command}: {type(exc).__name__}: {exc} (nothing changed)", file=sys.stderr)
        return 1

    return run


def _signer(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--signer-name", required=True)
    parser.add_argument("--signer-position", required=True)
    parser.add_argument("--signer-email", required=True)


def register(subparsers: Any) -> None:
    """Add ``mobility`` and ``la`` to the ``ewp-node`` command."""
    p = subparsers.add_parser("mobility", help="nominations, both directions: list, show, import, export, "
                              "approve/reject (theirs)")
    p.add_argument("home")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every mobility, one a line").set_defaults(func=_guarded(cmd_list))
    a = actions.add_parser("show", help="one mobility in the import format")
    a.add_argument("omobility_id")
    a.set_defaults(func=_guarded(cmd_show))
    a = actions.add_parser("import", help="import mobilities (docs/mobility-import-format.md), all or nothing")
    a.add_argument("file")
    a.set_defaults(func=_guarded(cmd_import))
    a = actions.add_parser("export", help="every mobility in the import format")
    a.add_argument("-o", "--output", help="file to write (default: standard output)")
    a.set_defaults(func=_guarded(cmd_export))
    a = actions.add_parser("fetch", help="fetch a partner's nominations of students it sends to us (none named: "
                           "every one its index shows us, a re-sync)")
    a.add_argument("--hei", required=True, help="the sending HEI")
    a.add_argument("omobility_ids", nargs="*", metavar="OMOBILITY_ID")
    a.set_defaults(func=_guarded(cmd_fetch))
    a = actions.add_parser("approve", help="approve a partner's nomination (through its OMobilities update)")
    a.add_argument("omobility_id")
    a.set_defaults(func=_guarded(cmd_approve))
    a = actions.add_parser("reject", help="reject a partner's nomination with a comment")
    a.add_argument("omobility_id")
    a.add_argument("--comment", required=True)
    a.set_defaults(func=_guarded(cmd_reject))

    p = subparsers.add_parser("la", help="learning agreements: show, propose (ours), fetch/approve/comment (theirs)")
    p.add_argument("home")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("show", help="the versions of one learning agreement")
    a.add_argument("omobility_id")
    a.set_defaults(func=_guarded(cmd_la_show))
    a = actions.add_parser("propose", help="put a new version of an outgoing student's LA to the receiving HEI")
    a.add_argument("omobility_id")
    a.add_argument("file", help="JSON proposal (docs/mobility-import-format.md)")
    a.set_defaults(func=_guarded(cmd_la_propose))
    a = actions.add_parser("fetch", help="fetch a partner's LAs of students it sends to us (none named: all we "
                           "know of, a re-sync)")
    a.add_argument("--hei", required=True, help="the sending HEI")
    a.add_argument("omobility_ids", nargs="*", metavar="OMOBILITY_ID")
    a.set_defaults(func=_guarded(cmd_la_fetch))
    a = actions.add_parser("approve", help="approve a partner's pending proposal (through its LA update endpoint)")
    a.add_argument("omobility_id")
    _signer(a)
    a.set_defaults(func=_guarded(cmd_la_approve))
    a = actions.add_parser("comment", help="reject a partner's pending proposal with a comment")
    a.add_argument("omobility_id")
    a.add_argument("--comment", required=True)
    _signer(a)
    a.set_defaults(func=_guarded(cmd_la_comment))
