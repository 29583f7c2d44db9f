"""Shared fixtures: the official specs folder, the official validator, a clean environment, a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
#: The official EWP XSDs, examples and vectors live beside the repository, never inside it.
SPECS_DIR = Path(os.environ.get("EWP_SPECS_DIR", REPO.parent / "shared" / "ewp-specs")).resolve()


def _require_specs() -> Path:
    if not (SPECS_DIR / "catalog.xml").is_file():
        pytest.skip(f"official EWP specs not found at {SPECS_DIR} (set EWP_SPECS_DIR): conformance check skipped")
    return SPECS_DIR


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The official specs folder (skips the test, naming the path, where it is absent)."""
    return _require_specs()


@pytest.fixture(scope="session")
def vectors_dir(specs_dir: Path) -> Path:
    return specs_dir / "vectors"


@pytest.fixture(scope="session")
def official_schemas(specs_dir: Path):  # type: ignore[no-untyped-def]
    from ewp_node.xml.schemas import OfficialSchemas

    return OfficialSchemas(specs_dir)


@pytest.fixture(scope="session")
def validate_official(official_schemas) -> Callable[[etree._Element | bytes], None]:  # type: ignore[no-untyped-def]
    """``validate_official(doc)`` fails the test with the schema errors unless ``doc`` is valid."""
    from ewp_node.xml.schemas import SchemaViolation

    def check(document: etree._Element | bytes) -> None:
        try:
            official_schemas.validate(document)
        except SchemaViolation as exc:
            pytest.fail(str(exc))

    return check


@pytest.fixture(autouse=True)
def _reset_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see the operator's ``EWP_NODE_*`` settings."""
    for name in list(os.environ):
        if name.startswith("EWP_NODE_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def now() -> datetime:
    """A fixed, timezone-aware clock value (the vectors' verification time)."""
    return datetime(2025, 1, 7, 12, 0, 30, tzinfo=timezone.utc)
