"""The worker's schedule: a daily catch-up with each IIA partner is queued once, and again a day later."""

from __future__ import annotations

from datetime import timedelta

from ewp_node.cnr.outbox import OutboxState, list_entries
from ewp_node.cnr.periodic import Schedule
from ewp_node.cnr.senders import load_sender_modules, sender_for
from ewp_node.iias.demo import load_demo_iias
from ewp_node.iias.followups import CATCH_UP_KIND
from ewp_node.store.base import utc_now


def test_a_catch_up_with_each_partner_is_queued_daily_and_merged_while_pending(make_node) -> None:  # type: ignore[no-untyped-def]
    load_sender_modules()
    node = make_node()
    load_demo_iias(node.ctx.sessions, "uni-a.example.eu", "partner.example.eu")
    start = utc_now()
    schedule = Schedule(node.ctx.sessions, node.ctx.settings, start, first_run_after=timedelta(minutes=2))
    assert schedule.run_due(start) == 0  # not at once: a starting node does not storm its partners
    assert schedule.run_due(start + timedelta(minutes=3)) == 1
    assert schedule.run_due(start + timedelta(hours=1)) == 0  # once a day
    assert schedule.run_due(start + timedelta(days=1, minutes=4)) == 1  # the pending row is reused
    with node.ctx.sessions() as session:
        rows = [e for e in list_entries(session) if e.kind == CATCH_UP_KIND]
    assert [(r.owner_hei, r.partner_hei, r.state) for r in rows] == [
        ("uni-a.example.eu", "partner.example.eu", OutboxState.PENDING)]
    assert sender_for(CATCH_UP_KIND) is not None


def test_the_sis_gets_a_registration_record_soon_after_both_approvals(make_node) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.mobilities.demo import load_demo_mobilities
    from ewp_node.tors.sis import FOLDER

    load_sender_modules()
    node = make_node()
    load_demo_mobilities(node.ctx.sessions, "uni-a.example.eu", "partner.example.eu")  # one approved
    start = utc_now()
    schedule = Schedule(node.ctx.sessions, node.ctx.settings, start, first_run_after=timedelta(seconds=0))
    assert schedule.run_due(start) == 1
    assert schedule.run_due(start + timedelta(minutes=2)) == 0  # written once
    [record] = (node.ctx.settings.home / FOLDER).glob("registration-*.json")
    assert '"esi": "urn:schac:personalUniqueCode:int:esi:' in record.read_text()
