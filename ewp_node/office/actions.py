"""The console's own audit trail: every action a user takes, with the user's name (never a password)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.office.models import OfficeAction
from ewp_node.store.base import utc_now


def record_action(sessions: sessionmaker[Session], user: str, action: str, target: str, outcome: str) -> None:
    """Write one action at once, in its own transaction (it must stay even when the action failed)."""
    with sessions.begin() as session:
        session.add(OfficeAction(at=utc_now(), user_name=user[:64], action=action[:64], target=target[:500],
                                 outcome=outcome[:500]))


def recent_actions(session: Session, limit: int = 20) -> list[OfficeAction]:
    return list(session.scalars(select(OfficeAction).order_by(OfficeAction.id.desc()).limit(limit)))
