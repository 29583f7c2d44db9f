"""``ewp-node iia HOME [--hei HEI] ACTION``: the international office's IIA commands.

Each action is one ``@action`` function that adds its parser (name, arguments, ``func``); adding one is a
few lines here or in another module (``register`` runs every registered action).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ewp_node.config import load_settings
from ewp_node.context import NodeContext

Actions = Any  # argparse's private _SubParsersAction
ACTIONS: list[Callable[[Actions], None]] = []


def action(add: Callable[[Actions], None]) -> Callable[[Actions], None]:
    """Register a function that adds one ``iia`` action to the sub-parsers it receives."""
    ACTIONS.append(add)
    return add


class UsageError(Exception):
    """The command cannot run as asked; the message says why (exit status 2)."""


def open_home(args: argparse.Namespace) -> tuple[NodeContext, str]:
    """The node's services and the covered HEI the command is about (``--hei``, default the first one)."""
    from ewp_node.context import build_context

    ctx = build_context(load_settings(args.home))
    hei_id = args.hei or ctx.settings.heis[0].id
    if hei_id not in ctx.settings.hei_ids:
        raise UsageError(f"{hei_id!r} is not covered by this node")
    return ctx, hei_id


def _years(data: dict[str, Any]) -> str:
    conditions = data.get("conditions", [])
    if not conditions:
        return "-"
    return (min(c["receiving_first_academic_year_id"] for c in conditions)[:4] + "-"
            + max(c["receiving_last_academic_year_id"] for c in conditions)[5:])


def cmd_list(args: argparse.Namespace) -> int:
    from ewp_node.iias import repository as repo

    ctx, hei_id = open_home(args)
    with ctx.sessions() as session:
        rows = repo.our_copies(session, hei_id, partner_hei_id=args.partner)
        for row in rows:
            state = repo.state(session, row)
            print(f"{row.iia_id}  {row.iia_code or '-':<16} {row.partner_hei_id:<28} {_years(row.data):<10} "
                  f"{state.summary}")
    print(f"{len(rows)} IIA(s) of {hei_id}", file=sys.stderr)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ewp_node.iias import repository as repo

    ctx, hei_id = open_home(args)
    with ctx.sessions() as session:
        row = repo.find(session, hei_id, args.iia_id)
        if row is None or row.deleted_at is not None:
            raise UsageError(f"{hei_id} has no IIA {args.iia_id!r} (see 'ewp-node iia HOME list')")
        state = repo.state(session, row)
    print(json.dumps(row.data, ensure_ascii=False, indent=1))
    print(f"state: {state.summary}; our hash {state.iia_hash}, modified {state.modified_at:%Y-%m-%d %H:%M} UTC")
    if state.copy_fetched_at is None:
        print("partner's copy: not fetched")
    else:
        print(f"partner's copy {state.partner_iia_id}: hash {state.copy_hash}, fetched "
              f"{state.copy_fetched_at:%Y-%m-%d %H:%M} UTC")
        for problem in state.copy_problems:
            print(f"  problem: {problem}")
    if state.snapshot_at is not None:
        print(f"last approved by both: {state.snapshot_at:%Y-%m-%d %H:%M} UTC")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ewp_node.iias.importer import ImportFailed, import_file

    ctx, _ = open_home(args)
    status = 0
    for name in args.files:
        try:
            print(import_file(ctx.sessions, Path(name), ctx.settings.hei_ids).summary())
        except ImportFailed as exc:
            print(f"ewp-node iia import: {name} not imported (nothing changed):\n{exc}", file=sys.stderr)
            status = 1
    return status


def cmd_export(args: argparse.Namespace) -> int:
    from ewp_node.iias.importer import export_document
    from ewp_node.publish.cli import write_json

    ctx, hei_id = open_home(args)
    with ctx.sessions() as session:
        write_json(export_document(session, hei_id), args.output)
    return 0


@action
def _list(actions: Actions) -> None:
    p = actions.add_parser("list", help="one line per IIA: id, code, partner, years, state")
    p.add_argument("--partner", help="only the IIAs with this partner HEI")
    p.set_defaults(func=cmd_list)


@action
def _show(actions: Actions) -> None:
    p = actions.add_parser("show", help="one IIA: its data, hashes, the partner's copy and approvals")
    p.add_argument("iia_id", metavar="ID")
    p.set_defaults(func=cmd_show)


@action
def _import(actions: Actions) -> None:
    p = actions.add_parser("import", help="import IIAs (JSON, docs/iia-import-format.md)",
                           description="Each file is imported completely or not at all; importing the same file "
                           "again changes nothing.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_import)


@action
def _export(actions: Actions) -> None:
    p = actions.add_parser("export", help="export the HEI's IIAs in the import format")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_export)


def _guarded(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except UsageError as exc:
            print(f"ewp-node iia {args.action}: {exc}", file=sys.stderr)
            return 2

    return run


def register(subparsers: Any) -> None:
    """Add ``iia`` and its actions to the ``ewp-node`` command."""
    parser = subparsers.add_parser("iia", help="interinstitutional agreements: list, show, import, export, diff, "
                                   "approve, adopt, sync")
    parser.add_argument("home")
    parser.add_argument("--hei", help="the covered HEI (default: the first one)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    from ewp_node.iias import cli_flows  # noqa: F401  (registers diff, approve, adopt, sync)

    for add in ACTIONS:
        add(actions)
    for sub in actions.choices.values():
        sub.set_defaults(func=_guarded(sub.get_default("func")))
