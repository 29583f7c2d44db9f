"""The Notifications page: the outbox by state, an officer's retry and send-now, a viewer's refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from ewp_node.cnr.outbox import OutboxRow, OutboxState, enqueue, get_entry
from ewp_node.office.models import Role
from ewp_node.store.base import utc_now

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


def test_an_officer_retries_a_failed_notification_and_brings_the_queue_forward(make_node, console) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    later = utc_now() + timedelta(hours=1)
    with node.ctx.sessions.begin() as session:
        failed, waiting = enqueue(session, "iia-cnr", owner_hei="uni-a.example.eu", partner_hei="partner.example.eu",
                                  object_ids=["iia-1", "iia-2"])
        session.execute(update(OutboxRow).where(OutboxRow.id == failed)
                        .values(state=OutboxState.FAILED, attempts=1, last_status=400, last_error="refused"))
        session.execute(update(OutboxRow).where(OutboxRow.id == waiting).values(next_attempt_at=later))
    viewer = console(node.app, node.ctx, "victor", Role.VIEWER)
    page = viewer.get("/office/notifications").get_data(as_text=True)
    assert "iia-1" in page and "HTTP 400 refused" in page and "Retry" not in page
    assert viewer.post(f"/office/notifications/{failed}/retry").status_code == 403
    assert "iia-2" not in viewer.get("/office/notifications?state=failed").get_data(as_text=True)
    officer = console(node.app, node.ctx, "olga", Role.OFFICER)
    assert "Retry" in officer.get("/office/notifications").get_data(as_text=True)
    assert officer.post(f"/office/notifications/{failed}/retry").status_code == 302
    assert officer.post("/office/notifications/send-now").status_code == 302
    with node.ctx.sessions() as session:
        retried, brought = get_entry(session, failed), get_entry(session, waiting)
    assert retried is not None and retried.state is OutboxState.PENDING
    assert brought is not None and brought.next_attempt_at < later
