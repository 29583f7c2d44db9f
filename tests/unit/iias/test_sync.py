"""The client flows over the store (SQLite and PostgreSQL): a fetched partner copy is kept, linked to ours,
mapped and compared; a copy no longer served is gone; adopting a partner's copy; approving one (refused while
incomplete or tampered) queues the IIA Approval CNR in the same transaction."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ewp_node.cnr.outbox import OutboxRow
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.approvals import approve
from ewp_node.iias.build import build_get_response, build_iia
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.parse import ReceivedIia, parse_get_response
from ewp_node.iias.records import Iia
from ewp_node.iias.sync import adopt, store_copies
from ewp_node.iias.validate import check_iia
from ewp_node.responses import serialize
from ewp_node.store.db import session_factory, upgrade_database

HEI, PARTNER = "uni-a.example.eu", "partner.example.eu"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def sessions(store_engine):  # type: ignore[no-untyped-def]
    upgrade_database(store_engine)
    return session_factory(store_engine)


@pytest.fixture
def raw_iia(raw_iia: dict[str, Any]) -> dict[str, Any]:
    """The shared raw IIA without its PDF (no file is imported in these tests)."""
    raw_iia.pop("pdf_file")
    return raw_iia


def _served_by_partner(theirs: Iia, *, declared_hash: str | None = None) -> list[ReceivedIia]:
    """What the partner's get answers for its copy ``theirs`` (its hash declared, or the one given)."""
    iia_hash = declared_hash or hash_iia(build_iia(theirs, None)).sha256
    return parse_get_response(serialize(build_get_response([build_iia(theirs, iia_hash)])))


def _mirror(ours: Iia, partner_id: str = "p-77", names_ours: bool = True) -> Iia:
    owner = replace(ours.owner, iia_id=ours.owner.iia_id if names_ours else None)
    return replace(ours, partners=(replace(ours.partner, iia_id=partner_id), owner), pdf_file=None)


def _unmapped(raw_iia: dict[str, Any]) -> Iia:
    raw_iia["partners"][1].pop("iia_id")
    return check_iia(raw_iia)


def test_a_fetched_copy_is_linked_mapped_and_compared(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    ours = _unmapped(raw_iia)
    theirs = _mirror(ours)
    theirs = replace(theirs, conditions=(replace(theirs.conditions[0], mobilities_per_year=3), *theirs.conditions[1:]))
    with sessions.begin() as session:
        first_hash = service.create(session, HEI, ours, T0).iia_hash
        [result] = store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"],
                                received=_served_by_partner(theirs), now=T0)
    assert (result.partner_iia_id, result.our_iia_id, result.hash_ok, result.gone) == ("p-77", "iia-1", True, False)
    assert [d.text for d in result.differences] == [
        "student studies uni-a.example.eu→partner.example.eu (sci), 2025/2026-2027/2028: "
        "partner says 3 students/year, we say 2"]
    with sessions() as session:
        row = repo.find(session, HEI, "iia-1")
        assert row.partner_iia_id == "p-77" and row.iia_hash != first_hash  # mapped: our hash changed
        copy = repo.copy_of(session, row)
        assert copy is not None and copy.partner_iia_id == "p-77"


def test_a_wrong_declared_hash_and_a_copy_no_longer_served(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    ours = _unmapped(raw_iia)
    with sessions.begin() as session:
        service.create(session, HEI, ours, T0)
        [result] = store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"],
                                received=_served_by_partner(_mirror(ours), declared_hash="0" * 64), now=T0)
        assert not result.hash_ok and result.differences == ()
        [gone] = store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"], received=[],
                              now=T0 + timedelta(days=1))
        assert gone.gone
        assert repo.find(session, HEI, "iia-1").partner_iia_id is None  # unmapped again


def test_adopting_a_partner_copy_makes_ours_mapped_to_it(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    theirs = _mirror(check_iia(raw_iia), names_ours=False)
    with sessions.begin() as session:
        [result] = store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"],
                                received=_served_by_partner(theirs), now=T0)
        assert result.our_iia_id is None
        row = adopt(session, hei_id=HEI, partner_hei=PARTNER, partner_iia_id="p-77", now=T0)
        ours = repo.record_of(row)
        assert [p.hei_id for p in ours.partners] == [HEI, PARTNER]
        assert ours.partner.iia_id == "p-77" and ours.owner.iia_id == row.iia_id
        assert ours.conditions == theirs.conditions
        assert repo.copy_of(session, row) is not None
        with pytest.raises(service.IiaChangeRefused, match="already mapped to our IIA"):
            adopt(session, hei_id=HEI, partner_hei=PARTNER, partner_iia_id="p-77", now=T0)
        with pytest.raises(service.IiaChangeRefused, match="sync it first"):
            adopt(session, hei_id=HEI, partner_hei=PARTNER, partner_iia_id="p-78", now=T0)


def test_approving_checks_completeness_and_queues_the_cnr(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    ours = check_iia(raw_iia)
    incomplete = _mirror(ours)
    incomplete = replace(incomplete, partners=(replace(incomplete.partners[0], contacts=()), incomplete.partners[1]))
    with sessions.begin() as session:
        service.create(session, HEI, ours, T0)
        store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"],
                     received=_served_by_partner(incomplete), now=T0)
        with pytest.raises(service.IiaChangeRefused, match=r"not complete: partners\[partner.example.eu\].contacts"):
            approve(session, hei_id=HEI, iia_id="iia-1", by="operator", now=T0)
        store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"],
                     received=_served_by_partner(_mirror(ours), declared_hash="f" * 64), now=T0)
        with pytest.raises(service.IiaChangeRefused, match="hashes to"):
            approve(session, hei_id=HEI, iia_id="iia-1", by="operator", now=T0)
        assert session.scalars(select(OutboxRow).where(OutboxRow.kind == "iia-approval-cnr")).all() == []
    served = _served_by_partner(_mirror(ours))
    with sessions.begin() as session:
        store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"], received=served, now=T0)
        assert approve(session, hei_id=HEI, iia_id="iia-1", by="operator", now=T0) == served[0].declared_hash
    with sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.kind == "iia-approval-cnr")).all()
        assert [(r.owner_hei, r.partner_hei, r.object_id) for r in rows] == [(HEI, PARTNER, "p-77")]


def test_each_change_to_our_copy_queues_its_cnr_once(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    ours = check_iia(raw_iia)
    with sessions.begin() as session:
        service.create(session, HEI, ours, T0)
        service.edit(session, HEI, replace(ours, in_effect=False), T0 + timedelta(minutes=1))
        assert not service.edit(session, HEI, replace(ours, in_effect=False), T0 + timedelta(minutes=2))
    with sessions() as session:
        rows = session.scalars(select(OutboxRow).where(OutboxRow.kind == "iia-cnr")).all()
        assert [(r.owner_hei, r.partner_hei, r.object_id) for r in rows] == [(HEI, PARTNER, "iia-1")]  # merged


def test_a_copy_between_other_heis_is_kept_raw_only(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    """A partner cannot make us hold (nor adopt) an agreement that is not between it and us."""
    other = json.loads(json.dumps(raw_iia).replace(PARTNER, "other.example.eu"))
    forged = _mirror(check_iia(other), names_ours=False)
    with sessions.begin() as session:
        [result] = store_copies(session, hei_id=HEI, partner_hei=PARTNER, asked=["p-77"],
                                received=_served_by_partner(forged), now=T0)
        assert result.our_iia_id is None
        assert result.problems[-1].startswith(f"served by {PARTNER} but its partners are other.example.eu")
        with pytest.raises(service.IiaChangeRefused, match="sync it first"):
            adopt(session, hei_id=HEI, partner_hei=PARTNER, partner_iia_id="p-77", now=T0)
