"""Real headless Chromium (Debian's ``chromium``) driven by Playwright against a node served on loopback.

Screenshots go to ``$EWP_SCREENSHOTS`` when set (``./dev screenshots``), else to the test's temp folder.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("EWP_CHROMIUM", "/usr/bin/chromium")
#: Flags for a root, offline, throw-away browser (no sandbox as root; no calls to Google's hosts).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
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


@pytest.fixture
def served(make_node):  # type: ignore[no-untyped-def]
    """A test node's app on a real loopback HTTP port: ``(node, base_url)``."""
    node = make_node()
    server = make_server("127.0.0.1", 0, node.app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    node.ctx.settings = dataclasses.replace(node.ctx.settings, base_url=base)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield node, base
    server.shutdown()
    thread.join(timeout=5)
