"""A registry that accepts TCP and never answers must not hold any request (issue 7, finding 2).

The node runs the real security chain with a real ``RegistryClient`` whose registry is a loopback socket that
can be switched from answering to hanging. Unknown keys get 403 at once while the early refresh they ask for
hangs in the background; a node with no catalogue yet answers 503 at once.
"""

from __future__ import annotations

import copy
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from ewp_node.registry.fetch import RegistryClient
from ewp_node.registry.local import CATALOGUE_PATH

#: A request must be answered within this (the hanging registry's fetch timeout is 30 s).
PROMPT = 2.0


class SwitchableRegistry:
    """Serves ``body`` at the catalogue path until :attr:`hanging` is set; then accepts and never answers."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.hanging = threading.Event()
        self.held: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}{CATALOGUE_PATH}"
        threading.Thread(target=self._accept, name="switchable-registry", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            if self.hanging.is_set():
                self.held.append(connection)
                continue
            with connection:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(4096)
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {len(self.body)}\r\n"
                connection.sendall(head.encode() + b"Connection: close\r\n\r\n" + self.body)

    def close(self) -> None:
        self._listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture
def stalled(make_node, tmp_path: Path) -> Iterator[tuple]:  # type: ignore[type-arg]
    """A node whose catalogue came from a registry that now hangs: ``(node, registry, client)``; no rate limit,
    so the first unknown key starts an early refresh that hangs."""
    node = make_node(validate=False)
    registry = SwitchableRegistry(node.ctx.registry.catalogue)
    client = RegistryClient(registry.url, tmp_path / "cache", timeout=30, min_refresh_interval=timedelta(0),
                            allow_http=True)
    assert client.refresh(force=True)
    registry.hanging.set()
    node.ctx.registry = client
    yield node, registry, client
    client.stop(timeout=0.1)
    registry.close()


def _with_key_id(node, key_id: str):  # type: ignore[no-untyped-def]
    """A signed Echo whose Authorization names ``key_id`` (a key nobody published; the signature is garbage)."""
    sender = copy.copy(node)
    sender.client = node.app.test_client()
    original = sender.client.open

    def send(*args, headers, **kwargs):  # type: ignore[no-untyped-def]
        headers = {**headers, "Authorization": re.sub(r'keyId="[^"]*"', f'keyId="{key_id}"',
                                                      headers["Authorization"])}
        return original(*args, headers=headers, **kwargs)

    sender.client.open = send
    return sender.call("GET", "/ewp/echo", [("echo", "x")])


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    response = call()
    return response.status_code, time.monotonic() - started


def test_unknown_keys_get_403_at_once_while_the_registry_hangs(stalled) -> None:  # type: ignore[no-untyped-def]
    node, registry, _client = stalled
    flood = [uuid.uuid4().hex + uuid.uuid4().hex for _ in range(16)]
    with ThreadPoolExecutor(max_workers=17) as pool:
        unknown = [pool.submit(_timed, lambda k=key_id: _with_key_id(node, k)) for key_id in flood]
        time.sleep(0.2)  # the early refresh is hanging by now
        known = pool.submit(_timed, lambda: copy.copy(node).call("GET", "/ewp/echo", [("echo", "x")]))
        results = [future.result(timeout=30) for future in unknown]
        known_status, known_seconds = known.result(timeout=30)
    assert {status for status, _ in results} == {403}
    assert max(seconds for _, seconds in results) < PROMPT
    assert known_status == 200 and known_seconds < PROMPT
    assert registry.held, "the unknown keys asked for an early refresh, which is hanging in the background"


def test_a_node_without_a_catalogue_answers_503_at_once(stalled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    node, registry, _client = stalled
    empty = RegistryClient(registry.url, tmp_path / "empty-cache", timeout=30, allow_http=True)
    empty.start_background_refresh(timedelta(minutes=5))
    node.ctx.registry = empty
    try:
        time.sleep(0.2)  # the first fetch is hanging
        status, seconds = _timed(lambda: node.call("GET", "/ewp/echo", [("echo", "x")]))
    finally:
        empty.stop(timeout=0.1)
    assert status == 503 and seconds < PROMPT
