"""The IIA approval scenario between two nodes (in-process apps, one registry, real signed calls both ways,
each node's outbox delivered by its own worker): A creates an IIA -> CNR -> B fetches it and makes its own
copy -> CNR -> A maps its copy -> approvals both ways -> both hashes approved; A edits -> B's approval no longer
matches and B's diff names the changed field -> B approves again and A sees it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from ewp_node.cnr.outbox import OutboxRow, OutboxState
from ewp_node.cnr.senders import SendServices, load_sender_modules
from ewp_node.cnr.worker import AttemptAudit, OutboxWorker
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.approvals import approve
from ewp_node.iias.diff import compare
from ewp_node.iias.models import Direction
from ewp_node.iias.records import Iia, from_data
from ewp_node.iias.sync import adopt, catch_up
from ewp_node.iias.validate import check_iia
from ewp_node.store.base import utc_now

A, B = "uni-a.example.eu", "uni-b.example.eu"
#: Upper bound of outbox passes per delivery round (each pass sends what the other node's last pass queued).
MAX_PASSES = 10


def _iia() -> Iia:
    contact = {"names": ["International office"], "emails": ["iro@uni-a.example.eu"]}
    years = {"receiving_first_academic_year_id": "2026/2027", "receiving_last_academic_year_id": "2026/2027"}
    raw: dict[str, Any] = {
        "partners": [{"hei_id": A, "iia_code": "A-1", "contacts": [contact]},
                     {"hei_id": B, "contacts": [{"names": ["Erasmus desk"], "emails": ["erasmus@uni-b.example.eu"]}]}],
        "in_effect": True,
        "conditions": [
            {"kind": "student-studies-mobility-spec", "sending_hei_id": A, "receiving_hei_id": B, **years,
             "mobilities_per_year": 2, "recommended_language_skills": [{"language": "en", "cefr_level": "B2"}],
             "subject_areas": [{"isced_f_code": "0613"}], "total_months_per_year": "5", "blended": False,
             "eqf_levels": [6]},
            {"kind": "staff-training-mobility-spec", "sending_hei_id": B, "receiving_hei_id": A, **years,
             "mobilities_per_year": 1, "total_days_per_year": "5"},
        ],
    }
    return check_iia(raw)


class Network:
    """Two nodes and a worker each; :meth:`settle` delivers both outboxes until nothing is due."""

    def __init__(self, pair) -> None:  # type: ignore[no-untyped-def]
        load_sender_modules()
        self.pair = pair
        self.workers = [self._worker(ctx) for ctx in (pair.a, pair.b)]

    def _worker(self, ctx) -> OutboxWorker:  # type: ignore[no-untyped-def]
        audit = AttemptAudit(ctx.audit.record)
        services = SendServices(client=self.pair.client(ctx, audit=audit), sessions=ctx.sessions,
                                settings=ctx.settings)
        return OutboxWorker(ctx.sessions, services, audit)

    def settle(self) -> None:
        for _ in range(MAX_PASSES):
            if sum(worker.drain() for worker in self.workers) == 0:
                break
        else:
            pytest.fail(f"the outboxes did not settle in {MAX_PASSES} passes")
        for ctx in (self.pair.a, self.pair.b):
            with ctx.sessions() as session:
                stuck = session.scalars(select(OutboxRow).where(OutboxRow.state != OutboxState.DELIVERED,
                                                                OutboxRow.state != OutboxState.MERGED)).all()
                assert [(r.kind, r.state, r.last_error) for r in stuck] == []


@pytest.mark.slow
def test_two_nodes_agree_approve_and_re_approve_after_an_edit(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair(a_heis=(A,), b_heis=(B,))
    net = Network(pair)
    # A creates the IIA: its CNR makes B fetch A's copy.
    with pair.a.sessions.begin() as session:
        a_id = service.create(session, A, _iia(), utc_now()).iia_id
    net.settle()
    with pair.b.sessions() as session:
        kept = repo.partner_copy(session, B, A, a_id)
        assert kept is not None and kept.partner_iia_id == a_id and kept.iia_pk is None
    # B makes its own copy of it (mapped to A's id) and publishes it: A fetches it and maps its own copy.
    with pair.b.sessions.begin() as session:
        b_id = adopt(session, hei_id=B, partner_hei=A, partner_iia_id=a_id, now=utc_now()).iia_id
    net.settle()
    with pair.a.sessions() as session:
        assert repo.find(session, A, a_id).partner_iia_id == b_id
    with pair.b.sessions() as session:  # B has A's mapped copy, and it says what B's copy says
        b_row = repo.find(session, B, b_id)
        a_copy = repo.copy_of(session, b_row)
        assert a_copy is not None and a_copy.iia_pk == b_row.id
        assert compare(repo.record_of(b_row), from_data(Iia, a_copy.data)) == ()
    # Approvals both ways: each side approves the other's copy, each learns of the other's approval.
    _approve_both(pair, a_id, b_id)
    net.settle()
    a_hash, b_hash = _assert_mutually_approved(pair, a_id, b_id)
    # A edits its copy: B fetches it, B's approval no longer matches, and B's diff names the field.
    with pair.a.sessions.begin() as session:
        edited = repo.record_of(repo.find(session, A, a_id))
        first = replace(edited.conditions[0], mobilities_per_year=3)
        service.edit(session, A, replace(edited, conditions=(first, *edited.conditions[1:])), utc_now())
    net.settle()
    with pair.a.sessions() as session:
        row = repo.find(session, A, a_id)
        assert row.iia_hash != a_hash
        given_by_b = repo.approval(session, row, Direction.RECEIVED)
        assert given_by_b is not None and given_by_b.iia_hash == a_hash != row.iia_hash
    with pair.b.sessions() as session:
        b_row = repo.find(session, B, b_id)
        a_copy = repo.copy_of(session, b_row)
        [difference] = compare(repo.record_of(b_row), from_data(Iia, a_copy.data))
        assert difference.field.endswith(".mobilities_per_year")
        assert "partner says 3 students/year, we say 2" in difference.text
    # B agrees (edits its copy to match) and approves A's new copy: A sees the approval of its current hash.
    with pair.b.sessions.begin() as session:
        ours = repo.record_of(repo.find(session, B, b_id))
        service.edit(session, B, replace(ours, conditions=(replace(ours.conditions[0], mobilities_per_year=3),
                                                          *ours.conditions[1:])), utc_now())
    net.settle()
    _approve_both(pair, a_id, b_id)
    net.settle()
    new_a_hash, new_b_hash = _assert_mutually_approved(pair, a_id, b_id)
    assert (new_a_hash, new_b_hash) != (a_hash, b_hash)


def _approve_both(pair, a_id: str, b_id: str) -> None:  # type: ignore[no-untyped-def]
    """Each office approves the partner's copy as last fetched."""
    for ctx, hei, iia_id in ((pair.b, B, b_id), (pair.a, A, a_id)):
        with ctx.sessions.begin() as session:
            approve(session, hei_id=hei, iia_id=iia_id, by=f"{hei} office", now=utc_now())


def _assert_mutually_approved(pair, a_id: str, b_id: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Each node holds the other's approval of its current hash; returns (A's hash, B's hash)."""
    hashes = []
    for ctx, hei, iia_id in ((pair.a, A, a_id), (pair.b, B, b_id)):
        with ctx.sessions() as session:
            row = repo.find(session, hei, iia_id)
            received = repo.approval(session, row, Direction.RECEIVED)
            given = repo.approval(session, row, Direction.GIVEN)
            copy = repo.copy_of(session, row)
            assert received is not None and received.iia_hash == row.iia_hash, f"{hei}'s copy not approved"
            assert given is not None and copy is not None and given.iia_hash == copy.iia_hash
            assert row.snapshot_hash == row.iia_hash  # the mutually approved version is kept
            hashes.append(row.iia_hash)
    return hashes[0], hashes[1]


@pytest.mark.slow
def test_lost_cnrs_are_caught_up_by_the_resync(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair(a_heis=(A,), b_heis=(B,))
    net = Network(pair)
    with pair.a.sessions.begin() as session:
        a_id = service.create(session, A, _iia(), utc_now()).iia_id
    net.settle()
    with pair.b.sessions.begin() as session:
        b_id = adopt(session, hei_id=B, partner_hei=A, partner_iia_id=a_id, now=utc_now()).iia_id
    net.settle()
    with pair.a.sessions.begin() as session:  # A approves B's copy and edits its own: neither CNR arrives
        approve(session, hei_id=A, iia_id=a_id, by="a-operator", now=utc_now())
        iia = repo.record_of(repo.find(session, A, a_id))
        service.edit(session, A, replace(iia, in_effect=False), utc_now())
        lost = session.scalars(select(OutboxRow).where(OutboxRow.state == OutboxState.PENDING)).all()
        assert sorted(row.kind for row in lost) == ["iia-approval-cnr", "iia-cnr"]
        for row in lost:
            session.delete(row)
    with pair.b.sessions() as session:
        held = repo.copies(session, B, b_id)
        assert held is not None and held.theirs is not None and held.theirs.in_effect  # still the old copy
    caught = catch_up(pair.client(pair.b), pair.b.sessions, hei_id=B, partner_hei=A)
    assert [(c.partner_iia_id, [d.field for d in c.differences]) for c in caught.copies] == [(a_id, ["in_effect"])]
    assert [(a.iia_id, a.approves_current) for a in caught.approvals] == [(b_id, True)]
    full = catch_up(pair.client(pair.b), pair.b.sessions, hei_id=B, partner_hei=A, full=True)
    assert [c.gone for c in full.copies] == [False]
