"""Cheap argon2 parameters for the console tests (production keeps the library's defaults)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher


@pytest.fixture(autouse=True)
def _fast_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ewp_node.office.accounts._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
