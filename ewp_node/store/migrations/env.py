"""Alembic environment: runs migrations on the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

import ewp_node.store.models  # noqa: F401  (registers every table on the metadata)
from ewp_node.store.base import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_server_default=True,
        transaction_per_migration=True,
    )
    context.run_migrations()
