"""A partner HEI on loopback that receives CNRs and counts them, for tests, benchmarks and trials.

It serves every CNR API (``POST /ewp/<api>``) and a registry catalogue naming them (``/catalogue-v1.xml``),
so a node whose ``registry_url`` points here finds the partner as it would find a real one. It answers as
scripted (:meth:`LoopbackPartner.script`): a status, ``drop`` (close the connection without an answer),
``hang`` (hold the answer until :meth:`LoopbackPartner.release`), or ``("sleep", seconds)`` then 200. It does
not sign its answers (its manifest offers TLS server authentication only) and records whether each request
came signed.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, Limit
from ewp_node.client.cnr import CNR_APIS
from ewp_node.config import HeiConfig, Settings
from ewp_node.manifest import build_manifest
from ewp_node.registry.local import CATALOGUE_PATH, build_catalogue
from ewp_node.security.keys import public_key_b64
from ewp_node.store.base import utc_now
from ewp_node.xml.ns import GH, SRVAUTH_HTTPSIG

#: The version each CNR API is published at (the major versions the network uses).
VERSIONS = {"iia-cnr": "3.0.0", "iia-approval-cnr": "2.0.0", "omobility-cnr": "1.0.0", "imobility-cnr": "1.0.0",
            "omobility-la-cnr": "1.1.0", "imobility-tor-cnr": "1.0.0"}

Answer = int | str | tuple[str, float]


@dataclass(frozen=True)
class ReceivedCnr:
    """One request the partner received."""

    api: str
    params: tuple[tuple[str, str], ...]
    signed: bool
    at: datetime
    #: What the partner did: the status it answered, ``drop``, ``hang`` or ``sleep``.
    answer: str

    @property
    def accepted(self) -> bool:
        """Answered with a 2xx at once (a held or slow answer may not have reached the caller)."""
        return self.answer.isdigit() and 200 <= int(self.answer) < 300

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.params if key == name]


def _api_spec(name: str, version: str, max_ids: int) -> ApiSpec:
    major = version.split(".")[0]
    api = next(a for a in CNR_APIS if a.name == name)
    limits = (Limit(api.max_ids_limit, max_ids),) if api.max_ids_limit else ()
    return ApiSpec(name=name, version=version,
                   namespace=f"{GH}/ewp-specs-api-{name}/blob/stable-v{major}/manifest-entry.xsd",
                   items=(Endpoint("url", name, methods=("POST",)), *limits))


class LoopbackPartner:
    """A CNR receiver for ``hei_id`` on 127.0.0.1 (a free port), until :meth:`stop`."""

    def __init__(self, hei_id: str = "partner.example.eu", *, max_ids: int = 100,
                 versions: dict[str, str] | None = None) -> None:
        self.hei_id = hei_id
        self.received: list[ReceivedCnr] = []
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.catalogue = self._build_catalogue(versions or VERSIONS, max_ids)
        self._thread = threading.Thread(target=self._server.serve_forever, name="loopback-partner", daemon=True)

    @property
    def catalogue_url(self) -> str:
        return self.base_url + CATALOGUE_PATH

    def __enter__(self) -> LoopbackPartner:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def script(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order; 200 once they are used up."""
        with self._lock:
            self._answers.extend(answers)

    def release(self) -> None:
        """Let every held (``hang``) answer go."""
        self._released.set()

    def ids(self, api: str, name: str, *, accepted_only: bool = True) -> list[str]:
        """Every value of parameter ``name`` that ``api`` received (and accepted), in arrival order, repeats
        included."""
        with self._lock:
            return [value for cnr in self.received if cnr.api == api and (cnr.accepted or not accepted_only)
                    for value in cnr.values(name)]

    # -- inside ---------------------------------------------------------------------------------------------

    def _build_catalogue(self, versions: dict[str, str], max_ids: int) -> bytes:
        keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]
        hei = HeiConfig(id=self.hei_id, names={"en": f"Loopback partner {self.hei_id}"})
        settings = Settings(home=Path("."), base_url=self.base_url, heis=(hei,), allow_http=True)
        apis = [_api_spec(name, version, max_ids) for name, version in versions.items()]
        manifest = build_manifest(settings, apis, hei, public_key_b64(keys[0].public_key()),
                                  public_key_b64(keys[1].public_key()))
        for method in manifest.iter(f"{{{SRVAUTH_HTTPSIG}}}httpsig"):  # answers unsigned: TLS server auth only
            parent = method.getparent()
            if parent is not None:
                parent.remove(method)
        return build_catalogue([etree.fromstring(etree.tostring(manifest))])

    def _next_answer(self) -> Answer:
        with self._lock:
            return self._answers.popleft() if self._answers else 200

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        partner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path != CATALOGUE_PATH:
                    self._reply(404, b"")
                    return
                self._reply(200, partner.catalogue, "application/xml")

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api = self.path.rsplit("/", 1)[-1]
                answer = partner._next_answer()
                with partner._lock:
                    partner.received.append(ReceivedCnr(
                        api=api, params=tuple(parse_qsl(body.decode(), keep_blank_values=True)),
                        signed=(self.headers.get("Authorization") or "").startswith("Signature "), at=utc_now(),
                        answer=answer[0] if isinstance(answer, tuple) else str(answer)))
                if answer == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if answer == "hang":
                    partner._released.wait(60)
                    answer = 200
                if isinstance(answer, tuple):
                    partner._released.wait(answer[1])
                    answer = 200
                status = int(answer)
                root = f"{api}-response" if status < 300 else "error-response"
                self._reply(status, f'<{root} xmlns="{GH}/ewp-specs-api-{api}"/>'.encode(), "text/xml")

            def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the caller went away (a killed worker): nothing to answer
                    self.close_connection = True

        return Handler
