"""The IIA approval scenario of ``ewp-node demo``, played by the two sandbox nodes' international offices.

The offices act on their node's database (as ``ewp-node iia HOME ...`` does); everything between the nodes
goes through the network: the outbox workers that ``serve`` runs send the IIA CNRs and run the follow-up
fetches. Each step waits (bounded, :func:`ewp_node.demo.wait_for`) until what it expects is visible in the node's store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

from ewp_node.config import load_settings
from ewp_node.context import NodeContext, build_context
from ewp_node.demo import Step, play_until_failure, wait_for
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.approvals import approve
from ewp_node.iias.demo import demo_iia_id, load_demo_iias
from ewp_node.iias.diff import Difference, compare
from ewp_node.iias.repository import IiaState
from ewp_node.sandbox import SandboxNode
from ewp_node.store.base import utc_now


class Office:
    """One node's international office: its HEI, its store, and its agreement number 1 with the other."""

    def __init__(self, node: SandboxNode, partner: SandboxNode) -> None:
        self.hei_id, self.partner_hei = node.hei_id, partner.hei_id
        self.ctx: NodeContext = build_context(load_settings(node.home))
        self.iia_id = demo_iia_id(node.hei_id, partner.hei_id, 1)

    def close(self) -> None:
        self.ctx.audit.close()

    def state(self) -> IiaState:
        with self.ctx.sessions() as session:
            row = repo.find(session, self.hei_id, self.iia_id)
            assert row is not None
            return repo.state(session, row)

    def differences(self) -> tuple[Difference, ...]:
        """Our copy against the partner's copy as last fetched (empty when there is none to compare)."""
        with self.ctx.sessions() as session:
            both = repo.copies(session, self.hei_id, self.iia_id)
        return compare(both.ours, both.theirs) if both is not None and both.theirs is not None else ()

    def approve(self) -> str:
        with self.ctx.sessions.begin() as session:
            return approve(session, hei_id=self.hei_id, iia_id=self.iia_id, by="demo office")

    def edit_first_condition(self, mobilities: int) -> None:
        with self.ctx.sessions.begin() as session:
            row = repo.find(session, self.hei_id, self.iia_id)
            assert row is not None
            iia = repo.record_of(row)
            first = replace(iia.conditions[0], mobilities_per_year=mobilities)
            service.edit(session, self.hei_id, replace(iia, conditions=(first, *iia.conditions[1:])), utc_now())


def _wait(offices: tuple[Office, Office], condition: Callable[[], bool]) -> bool:
    return wait_for((office.ctx for office in offices), condition)


def _both_approved(a: Office, b: Office) -> bool:
    return all(s.partner_approved and s.we_approved for s in (a.state(), b.state()))


def play(node_a: SandboxNode, node_b: SandboxNode, narrate: Callable[[Step], None]) -> list[Step]:
    """Run the scenario, narrating each step as it ends; stops at the first step that does not hold."""
    a, b = Office(node_a, node_b), Office(node_b, node_a)
    offices = (a, b)
    try:
        return play_until_failure([partial(step, a, b, offices)
                                   for step in (_record, _exchange, _approve_both, _edit, _re_approve)], narrate)
    finally:
        for office in offices:
            office.close()


def _record(a: Office, b: Office, offices: tuple[Office, Office]) -> Step:
    for office in offices:
        load_demo_iias(office.ctx.sessions, office.hei_id, office.partner_hei)
    states = [office.state() for office in offices]
    detail = "; ".join(f"{o.hei_id} copy {s.iia_id}, hash {s.iia_hash[:12]}…"
                       for o, s in zip(offices, states, strict=True))
    return Step("IIAs: each office records its copy of agreement 1 (the node queues an IIA CNR)",
                all(s.partner_iia_id for s in states), detail)


def _exchange(a: Office, b: Office, offices: tuple[Office, Office]) -> Step:
    held = _wait(offices, lambda: all(o.state().copy_fetched_at is not None for o in offices))
    differences = [office.differences() for office in offices]
    detail = "; ".join(f"{o.hei_id} fetched {o.partner_hei}'s copy: "
                       f"{'the copies agree' if not d else f'{len(d)} difference(s)'}"
                       for o, d in zip(offices, differences, strict=True))
    return Step("IIAs: CNRs delivered, each node fetched the other's copy (signed get) and compared it",
                held and not any(differences), detail)


def _approve_both(a: Office, b: Office, offices: tuple[Office, Office]) -> Step:
    hashes = [office.approve() for office in offices]
    held = _wait(offices, lambda: _both_approved(a, b))
    return Step("IIAs: each office approves the other's copy (IIA Approval CNR -> IIAs Approval API)", held,
                f"{a.hei_id} approved hash {hashes[0][:12]}…, {b.hei_id} approved hash {hashes[1][:12]}…; "
                f"{a.hei_id}: {a.state().summary}; {b.hei_id}: {b.state().summary}")


def _edit(a: Office, b: Office, offices: tuple[Office, Office]) -> Step:
    before = b.state().copy_hash
    a.edit_first_condition(_first_mobilities(a) + 1)
    held = _wait(offices, lambda: b.state().copy_hash != before)
    differences = b.differences()
    stale = not a.state().partner_approved
    return Step(f"IIAs: {a.hei_id} edits agreement 1; {b.hei_id}'s diff names the change and its approval "
                "no longer matches", held and stale and len(differences) == 1,
                " / ".join(d.text for d in differences) + f"; {a.hei_id}: {a.state().summary}")


def _re_approve(a: Office, b: Office, offices: tuple[Office, Office]) -> Step:
    before = a.state().copy_hash
    b.edit_first_condition(_first_mobilities(a))  # B agrees: its copy says the same again
    fetched = _wait(offices, lambda: a.state().copy_hash != before and not b.differences())
    for office in offices:
        office.approve()
    held = fetched and _wait(offices, lambda: _both_approved(a, b))
    return Step(f"IIAs: {b.hei_id} takes the change over, both approve again", held,
                f"{a.hei_id}: {a.state().summary}; {b.hei_id}: {b.state().summary}")


def _first_mobilities(office: Office) -> int:
    with office.ctx.sessions() as session:
        row = repo.find(session, office.hei_id, office.iia_id)
        assert row is not None
        return repo.record_of(row).conditions[0].mobilities_per_year
