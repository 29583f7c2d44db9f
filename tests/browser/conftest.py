"""Real headless Chromium (Debian's ``chromium``, the ``browser`` fixture of tests/conftest.py) driven by
Playwright against a node served on loopback.

Screenshots go to ``$EWP_SCREENSHOTS`` when set (``./dev screenshots``), else to the test's temp folder.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("EWP_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def on_loopback(app: Any, ctx: Any) -> Iterator[str]:
    """Serve ``app`` on a real loopback HTTP port while inside; its node's base URL follows (cookies)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    ctx.settings = dataclasses.replace(ctx.settings, base_url=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def served(make_node):  # type: ignore[no-untyped-def]
    """A test node's app on a real loopback HTTP port: ``(node, base_url)``."""
    node = make_node()
    with on_loopback(node.app, node.ctx) as base:
        yield node, base


@pytest.fixture
def serve_on_loopback():  # type: ignore[no-untyped-def]
    """:func:`on_loopback`, for tests that serve an app of their own (a node of a pair)."""
    return on_loopback
