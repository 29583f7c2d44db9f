"""``ewp-node iia HOME diff|approve|adopt|sync``: the IIA actions that compare with and talk to partners.

``diff ID`` shows, field by field and in words, how the partner's copy differs from ours, what either copy
lacks (completeness) and where approvals stand; ``--fetch`` fetches the partner's copy first. ``approve ID``
approves the partner's copy as last fetched (refused while it is incomplete or its hash does not hold) and
queues the IIA Approval CNR. ``adopt PARTNER ID`` makes our copy of an agreement a partner created.
``sync`` catches up with partners (index + ``modified_since``, then approvals): run it from cron or a timer
to recover from lost CNRs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from ewp_node.client import EwpClient, PartnerUnavailable
from ewp_node.iias import repository as repo
from ewp_node.iias.approvals import approve
from ewp_node.iias.cli import Actions, UsageError, action, open_home
from ewp_node.iias.completeness import check
from ewp_node.iias.diff import compare
from ewp_node.iias.models import IiaRow
from ewp_node.iias.service import IiaChangeRefused
from ewp_node.iias.sync import CopySync, adopt, catch_up, partners_of, sync_copies
from ewp_node.registry.fetch import RegistryUnavailable
from ewp_node.security.errors import SecurityError

T = TypeVar("T")
#: What a call to a partner may fail with: no registry, no answer, a refusal, an unverifiable answer.
_CALL_FAILURES = (RegistryUnavailable, PartnerUnavailable, SecurityError)


def _our_row(session: Session, hei_id: str, iia_id: str) -> IiaRow:
    row = repo.find(session, hei_id, iia_id)
    if row is None or row.deleted_at is not None:
        raise UsageError(f"{hei_id} has no IIA {iia_id!r} (see 'ewp-node iia HOME list')")
    return row


def cmd_diff(args: argparse.Namespace) -> int:
    ctx, hei_id = open_home(args)
    try:
        with ctx.sessions() as session:
            row = _our_row(session, hei_id, args.iia_id)
            partner_hei, partner_iia_id = row.partner_hei_id, row.partner_iia_id
        if args.fetch:
            if partner_iia_id is None:
                raise UsageError(f"IIA {args.iia_id!r} is not mapped to a copy of {partner_hei} yet: "
                                 "nothing to fetch ('ewp-node iia HOME sync' finds new copies)")
            _report(_network(lambda: sync_copies(EwpClient(ctx), ctx.sessions, hei_id=hei_id,
                                                 partner_hei=partner_hei, partner_iia_ids=[partner_iia_id])))
        with ctx.sessions() as session:
            current = _our_row(session, hei_id, args.iia_id)
            state = repo.state(session, current)
            both = repo.copies(session, hei_id, args.iia_id)
            assert both is not None
            ours, theirs = both.ours, both.theirs
    finally:
        ctx.audit.close()
    print(f"IIA {state.iia_id} with {state.partner_hei_id}: {state.summary}")
    print(f"  our hash {state.iia_hash}; partner's copy "
          f"{state.partner_iia_id or '(not mapped)'}, hash {state.copy_hash or '(not fetched)'}")
    for gap in check(ours):
        print(f"  our copy lacks: {gap}")
    if theirs is None:
        for problem in state.copy_problems:
            print(f"  partner's copy breaks a rule: {problem}")
        print("  no usable copy of the partner to compare with")
        return 0
    for gap in check(theirs):
        print(f"  partner's copy lacks: {gap}")
    differences = compare(ours, theirs)
    for difference in differences:
        print(f"  {difference.text}")
    print(f"{len(differences)} difference(s)" if differences else "the two copies agree")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    ctx, hei_id = open_home(args)
    try:
        with ctx.sessions.begin() as session:
            approved = approve(session, hei_id=hei_id, iia_id=args.iia_id, by=args.by)
            row = repo.find(session, hei_id, args.iia_id)
            assert row is not None
            partner = row.partner_hei_id
    except IiaChangeRefused as exc:
        print(f"ewp-node iia approve: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.audit.close()
    print(f"approved {partner}'s copy of IIA {args.iia_id} (hash {approved}); the partner is notified by the "
          "outbox ('ewp-node cnr HOME list')")
    return 0


def cmd_adopt(args: argparse.Namespace) -> int:
    ctx, hei_id = open_home(args)
    try:
        with ctx.sessions.begin() as session:
            row = adopt(session, hei_id=hei_id, partner_hei=args.partner, partner_iia_id=args.partner_iia_id)
            iia_id = row.iia_id
    except IiaChangeRefused as exc:
        print(f"ewp-node iia adopt: refused: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.audit.close()
    print(f"created our IIA {iia_id} from {args.partner}'s copy {args.partner_iia_id}; the partner is notified")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    ctx, hei_id = open_home(args)
    status = 0
    try:
        with ctx.sessions() as session:
            partners = [args.partner] if args.partner else partners_of(session, hei_id)
        client = EwpClient(ctx)
        for partner in partners:
            try:
                caught = catch_up(client, ctx.sessions, hei_id=hei_id, partner_hei=partner, full=args.full)
            except _CALL_FAILURES as exc:
                print(f"ewp-node iia sync: {partner}: {exc}", file=sys.stderr)
                status = 1
                continue
            _report(list(caught.copies))
            for result in caught.approvals:
                verdict = "approves it as it is" if result.approves_current else (
                    "approved an earlier version" if result.approved_hash else "has not approved it")
                print(f"{partner} {verdict}: our IIA {result.iia_id}")
    finally:
        ctx.audit.close()
    return status


def _network(run: Callable[[], T]) -> T:
    """Run a call to a partner; its failure is a message for the operator."""
    try:
        return run()
    except _CALL_FAILURES as exc:
        raise UsageError(f"the partner could not be read: {exc}") from exc


def _report(results: list[CopySync]) -> None:
    for result in results:
        where = f"{result.partner_hei}'s copy {result.partner_iia_id}"
        if result.gone:
            print(f"{where}: no longer served")
            continue
        mapped = f"our IIA {result.our_iia_id}" if result.our_iia_id else "none of ours (see 'adopt')"
        problems = f"; breaks {len(result.problems)} rule(s)" if result.problems else ""
        hash_note = "" if result.hash_ok else "; its iia-hash does NOT match its content"
        print(f"{where}: fetched, matches {mapped}, {len(result.differences)} difference(s){problems}{hash_note}")


@action
def _diff(actions: Actions) -> None:
    p = actions.add_parser("diff", help="how the partner's copy differs from ours, in words")
    p.add_argument("iia_id", metavar="ID")
    p.add_argument("--fetch", action="store_true", help="fetch the partner's copy first")
    p.set_defaults(func=cmd_diff)


@action
def _approve(actions: Actions) -> None:
    p = actions.add_parser("approve", help="approve the partner's copy as last fetched (and tell the partner)")
    p.add_argument("iia_id", metavar="ID")
    p.add_argument("--by", default="operator", help="who approves (kept with the approval)")
    p.set_defaults(func=cmd_approve)


@action
def _adopt(actions: Actions) -> None:
    p = actions.add_parser("adopt", help="make our copy of an agreement the partner created")
    p.add_argument("partner", metavar="PARTNER_HEI")
    p.add_argument("partner_iia_id", metavar="PARTNER_IIA_ID")
    p.set_defaults(func=cmd_adopt)


@action
def _sync(actions: Actions) -> None:
    p = actions.add_parser("sync", help="catch up with partners: changed copies and approvals")
    p.add_argument("--partner", help="only this partner HEI")
    p.add_argument("--full", action="store_true", help="every copy, not only those changed since the last fetch")
    p.set_defaults(func=cmd_sync)
