"""The worker's hourly purge of exchange captures older than ``exchange_capture_days`` (audit rows stay)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr.periodic import register_periodic
from ewp_node.config import Settings
from ewp_node.store.base import utc_now
from ewp_node.store.captures import purge_captures

PURGE_EVERY = timedelta(hours=1)


def purge_expired_captures(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Delete the headers and bodies past their retention; how many exchanges lost theirs."""
    with sessions.begin() as session:
        return purge_captures(session, utc_now() - timedelta(days=settings.exchange_capture_days))


register_periodic("exchange-capture-purge", PURGE_EVERY, purge_expired_captures)
