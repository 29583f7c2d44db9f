"""Replays are refused by every worker sharing the database (400), and a database outage is a 503 with
Retry-After and an ``<error-response>`` whose exchange still reaches the audit log (issue 7, findings 3-4)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from ewp_node.app import create_app
from ewp_node.security.httpsig import sign_request
from ewp_node.store.audit import AuditEntry
from ewp_node.store.db import make_engine
from ewp_node.store.replay import ReplayGuard

TARGET = "/ewp/echo?echo=x"


def _signed_echo(node) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return sign_request(method="GET", target=TARGET, body=b"", private_key=node.partner_key,
                        key_id=node.partner_key_id, now=datetime.now(UTC),
                        headers={"Host": node.ctx.settings.host, "Accept-Signature": "rsa-sha256"})


def _send(app, node, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return app.test_client().get(TARGET, headers=headers, base_url=node.ctx.settings.base_url)


def test_a_replay_is_refused_by_another_worker_on_the_same_database(make_node, validate_official) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    other_worker = create_app(dataclasses.replace(
        node.ctx, replay=ReplayGuard(make_engine(node.ctx.settings.database_url))))
    headers = _signed_echo(node)

    assert _send(node.app, node, headers).status_code == 200
    for app in (other_worker, node.app):
        replay = _send(app, node, headers)
        assert replay.status_code == 400
        validate_official(replay.data)
        assert replay.headers["X-EWP-Verification-Message"].startswith("replay:")


def test_a_database_outage_is_a_503_with_retry_after_and_is_audited(make_node, validate_official,  # type: ignore[no-untyped-def]
                                                                   tmp_path: Path) -> None:
    node = make_node()
    node.ctx.replay = ReplayGuard(make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"))
    headers = _signed_echo(node)

    response = _send(node.app, node, headers)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "Signature" in response.headers  # signed like every other answer
    validate_official(response.data)
    assert b"database" in response.data

    node.ctx.audit.flush()
    with node.ctx.sessions() as session:
        statuses = list(session.scalars(select(AuditEntry.status).where(
            AuditEntry.request_id == headers["X-Request-Id"])))
    assert statuses == [503]
