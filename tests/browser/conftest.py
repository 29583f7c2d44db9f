"""Real headless Chromium (Debian's ``chromium``) driven by Playwright against a node served on loopback.

Screenshots go to ``$EWP_SCREENSHOTS`` when set (``./dev screenshots``), else to the test's temp folder.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("EWP_CHROMIUM", "/usr/bin/chromium")
#: Flags for a root, offline, throw-away browser (no sandbox as root; no calls to Google's hosts).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser per test module: Playwright's sync API keeps an asyncio loop running while it lives, so it
    must be gone before later tests call ``asyncio.run``."""
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (./dev test installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


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
