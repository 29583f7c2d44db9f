"""RegistryClient against a loopback registry: ETag/304, the copy on disk, bad documents, rate limits."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from ewp_node.registry.fetch import RegistryClient, RegistryUnavailable
from ewp_node.registry.local import build_catalogue
from ewp_node.security.keys import fingerprint


@dataclass
class FakeRegistry:
    """A WSGI registry whose answer the test controls; it counts requests and remembers If-None-Match."""

    body: bytes
    etag: str = "v1"
    status: int = 200
    seen_etags: list[str | None] = field(default_factory=list)

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        self.seen_etags.append(request.headers.get("If-None-Match"))
        if self.status == 200 and request.if_none_match.contains(self.etag):
            response = Response(status=304)
        else:
            response = Response(self.body, status=self.status, mimetype="application/xml")
        response.set_etag(self.etag)
        return response(environ, start_response)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def catalogues(rsa_keys, make_manifest) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """Two catalogues; the second adds a host whose client key is rsa_keys[2]."""
    first = [make_manifest(["a.example"], "https://a.example/ewp", rsa_keys[0], rsa_keys[1])]
    second = [*first, make_manifest(["b.example"], "https://b.example/ewp", rsa_keys[2], rsa_keys[3])]
    return build_catalogue(first), build_catalogue(second)


@pytest.fixture
def registry(serve, catalogues):  # type: ignore[no-untyped-def]
    fake = FakeRegistry(catalogues[0])
    server = serve(fake)
    return fake, server


@pytest.fixture
def clock(now: datetime) -> Clock:
    return Clock(now)


def _client(url: str, cache: Path, clock: Clock) -> RegistryClient:
    return RegistryClient(f"{url}/catalogue-v1.xml", cache, clock=clock, timeout=5, allow_http=True)


def test_etag_and_304(registry, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    client = _client(server.url, tmp_path, clock)
    assert client.refresh() is True
    first = client.index
    assert client.etag == '"v1"' and client.last_refresh == clock.now and client.last_error is None
    clock.now += timedelta(seconds=61)
    assert client.refresh() is True
    assert client.index is first
    assert fake.seen_etags == [None, '"v1"']
    assert client.last_refresh == clock.now


def test_ensure_fresh_honours_max_age(registry, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    client = _client(server.url, tmp_path, clock)
    client.ensure_fresh()
    clock.now += timedelta(minutes=4)
    client.ensure_fresh()
    assert len(fake.seen_etags) == 1
    clock.now += timedelta(minutes=2)
    client.ensure_fresh()
    assert len(fake.seen_etags) == 2


def test_disk_copy_serves_when_registry_is_down(registry, tmp_path: Path, clock: Clock, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    assert _client(server.url, tmp_path, clock).refresh() is True
    server.stop()
    later = _client(server.url, tmp_path, clock)
    assert later.index.lookup("a.example", "echo") is not None
    assert later.etag == '"v1"' and later.last_refresh == clock.now
    clock.now += timedelta(minutes=10)
    assert later.refresh(force=True) is False
    assert later.last_error and "ConnectionError" in later.last_error
    assert later.index.client_key(fingerprint(rsa_keys[0].public_key())) is not None


def test_disk_copy_of_another_url_is_ignored(registry, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    assert _client(server.url, tmp_path, clock).refresh() is True
    server.stop()
    other = RegistryClient(f"{server.url}/other.xml", tmp_path, clock=clock, timeout=5, allow_http=True)
    with pytest.raises(RegistryUnavailable):
        _ = other.index


def test_torn_disk_copy_drops_the_etag(registry, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    assert _client(server.url, tmp_path, clock).refresh() is True
    body = tmp_path / "catalogue-v1.xml"
    body.write_bytes(body.read_bytes() + b"\n")
    later = _client(server.url, tmp_path, clock)
    assert later.index.lookup("a.example", "echo") is not None
    assert later.etag is None and later.last_refresh is None


def test_bad_document_keeps_the_last_good_copy(registry, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    client = _client(server.url, tmp_path, clock)
    assert client.refresh() is True
    good, on_disk = client.index, (tmp_path / "catalogue-v1.xml").read_bytes()
    for body, status in ((b"<catalogue><oops", 200), (b"<other/>", 200), (b"down", 503)):
        fake.body, fake.status, fake.etag = body, status, f"bad-{status}-{len(body)}"
        assert client.refresh(force=True) is False
        assert client.index is good and client.etag == '"v1"'
        assert client.last_error
    assert (tmp_path / "catalogue-v1.xml").read_bytes() == on_disk


def test_new_catalogue_replaces_the_index(registry, catalogues, tmp_path: Path, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    client = _client(server.url, tmp_path, clock)
    client.refresh()
    fake.body, fake.etag = catalogues[1], "v2"
    assert client.refresh(force=True) is True
    assert client.etag == '"v2"' and client.index.lookup("b.example", "echo") is not None
    assert (tmp_path / "catalogue-v1.xml").read_bytes() == catalogues[1]


def test_unknown_key_refresh_is_rate_limited(registry, catalogues, tmp_path: Path, clock: Clock, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    client = _client(server.url, tmp_path, clock)
    client.refresh()
    new_key = fingerprint(rsa_keys[2].public_key())
    fake.body, fake.etag = catalogues[1], "v2"
    for _ in range(50):
        assert client.refresh_for_unknown_key(new_key) is False
    assert len(fake.seen_etags) == 1
    clock.now += timedelta(seconds=61)
    assert client.refresh_for_unknown_key(new_key) is True
    assert len(fake.seen_etags) == 2
    assert client.refresh_for_unknown_key(new_key) is True  # now known: no fetch at all
    for _ in range(20):
        assert client.refresh_for_unknown_key("00" * 32) is False
    assert len(fake.seen_etags) == 2


def test_no_catalogue_at_all(tmp_path: Path, clock: Clock) -> None:
    client = RegistryClient("http://127.0.0.1:9/catalogue-v1.xml", tmp_path, clock=clock, timeout=2, allow_http=True)
    with pytest.raises(RegistryUnavailable, match="no catalogue"):
        _ = client.index


@pytest.mark.parametrize("url", ["http://127.0.0.1/catalogue-v1.xml", "ftp://registry.example/c.xml"])
def test_plain_http_is_refused_without_allow_http(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="https"):
        RegistryClient(url, tmp_path)


def test_https_needs_no_allow_http(tmp_path: Path) -> None:
    RegistryClient("https://registry.example/catalogue-v1.xml", tmp_path)


def test_background_refresh_runs_and_stops(registry, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake, server = registry
    client = RegistryClient(f"{server.url}/catalogue-v1.xml", tmp_path, min_refresh_interval=timedelta(0),
                            timeout=5, allow_http=True)
    client.start_background_refresh(timedelta(milliseconds=20))
    with pytest.raises(RuntimeError):
        client.start_background_refresh(timedelta(seconds=1))
    deadline = time.monotonic() + 5
    while len(fake.seen_etags) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    client.stop()
    count = len(fake.seen_etags)
    assert count >= 3 and client.index is not None
    time.sleep(0.1)
    assert len(fake.seen_etags) == count
