"""The production server: granian (Rust HTTP/1.1 and TLS) in front of the node's WSGI app.

granian reads each request head asynchronously, under a header-time bound and a header-size bound; the
ASGI bridge here (:class:`BufferedWsgi`) then reads the body asynchronously too, under a size and a time
bound, and only hands the complete request to one of the worker's threads. A slow or idle client therefore
holds a cheap connection, never a thread. What the bridge refuses itself (a body too large or too slow, too
many requests at once from one address) still goes through the app, which answers with a signed, audited
``<error-response>``. The choice and its measurements: docs/design-notes.md, "The production server".
"""

from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from cryptography.hazmat.primitives import serialization

from ewp_node.errors import REJECTED_ENVIRON_KEY, RejectedByServer

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class ServerLimits:
    """What one request may cost the server before the app sees it."""

    #: Largest request body, declared (Content-Length) or streamed (chunked): 413 beyond.
    max_body_bytes: int = 1024 * 1024
    #: Request line and headers together (granian answers a bare 414 or 431 beyond: nothing legitimate comes near).
    max_head_bytes: int = 64 * 1024
    #: Time a client has to send its request line and headers (the connection is closed after it).
    header_timeout_s: float = 10.0
    #: Time a client has to send its whole body once the headers are in: 408 after it.
    body_timeout_s: float = 10.0
    #: Requests one client address may have in one worker at once (body being read, queued or running): 429.
    max_in_flight_per_client: int = 64


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def _latin1(value: bytes) -> str:
    return value.decode("latin-1")


def _environ_key(raw_name: bytes) -> str:
    """The environ key of a request header ("" for the framing headers: the body is read whole, its length
    is ``CONTENT_LENGTH``)."""
    name = raw_name.decode("latin-1").lower()
    if name in ("content-length", "transfer-encoding"):
        return ""
    return "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")


#: Keys of the headers every EWP request carries, computed once (granian gives lower-case names).
_ENVIRON_KEYS = {name: _environ_key(name) for name in (
    b"host", b"date", b"original-date", b"digest", b"x-request-id", b"authorization", b"accept-signature",
    b"accept-encoding", b"content-type", b"content-length", b"user-agent", b"accept", b"connection")}


def wsgi_environ(scope: Message, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an ASGI HTTP ``scope`` whose body has been read whole.

    Repeated headers are joined with ``", "`` (RFC 9110 5.3, and the way draft-cavage signers join them);
    ``RAW_URI`` keeps the request target exactly as sent; ``CONTENT_LENGTH`` is the length actually read.
    """
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": "",
        "PATH_INFO": _latin1(unquote_to_bytes(raw_path) if b"%" in raw_path else raw_path),
        "QUERY_STRING": _latin1(query),
        "RAW_URI": _latin1(raw_path + (b"?" + query if query else b"")),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope.get("headers", ()):
        key = _ENVIRON_KEYS.get(raw_name) or _environ_key(raw_name)
        if key:
            value = raw_value.decode("latin-1")
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
    return environ


class BodyRefused(Exception):
    def __init__(self, rejection: RejectedByServer) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection


class ClientGone(Exception):
    pass


async def read_body(scope: Message, receive: Receive, limits: ServerLimits) -> bytes:
    """The whole request body, read without a thread.

    :raises BodyRefused: 413 when it is (or is declared) larger than allowed, 408 when it is too slow,
        400 when its declared length is not a number.
    :raises ClientGone: the client disconnected.
    """
    framing = {name.lower(): value for name, value in scope.get("headers", ())
               if name.lower() in (b"content-length", b"transfer-encoding")}
    if not framing:
        return b""  # no body (RFC 9112 6.3): most EWP requests are GETs
    declared = framing.get(b"content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BodyRefused(RejectedByServer(400, "Content-Length is not a number"))
        if int(declared) > limits.max_body_bytes:
            raise BodyRefused(RejectedByServer(413, f"request body larger than {limits.max_body_bytes} bytes"))
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limits.max_body_bytes:
                    raise BodyRefused(RejectedByServer(413, f"request body larger than {limits.max_body_bytes} bytes"))
                if chunk:
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise BodyRefused(RejectedByServer(
            408, f"the request body did not arrive within {limits.body_timeout_s:g} s")) from None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@dataclass
class _Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def call_wsgi(app: WsgiApp, environ: dict[str, Any]) -> _Answer:
    """Run the WSGI app on a complete request (in a worker thread) and collect its whole answer."""
    answer = _Answer(500, [], b"")
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        answer.status = int(status.split(" ", 1)[0])
        answer.headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return chunks.append

    iterable = app(environ, start_response)
    try:
        chunks.extend(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    answer.body = b"".join(chunks)
    return answer


class BufferedWsgi:
    """ASGI app of one worker process: builds the WSGI app at start-up (after the fork), reads each request
    whole without a thread, then runs the WSGI app on a bounded pool of threads."""

    def __init__(self, app_factory: Callable[[], WsgiApp], limits: ServerLimits, threads: int,
                 on_exit: Callable[[WsgiApp], None] | None = None) -> None:
        self._factory = app_factory
        self._limits = limits
        self._threads = threads
        self._on_exit = on_exit
        self._app: WsgiApp | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.start()
                except Exception as exc:
                    log.exception("the app failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def start(self) -> None:
        self._app = self._factory()
        self._pool = ThreadPoolExecutor(max_workers=self._threads, thread_name_prefix="ewp-request")

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._app is not None and self._on_exit is not None:
            self._on_exit(self._app)

    async def _http(self, scope: Message, receive: Receive, send: Send) -> None:
        assert self._app is not None and self._pool is not None, "lifespan start-up has not run"
        client = str((scope.get("client") or ("",))[0])
        self._in_flight[client] += 1
        try:
            crowded = self._in_flight[client] > self._limits.max_in_flight_per_client
            environ = await self._whole_request(scope, receive, crowded=crowded)
            if environ is None:
                return
            answer = await asyncio.get_running_loop().run_in_executor(self._pool, call_wsgi, self._app, environ)
        finally:
            self._in_flight[client] -= 1
            if not self._in_flight[client]:
                del self._in_flight[client]
        if REJECTED_ENVIRON_KEY in environ:
            answer.headers.append((b"connection", b"close"))  # the unread rest of the body is not worth reading
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})

    async def _whole_request(self, scope: Message, receive: Receive, *, crowded: bool) -> dict[str, Any] | None:
        """The environ of the request with its whole body, or with the refusal the app must answer (429 when
        the client is ``crowded``); None when the client left."""
        rejection = None
        body = b""
        if crowded:
            rejection = RejectedByServer(429, "too many requests at once from this address: retry later")
        else:
            try:
                body = await read_body(scope, receive, self._limits)
            except BodyRefused as refused:
                rejection = refused.rejection
            except ClientGone:
                return None
        environ = wsgi_environ(scope, body)
        if rejection is not None:
            environ[REJECTED_ENVIRON_KEY] = rejection
        return environ


def close_node(app: WsgiApp) -> None:
    """Worker exit hook: flush what the node still holds (audit entries) before the worker goes."""
    ctx = getattr(app, "extensions", {}).get("ewp_node")
    if ctx is not None:
        ctx.audit.close()


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as ``(host, port)``."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--bind wants HOST:PORT, got {bind!r}")
    return host.strip("[]"), int(port)


def pkcs8_key_file(keyfile: Path, work_dir: Path) -> Path:
    """``keyfile`` itself when it is a PKCS#8 PEM key (what granian reads), else a PKCS#8 copy of it (PKCS#1
    RSA or SEC1 EC keys, as older OpenSSL writes them) in ``work_dir``, readable by the owner only."""
    data = keyfile.read_bytes()
    if data.lstrip().startswith(b"-----BEGIN PRIVATE KEY-----"):
        return keyfile
    key = serialization.load_pem_private_key(data, password=None)
    copy = work_dir / "tls-key-pkcs8.pem"
    copy.touch(mode=0o600)
    copy.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return copy


def _raise_open_files_limit() -> None:
    """Idle connections cost a file descriptor each: allow as many as the system lets this user have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def serve(app_factory: Callable[[], WsgiApp], bind: str, *, workers: int | None = None, threads: int = 4,
          certfile: str | None = None, keyfile: str | None = None, access_log: bool = False,
          limits: ServerLimits | None = None, on_exit: Callable[[WsgiApp], None] | None = close_node) -> None:
    """Serve until interrupted (SIGINT/SIGTERM). Each worker process builds its own app (and services) after
    the fork; a worker that dies is replaced.

    :param bind: ``HOST:PORT``.
    :param certfile: PEM certificate chain for HTTPS (with ``keyfile``); plain HTTP without.
    """
    limits = limits or ServerLimits()
    host, port = parse_bind(bind)
    _raise_open_files_limit()
    # Workers are forked, as they were under gunicorn: the app factory needs no pickling (Python 3.14 would
    # otherwise default to forkserver, which granian replaces with spawn).
    multiprocessing.set_start_method("fork", force=True)
    with tempfile.TemporaryDirectory(prefix="ewp-node-serve-") as work_dir:
        key = pkcs8_key_file(Path(keyfile), Path(work_dir)) if keyfile else None
        _run_granian(app_factory, host, port, workers=workers or default_workers(), threads=threads,
                     certfile=Path(certfile) if certfile else None, keyfile=key, access_log=access_log,
                     limits=limits, on_exit=on_exit)


def _run_granian(app_factory: Callable[[], WsgiApp], host: str, port: int, *, workers: int, threads: int,
                 certfile: Path | None, keyfile: Path | None, access_log: bool, limits: ServerLimits,
                 on_exit: Callable[[WsgiApp], None] | None) -> None:
    from granian.constants import HTTPModes, Interfaces, SSLProtocols
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    server = Server(
        "ewp_node", address=host, port=port, interface=Interfaces.ASGI, workers=workers,
        http=HTTPModes.http1, websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=int(limits.header_timeout_s * 1000),
                                     max_buffer_size=limits.max_head_bytes),
        ssl_cert=certfile, ssl_key=keyfile,
        ssl_protocol_min=SSLProtocols.tls12, log_level=LogLevels.warning, log_access=access_log,
        respawn_failed_workers=True, respawn_interval=0.5, workers_kill_timeout=10,
    )
    asgi_app = BufferedWsgi(app_factory, limits, threads, on_exit)
    server.serve(target_loader=lambda: asgi_app, wrap_loader=False)
