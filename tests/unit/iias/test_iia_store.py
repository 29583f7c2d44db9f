"""The IIA store on SQLite and PostgreSQL: migrations agree with the models, every change of ``service``
keeps the served element and its hash right, approvals both ways lead to the snapshot, reads for the APIs
see only what the partner may see."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from lxml import etree
from sqlalchemy import select

from ewp_node.cnr import OutboxRow
from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.build import IiaStats, build_get_response, build_iia
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.parse import parse_get_response
from ewp_node.iias.records import Iia
from ewp_node.iias.validate import check_iia
from ewp_node.publish import repository as files
from ewp_node.responses import serialize
from ewp_node.store.db import alembic_config, session_factory, upgrade_database

HEI, PARTNER = "uni-a.example.eu", "partner.example.eu"
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def sessions(store_engine):  # type: ignore[no-untyped-def]
    """A migrated store holding the PDF of the test IIA (a published file shared with the partner)."""
    upgrade_database(store_engine)
    command.check(alembic_config(store_engine))  # models and migrations agree
    sessions = session_factory(store_engine)
    with sessions.begin() as session:
        pdf = {"file_id": "iia-1-pdf", "media_type": "application/pdf", "public": False, "shared_with": [PARTNER]}
        files.upsert_file(session, HEI, pdf, b"%PDF-1.7 signed agreement", T0, None)
    yield sessions
    command.downgrade(alembic_config(store_engine), "base")


def test_pdf_file_must_be_a_file_the_partner_may_fetch(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        with pytest.raises(service.IiaChangeRefused, match="is not a file of"):
            service.create(session, HEI, check_iia({**raw_iia, "pdf_file": "nope"}), T0)
        files.upsert_file(session, HEI, {"file_id": "private", "media_type": "application/pdf", "public": False,
                                         "shared_with": []}, b"%PDF", T0, None)
        with pytest.raises(service.IiaChangeRefused, match="not shared with partner.example.eu"):
            service.create(session, HEI, check_iia({**raw_iia, "pdf_file": "private"}), T0)
        assert service.create(session, HEI, check_iia(raw_iia), T0).pdf_file == "iia-1-pdf"


def _partner_copy(ours: Iia, partner_id: str = "p-77") -> bytes:
    """The partner's get-response for its copy of ``ours`` (partners swapped, our id mapped)."""
    theirs = replace(ours, partners=(replace(ours.partner, iia_id=partner_id), ours.owner))
    return serialize(build_get_response([build_iia(theirs, hash_iia(build_iia(theirs, None)).sha256)]))


def test_create_edit_and_serve(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    raw_iia["partners"][0].pop("iia_id")
    raw_iia["partners"][0].pop("iia_code")
    raw_iia["partners"][1].pop("iia_id")
    with sessions.begin() as session:
        row = service.create(session, HEI, check_iia(raw_iia), T0)
        iia_id, first_hash = row.iia_id, row.iia_hash
    assert len(iia_id) == 36  # a new UUID, and the code the get-response wants in the first partner
    with sessions() as session:
        assert repo.record_of(repo.find(session, HEI, iia_id)).owner.iia_code == iia_id
    with sessions() as session:
        [element] = repo.served_elements(session, HEI, {PARTNER}, [iia_id, "unknown"])
        assert repo.served_elements(session, HEI, {"other.example.eu"}, [iia_id]) == []  # only the partner sees it
        assert repo.visible_ids(session, HEI, {PARTNER}) == [iia_id]
        assert repo.visible_ids(session, HEI, {PARTNER}, years=[2027]) == [iia_id]
        assert repo.visible_ids(session, HEI, {PARTNER}, years=[2024, 2030]) == []
        assert repo.visible_ids(session, HEI, {PARTNER}, modified_since=T0) == []
        assert repo.visible_ids(session, HEI, {PARTNER}, modified_since=T0 - timedelta(seconds=1)) == [iia_id]
    served = etree.fromstring(element)
    assert served.findtext("{*}iia-hash") == first_hash == hash_iia(served).sha256
    with sessions.begin() as session:
        assert service.map_partner_id(session, HEI, iia_id, "p-77", T0 + timedelta(days=1))
        assert not service.map_partner_id(session, HEI, iia_id, "p-77", T0 + timedelta(days=2))
        row = repo.find(session, HEI, iia_id)
        assert row.partner_iia_id == "p-77" and row.iia_hash != first_hash  # mapping changes the hash
        assert row.modified_at == T0 + timedelta(days=1)
    with sessions.begin() as session, pytest.raises(service.IiaChangeRefused, match="already used"):
        service.create(session, HEI, repo.record_of(repo.find(session, HEI, iia_id)), T0)
    with sessions.begin() as session, pytest.raises(service.IiaChangeRefused, match="create a new IIA"):
        iia = repo.record_of(repo.find(session, HEI, iia_id))
        service.edit(session, HEI, replace(iia, partners=(iia.owner, replace(iia.partner, hei_id="x.example.eu"))),
                     T0)


def test_approvals_both_ways_snapshot_and_stats(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    ours = check_iia(raw_iia)
    with sessions.begin() as session:
        service.create(session, HEI, ours, T0)
        with pytest.raises(service.IiaChangeRefused, match="no copy of the partner"):
            service.approve_partner_copy(session, HEI, "iia-1", "operator", T0)
        [received] = parse_get_response(_partner_copy(ours))
        copy = service.save_partner_copy(session, HEI, PARTNER, received, T0)
        assert copy.iia_pk is not None and copy.data is not None
        both = repo.copies(session, HEI, "iia-1")
        assert both.ours == ours and both.theirs == received.record and both.theirs_hash == received.declared_hash
        assert repo.copies(session, HEI, "nope") is None
        assert repo.stats(session, HEI) == IiaStats(1, 0, 0, 0)
        approved = service.approve_partner_copy(session, HEI, "iia-1", "operator", T0)
        assert approved == received.declared_hash
        assert repo.stats(session, HEI) == IiaStats(1, 0, 1, 0)
        ours_hash = repo.find(session, HEI, "iia-1").iia_hash
        service.record_partner_approval(session, HEI, "iia-1", ours_hash, T0)
        assert repo.stats(session, HEI) == IiaStats(1, 0, 0, 1)
        row = repo.find(session, HEI, "iia-1")
        assert row.snapshot_hash == ours_hash and row.snapshot_at == T0
        [given] = repo.approvals_given(session, HEI, {PARTNER}, ["p-77", "p-unknown"])
        assert (given.iia_id, given.iia_hash) == ("p-77", approved)
        assert repo.approvals_given(session, HEI, {"other.example.eu"}, ["p-77"]) == []
    with sessions.begin() as session:  # an edit: the partner's approval no longer matches
        edited = replace(ours, conditions=(replace(ours.conditions[0], mobilities_per_year=3), *ours.conditions[1:]))
        assert service.edit(session, HEI, edited, T0 + timedelta(days=1))
        assert repo.stats(session, HEI) == IiaStats(1, 0, 1, 0)
        with pytest.raises(service.IiaChangeRefused, match="delete it instead|terminate it instead"):
            service.delete(session, HEI, "iia-1", T0)
        service.revert_to_snapshot(session, HEI, "iia-1", T0 + timedelta(days=2))
        assert repo.find(session, HEI, "iia-1").iia_hash == ours_hash
        assert repo.stats(session, HEI) == IiaStats(1, 0, 0, 1)
        service.terminate(session, HEI, "iia-1", T0 + timedelta(days=3))
        assert repo.record_of(repo.find(session, HEI, "iia-1")).terminated_as_a_whole


def test_tampered_or_migrated_partner_copy_is_not_approved(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    ours = check_iia(raw_iia)
    with sessions.begin() as session:
        service.create(session, HEI, ours, T0)
        tampered = _partner_copy(ours).replace(b"<mobilities-per-year>2<", b"<mobilities-per-year>9<")
        [received] = parse_get_response(tampered)
        service.save_partner_copy(session, HEI, PARTNER, received, T0)
        with pytest.raises(service.IiaChangeRefused, match="hashes to"):
            service.approve_partner_copy(session, HEI, "iia-1", "operator", T0)
        migrated = replace(ours, conditions=(replace(ours.conditions[0], mobilities_per_year_not_yet_defined=True),
                                             *ours.conditions[1:]))
        [received] = parse_get_response(_partner_copy(migrated))
        service.save_partner_copy(session, HEI, PARTNER, received, T0)
        with pytest.raises(service.IiaChangeRefused, match="cannot be approved"):
            service.approve_partner_copy(session, HEI, "iia-1", "operator", T0)
        service.partner_copy_gone(session, HEI, PARTNER, "p-77", T0 + timedelta(days=1))
        assert repo.find(session, HEI, "iia-1").partner_iia_id is None  # unmapped


def test_delete_keeps_the_id_and_hides_the_iia(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        service.create(session, HEI, check_iia(raw_iia), T0)
        service.delete(session, HEI, "iia-1", T0 + timedelta(days=1))
        assert repo.visible_ids(session, HEI, {PARTNER}) == []
        assert repo.stats(session, HEI) == IiaStats(0, 0, 0, 0)
        with pytest.raises(service.IiaChangeRefused, match="already used"):
            service.create(session, HEI, check_iia(raw_iia), T0)
        with pytest.raises(service.IiaChangeRefused, match="has no IIA"):
            service.terminate(session, HEI, "iia-1", T0)


def _outbox(session) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id))
    return [(r.kind, r.owner_hei, r.partner_hei, r.object_id) for r in rows]


def test_changes_queue_their_cnr_in_the_same_transaction(sessions, raw_iia) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.cnr.senders import registered_kinds

    assert {service.IIA_CNR, service.IIA_APPROVAL_CNR} <= registered_kinds()  # the outbox knows how to send them
    ours = check_iia(raw_iia)
    with sessions.begin() as session:
        service.create(session, HEI, ours, T0)
        assert _outbox(session) == [("iia-cnr", HEI, PARTNER, "iia-1")]
    with sessions.begin() as session:  # quick changes merge into the pending row
        assert service.edit(session, HEI, replace(ours, in_effect=False), T0)
        assert not service.edit(session, HEI, replace(ours, in_effect=False), T0)
        assert _outbox(session) == [("iia-cnr", HEI, PARTNER, "iia-1")]
    with pytest.raises(RuntimeError), sessions.begin() as session:  # a failed change queues nothing
        service.edit(session, HEI, ours, T0)
        raise RuntimeError("rolled back")
    with sessions.begin() as session:
        [received] = parse_get_response(_partner_copy(ours))
        service.save_partner_copy(session, HEI, PARTNER, received, T0)
        service.approve_partner_copy(session, HEI, "iia-1", "operator", T0)
        service.approve_partner_copy(session, HEI, "iia-1", "operator", T0)  # the same approval: no new CNR
        assert _outbox(session) == [("iia-cnr", HEI, PARTNER, "iia-1"), ("iia-approval-cnr", HEI, PARTNER, "p-77")]
