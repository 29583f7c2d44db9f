"""Keeps a current :class:`CatalogueIndex`: conditional GETs, the last good copy on disk, bounded refreshes.

Spec: ewp-specs-api-registry v1.5.0 (catalogue served with ETag/Cache-Control; refresh every few minutes);
SECURITY.md (e): the catalogue is trusted through HTTPS server validation only, a stale copy may be used as a
fallback. Like the reference client: ETag, at least 60 s between refreshes, 5 min default age.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

from ewp_node.files import write_atomically
from ewp_node.registry.catalogue import MAX_CATALOGUE_BYTES, CatalogueIndex
from ewp_node.xml.parse import MalformedDocument

logger = logging.getLogger(__name__)

#: Set to "1" to allow a plain-http catalogue URL: loopback tests only, the catalogue carries every key.
ALLOW_HTTP_ENV = "EWP_NODE_ALLOW_HTTP"
_BODY_FILE = "catalogue-v1.xml"
_META_FILE = "catalogue-v1.json"


class RegistryUnavailable(RuntimeError):
    """No catalogue at all: the registry never answered and there is no copy on disk."""


class _BadResponse(Exception):
    """The registry answered, but not with a usable catalogue response."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_url(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and os.environ.get(ALLOW_HTTP_ENV) == "1"):
        return
    raise ValueError(
        f"refusing catalogue URL {url!r}: the catalogue must come over https (it is trusted through TLS "
        f"only); plain http is allowed for loopback tests with {ALLOW_HTTP_ENV}=1"
    )


class RegistryClient:
    """The node's view of the Registry catalogue, safe to share between threads."""

    def __init__(
        self,
        catalogue_url: str,
        cache_dir: Path,
        *,
        session: requests.Session | None = None,
        verify: str | bool = True,
        min_refresh_interval: timedelta = timedelta(seconds=60),
        max_age: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] = _utcnow,
        timeout: float = 30.0,
    ) -> None:
        """
        :param catalogue_url: https URL of ``catalogue-v1.xml``.
        :param cache_dir: where the last good copy and its ETag are kept.
        :param verify: TLS verification (CA bundle path or bool); turning it off hands every key to a MITM.
        :param min_refresh_interval: least time between two non-forced fetches; lowering it lets a flood of
            unknown keyIds make us hammer the registry.
        :param max_age: age after which :meth:`ensure_fresh` refetches; raising it delays key revocations.
        :raises ValueError: for a non-https URL (unless ``EWP_NODE_ALLOW_HTTP=1``).
        """
        _check_url(catalogue_url)
        self.catalogue_url = catalogue_url
        self._cache_dir = Path(cache_dir)
        self._session = session or requests.Session()
        self._verify = verify
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._index: CatalogueIndex | None = None
        self._etag: str | None = None
        self._last_refresh: datetime | None = None
        self._last_attempt: datetime | None = None
        self._last_error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- status -----------------------------------------------------------------------------------------

    @property
    def last_refresh(self) -> datetime | None:
        """When the registry last confirmed (304) or replaced (200) the copy in use."""
        return self._last_refresh

    @property
    def last_error(self) -> str | None:
        """The last refresh failure, cleared by the next success."""
        return self._last_error

    @property
    def etag(self) -> str | None:
        return self._etag

    @property
    def index(self) -> CatalogueIndex:
        """The current index; the first use loads the copy on disk, else fetches.

        :raises RegistryUnavailable: if there is neither a copy on disk nor an answer from the registry.
        """
        if self._index is None:
            self._adopt_disk_copy()
        if self._index is None:
            self.refresh()
        index = self._index
        if index is None:
            raise RegistryUnavailable(f"no catalogue: {self._last_error or 'registry not reached yet'}")
        return index

    # -- refreshing -------------------------------------------------------------------------------------

    def refresh(self, force: bool = False) -> bool:
        """Conditional GET of the catalogue; a new one is indexed before it replaces the current copy.

        :param force: fetch even if the last attempt was less than ``min_refresh_interval`` ago.
        :returns: True if the registry confirmed (304) or replaced (200) the copy; False if skipped by the
            rate limit or failed (the last good copy stays in use, ``last_error`` says why).
        """
        with self._lock:
            now = self._clock()
            if not force and self._last_attempt and now - self._last_attempt < self._min_refresh_interval:
                return False
            self._last_attempt = now
            try:
                self._fetch(now)
            except (requests.RequestException, MalformedDocument, _BadResponse) as exc:
                self._last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("registry refresh failed, keeping the last good catalogue: %s", self._last_error)
                return False
            self._last_error = None
            self._last_refresh = now
            return True

    def ensure_fresh(self) -> None:
        """Refresh if the copy in use is older than ``max_age`` (rate-limited like :meth:`refresh`)."""
        self._adopt_disk_copy()
        last = self._last_refresh
        if self._index is None or last is None or self._clock() - last >= self._max_age:
            self.refresh()

    def refresh_for_unknown_key(self, key_id: str) -> bool:
        """Refresh early because a caller used a key we do not know (it may have just been published).

        Rate-limited by ``min_refresh_interval``, so a flood of unknown keys cannot hammer the registry.

        :returns: whether the key is known after this call.
        """
        if self._index is not None and self._index.is_known_key(key_id):
            return True
        self.refresh()
        return self._index is not None and self._index.is_known_key(key_id)

    def _fetch(self, now: datetime) -> None:
        headers = {"Accept": "application/xml"}
        if self._etag and self._index is not None:
            headers["If-None-Match"] = self._etag
        with self._session.get(
            self.catalogue_url,
            headers=headers,
            timeout=self._timeout,
            verify=self._verify,
            stream=True,
            allow_redirects=False,  # a redirect could leave https; the catalogue URL is fixed
        ) as response:
            if response.status_code == 304 and self._index is not None:
                return
            if response.status_code != 200:
                raise _BadResponse(f"HTTP {response.status_code} from {self.catalogue_url}")
            data = self._read_bounded(response)
            etag = response.headers.get("ETag")
        index = CatalogueIndex.from_bytes(data)
        self._index, self._etag = index, etag
        self._save_to_disk(data, etag, now)

    @staticmethod
    def _read_bounded(response: requests.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=1 << 20):
            size += len(chunk)
            if size > MAX_CATALOGUE_BYTES:
                raise _BadResponse(f"catalogue larger than {MAX_CATALOGUE_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    # -- the copy on disk -------------------------------------------------------------------------------

    def _save_to_disk(self, data: bytes, etag: str | None, fetched_at: datetime) -> None:
        """Body first, then metadata naming the body's hash: a torn pair is detected on load."""
        meta = {
            "url": self.catalogue_url,
            "etag": etag,
            "sha256": hashlib.sha256(data).hexdigest(),
            "fetched_at": fetched_at.isoformat(),
        }
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(self._cache_dir / _BODY_FILE, data)
            write_atomically(self._cache_dir / _META_FILE, json.dumps(meta).encode())
        except OSError as exc:
            logger.warning("could not keep the catalogue on disk in %s: %s", self._cache_dir, exc)

    def _adopt_disk_copy(self) -> None:
        """Before any fetch succeeded: adopt the last good copy on disk, if it is ours and still indexes.

        The metadata names the body's hash; if they disagree (a torn write), the body is still a catalogue
        that indexed when it was saved, but its ETag and age are unknown, so the next refresh refetches.
        """
        with self._lock:
            if self._index is not None:
                return
            try:
                data = (self._cache_dir / _BODY_FILE).read_bytes()
                meta = json.loads((self._cache_dir / _META_FILE).read_text())
                if meta.get("url") != self.catalogue_url:
                    return
                index = CatalogueIndex.from_bytes(data)
                intact = meta.get("sha256") == hashlib.sha256(data).hexdigest()
                fetched_at = datetime.fromisoformat(meta["fetched_at"]) if intact else None
            except FileNotFoundError:
                return
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning("ignoring the catalogue copy in %s: %s", self._cache_dir, exc)
                return
            self._index, self._last_refresh = index, fetched_at
            self._etag = meta.get("etag") if intact else None
            logger.info("using the catalogue copy on disk fetched at %s", meta.get("fetched_at"))

    # -- background -------------------------------------------------------------------------------------

    def start_background_refresh(self, interval: timedelta) -> None:
        """Refresh every ``interval`` in a daemon thread until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("background refresh already started")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(interval.total_seconds(),), name="registry-refresh", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:  # keep the daemon alive; logged with its trace
                logger.exception("unexpected error in the registry refresh thread")
            self._stop.wait(interval)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread, waiting at most ``timeout`` seconds for it."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
