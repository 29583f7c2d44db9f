"""``GET /health`` for load balancers, and the start-up checks ``serve`` runs before it listens."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ewp_node.preflight import NotReady, check_database, check_tls
from ewp_node.sandbox import free_port
from ewp_node.tls import SandboxCA


def test_health_ready_without_authentication(make_node) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.client.get("/health")  # no signature, no token
    assert response.status_code == 200 and response.get_json() == {"status": "ready"}
    assert "no-store" in response.headers["Cache-Control"]


def test_health_not_ready_without_catalogue_or_database(make_node) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.store.db import make_engine, session_factory

    node = make_node()
    node.ctx.registry.index = None  # no catalogue loaded yet
    response = node.client.get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "not ready", "checks": {"database": "ok", "catalogue": "failed"}}
    node.ctx.sessions = session_factory(make_engine(f"postgresql://postgres@127.0.0.1:{free_port()}/none"))
    response = node.client.get("/health")
    assert response.status_code == 503 and response.get_json()["checks"]["database"] == "failed"


def test_tls_pair_checks(tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.config import HeiConfig, Settings

    ca = SandboxCA(tmp_path / "ca")
    cert, key = ca.issue_server_certificate(tmp_path / "a")
    other_cert, _ = ca.issue_server_certificate(tmp_path / "b")
    settings = Settings(home=tmp_path, base_url="https://node.example.eu", heis=(HeiConfig("uni.example.eu", {}),))
    check_tls(settings)  # neither: plain HTTP behind a proxy
    check_tls(replace(settings, tls_cert=cert, tls_key=key))
    with pytest.raises(NotReady, match="set both"):
        check_tls(replace(settings, tls_cert=cert))
    with pytest.raises(NotReady, match="not a usable certificate and key"):
        check_tls(replace(settings, tls_cert=other_cert, tls_key=key))
    with pytest.raises(NotReady, match="tls_key .*: no such file"):
        check_tls(replace(settings, tls_cert=cert, tls_key=tmp_path / "missing.pem"))


def test_database_checks(tmp_path: Path) -> None:
    from ewp_node.store.db import make_engine, upgrade_database

    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    with pytest.raises(NotReady, match="has no ewp-node schema: run 'ewp-node migrate HOME'"):
        check_database(url, "HOME")
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    check_database(url, "HOME")
    with pytest.raises(NotReady, match=r"database postgresql://postgres:\*\*\*@127.0.0.1:\d+/none: "):
        check_database(f"postgresql://postgres:secret@127.0.0.1:{free_port()}/none", "HOME")
