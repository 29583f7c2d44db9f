"""Keeps a current :class:`CatalogueIndex`: conditional GETs, the last good copy on disk, bounded refreshes.

Spec: ewp-specs-api-registry v1.5.0 (catalogue served with ETag/Cache-Control; refresh every few minutes);
SECURITY.md (e): the catalogue is trusted through HTTPS server validation only, a stale copy may be used as a
fallback. Like the reference client: ETag, at least 60 s between refreshes, 5 min default age.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import requests

from ewp_node.files import write_atomically
from ewp_node.registry.catalogue import MAX_CATALOGUE_BYTES, CatalogueIndex
from ewp_node.registry.shared_limit import SharedRateLimit
from ewp_node.xml.parse import MalformedDocument

logger = logging.getLogger(__name__)

_BODY_FILE = "catalogue-v1.xml"
_META_FILE = "catalogue-v1.json"
_EARLY_REFRESH_FILE = "early-refresh.stamp"
#: Least time between two early-refresh attempts of one process (each reads the metadata on disk).
_EARLY_ATTEMPT_SECONDS = 1.0


class RegistryUnavailable(RuntimeError):
    """No catalogue at all: the registry never answered and there is no copy on disk."""


class _BadResponse(Exception):
    """The registry answered, but not with a usable catalogue response."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_url(url: str, allow_http: bool) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and allow_http):
        return
    raise ValueError(
        f"refusing catalogue URL {url!r}: the catalogue must come over https (it is trusted through TLS "
        "only); plain http is allowed for loopback tests with the allow_http setting"
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
        allow_http: bool = False,
        early_refresh: SharedRateLimit | None = None,
    ) -> None:
        """
        :param catalogue_url: https URL of ``catalogue-v1.xml``.
        :param cache_dir: where the last good copy and its ETag are kept.
        :param verify: TLS verification (CA bundle path or bool); turning it off hands every key to a MITM.
        :param min_refresh_interval: least time between two non-forced fetches; lowering it lets a flood of
            unknown keyIds make us hammer the registry.
        :param max_age: age after which :meth:`ensure_fresh` refetches; raising it delays key revocations.
        :param allow_http: accept a plain http URL (the node's ``allow_http`` setting: loopback tests only, the
            catalogue carries every key).
        :param early_refresh: the node-wide limit of early refreshes for unknown keys (default: one per
            ``min_refresh_interval``, shared through ``cache_dir`` by every process of the node).
        :raises ValueError: for a non-https URL (unless ``allow_http``).
        """
        _check_url(catalogue_url, allow_http)
        self.catalogue_url = catalogue_url
        self._cache_dir = Path(cache_dir)
        self._session = session or requests.Session()
        self._verify = verify
        self._min_refresh_interval = min_refresh_interval
        self._max_age = max_age
        self._clock = clock
        self._timeout = timeout
        self._early_refresh = early_refresh or SharedRateLimit(
            self._cache_dir / _EARLY_REFRESH_FILE, min_refresh_interval, clock)
        #: Held while fetching (network I/O); never needed to read the index.
        self._fetch_lock = threading.Lock()
        #: Held while the copy on disk is read or adopted.
        self._disk_lock = threading.Lock()
        #: Held by the one early-refresh thread of this process.
        self._early_lock = threading.Lock()
        self._last_early: float = 0.0
        self._index: CatalogueIndex | None = None
        #: SHA-256 of the catalogue in use, to tell whether the copy on disk is another one.
        self._sha256: str | None = None
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
        """The current index; the first use loads the copy on disk, else fetches (unless the background
        refresh runs: then requests never wait on the registry, they get :class:`RegistryUnavailable`).

        :raises RegistryUnavailable: if there is neither a copy on disk nor an answer from the registry.
        """
        if self._index is None:
            self._adopt_disk_copy()
        if self._index is None and self._thread is None:
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
        if not self._fetch_lock.acquire(blocking=force):
            return False  # another thread of this process is fetching right now
        try:
            now = self._clock()
            if not force and self._last_attempt and now - self._last_attempt < self._min_refresh_interval:
                return False
            self._last_attempt = now
            try:
                self._early_refresh.mark()  # no early refresh by any process within the interval of this one
                self._fetch(now)
            except (requests.RequestException, MalformedDocument, _BadResponse, OSError) as exc:
                self._last_error = f"{type(exc).__name__}: {exc}"
                kept = "keeping the last good catalogue" if self._index is not None else "no catalogue yet"
                logger.warning("registry refresh failed, %s: %s", kept, self._last_error)
                return False
            self._last_error = None
            self._last_refresh = now
            return True
        finally:
            self._fetch_lock.release()

    def ensure_fresh(self) -> None:
        """Refresh if the copy in use is older than ``max_age`` (rate-limited like :meth:`refresh`)."""
        self._adopt_disk_copy()
        last = self._last_refresh
        if self._index is None or last is None or self._clock() - last >= self._max_age:
            self.refresh()

    def refresh_for_unknown_key(self, key_id: str) -> None:
        """A caller used a key we do not know (it may have just been published): refresh early, in the
        background. Returns at once; the caller answers 403 now, and the key works once the registry has
        published it and the refresh landed.

        One early-refresh thread per process at a time, at most one attempt per second; the fetch itself is
        limited to one per ``min_refresh_interval`` across every process of the node (``early_refresh``).
        A process that loses that race adopts the catalogue another process saved on disk.
        """
        if self._index is not None and self._index.is_known_key(key_id):
            return
        if time.monotonic() - self._last_early < _EARLY_ATTEMPT_SECONDS or not self._early_lock.acquire(False):
            return
        self._last_early = time.monotonic()
        threading.Thread(target=self._refresh_early, name="registry-early-refresh", daemon=True).start()

    def _refresh_early(self) -> None:
        try:
            if not self._adopt_disk_copy(newer=True) and self._early_refresh.try_claim():
                self.refresh(force=True)
        except Exception:  # a background thread: log with its trace, the next unknown key tries again
            logger.exception("early catalogue refresh failed")
        finally:
            self._early_lock.release()

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
        with self._disk_lock:  # on disk first: the other processes can adopt it once we use it
            self._save_to_disk(data, etag, now)
            self._index, self._etag, self._sha256 = index, etag, hashlib.sha256(data).hexdigest()

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

    def _adopt_disk_copy(self, newer: bool = False) -> bool:
        """Adopt the last good copy on disk, if it is ours and still indexes: before any fetch succeeded, or
        (``newer``) when another process of the node saved a catalogue fetched after the one in use.

        The metadata names the body's hash; if they disagree (a torn write), the body is still a catalogue
        that indexed when it was saved, but its ETag and age are unknown, so the next refresh refetches.

        :returns: whether a copy was adopted.
        """
        with self._disk_lock:
            if self._index is not None and not newer:
                return False
            try:
                meta = json.loads((self._cache_dir / _META_FILE).read_text())
                if meta.get("url") != self.catalogue_url:
                    return False
                fetched_at = datetime.fromisoformat(meta["fetched_at"])
                if newer and (meta.get("sha256") == self._sha256 or (
                        self._last_refresh is not None and fetched_at <= self._last_refresh)):
                    return False
                data = (self._cache_dir / _BODY_FILE).read_bytes()
                index = CatalogueIndex.from_bytes(data)
            except FileNotFoundError:
                return False
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning("ignoring the catalogue copy in %s: %s", self._cache_dir, exc)
                return False
            sha256 = hashlib.sha256(data).hexdigest()
            intact = meta.get("sha256") == sha256
            self._index, self._sha256 = index, sha256
            self._last_refresh = fetched_at if intact else None
            self._etag = meta.get("etag") if intact else None
            logger.info("using the catalogue copy on disk fetched at %s", meta.get("fetched_at"))
            return True

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
