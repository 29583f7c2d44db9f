"""Storage fixtures: an empty database of each kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine

from ewp_node.store.db import alembic_config, make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind (PostgreSQL: the ``postgres_engine`` schema); left at base."""
    if request.param == "postgresql":
        engine = request.getfixturevalue("postgres_engine")
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
        request.addfinalizer(engine.dispose)
    yield engine
    command.downgrade(alembic_config(engine), "base")
