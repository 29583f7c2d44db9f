"""The node's services, built once per process and shared by every request and command."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.audit import AuditRole, AuditSink
from ewp_node.config import Settings, load_settings
from ewp_node.security.keys import fingerprint, load_private_key_file
from ewp_node.store.db import make_engine, session_factory
from ewp_node.store.replay import ReplayGuard
from ewp_node.store.replay_table import ReplayTable, RequestIdGuard, TableReplayGuard, table_path

if TYPE_CHECKING:
    from ewp_node.client.monitoring import MonitoringReporter
    from ewp_node.registry.catalogue import CatalogueIndex
    from ewp_node.xml.schemas import OfficialSchemas


class CatalogueSource(Protocol):
    """Where the current registry catalogue comes from (``RegistryClient`` in production), as its users need it."""

    @property
    def index(self) -> CatalogueIndex: ...

    @property
    def last_refresh(self) -> datetime | None:
        """When the catalogue was last fetched or confirmed unchanged (None: never)."""

    @property
    def last_error(self) -> str | None:
        """Why the last refresh failed (None: it did not)."""

    def refresh(self, force: bool = False) -> bool:
        """Fetch the catalogue now (``force``: even if it is fresh); whether a usable catalogue is there."""

    def refresh_for_unknown_key(self, key_id: str) -> None:
        """Schedule an early catalogue refresh because a caller used ``key_id``; must return at once."""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop any background refresh."""


@dataclass(frozen=True)
class KeyPair:
    private: RSAPrivateKey
    key_id: str

    @classmethod
    def load(cls, path: Path) -> KeyPair:
        private = load_private_key_file(path)
        return cls(private=private, key_id=fingerprint(private.public_key()))


@dataclass
class NodeContext:
    settings: Settings
    sessions: sessionmaker[Session]
    registry: CatalogueSource
    client_key: KeyPair
    server_key: KeyPair
    audit: AuditSink
    replay: RequestIdGuard
    #: Official schemas, when ``settings.specs_dir`` is set: every response is validated before it leaves.
    schemas: OfficialSchemas | None = None
    #: Reports partners' failures to the EWP Stats Portal (Monitoring API); None: no reports (tests).
    monitoring: MonitoringReporter | None = None

    def close(self) -> None:
        """End of the node's life in this process: stop the registry refresh, flush the audit log."""
        self.registry.stop()
        self.audit.close()
        self.replay.close()

    def __enter__(self) -> NodeContext:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def journal_dir(settings: Settings) -> Path:
    """Where the audit journals of the node's processes live."""
    return settings.home / "journal"


def build_context(settings: Settings, registry: CatalogueSource | None = None, *,
                  audit_role: AuditRole = AuditRole.OWN) -> NodeContext:
    """Wire the services of a node home: database, keys, registry client, audit sink (in ``audit_role``)."""
    from ewp_node.client.pipeline import monitoring_reporter
    from ewp_node.registry.fetch import RegistryClient

    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    if registry is None:
        refresh = timedelta(seconds=settings.registry_refresh_seconds)
        registry = RegistryClient(
            settings.registry_url,
            settings.cache_dir,
            verify=str(settings.ca_bundle) if settings.ca_bundle else True,
            min_refresh_interval=min(refresh, timedelta(seconds=60)),
            max_age=refresh,
            allow_http=settings.allow_http,
        )
    schemas = None
    if settings.specs_dir is not None:
        from ewp_node.xml.schemas import OfficialSchemas

        schemas = OfficialSchemas(settings.specs_dir)
    ctx = NodeContext(
        settings=settings,
        sessions=sessions,
        registry=registry,
        client_key=KeyPair.load(settings.client_key_path),
        server_key=KeyPair.load(settings.server_key_path),
        audit=AuditSink(engine, journal_dir(settings),
                        capture_bytes=settings.exchange_capture_bytes,  # which exchanges keep one: CapturePolicy.keeps
                        role=audit_role),
        replay=replay_guard(settings.database_url),
        schemas=schemas,
    )
    ctx.monitoring = monitoring_reporter(ctx)
    return ctx


def replay_guard(database_url: str) -> RequestIdGuard:
    """The replay guard of a node on ``database_url``: the shared table of a SQLite file in front of the database
    claim, the database claim alone on PostgreSQL (whose nodes may run on several machines)."""
    # a database crash may forget the last instant of request-id claims: not worth an fsync per request
    database = ReplayGuard(make_engine(database_url, synchronous_commit=False))
    path = table_path(database_url)
    return database if path is None else TableReplayGuard(ReplayTable(path), database)


@contextmanager
def home_context(home: str | os.PathLike[str]) -> Iterator[NodeContext]:
    """The services of a node home for one command; the audit sink is closed afterwards."""
    ctx = build_context(load_settings(home))
    try:
        yield ctx
    finally:
        ctx.audit.close()
