"""A local EWP network on loopback: a registry built from the nodes' manifests, and N nodes over HTTPS.

Each node is a real ``ewp-node serve`` process (granian, TLS with a throw-away CA); the registry runs in
this process, fetches every manifest, validates it (against the official XSDs when they are found, as
the real Registry does) and serves the catalogue the nodes refresh from.

Joined homes (``--join HOME``) are an operator's own node homes served in the network too: their
configuration file is left untouched; the sandbox's URL, registry, CA and TLS files are given to them as
``EWP_NODE_*`` overrides, also written to ``DIR/join-<hei>.env`` for the operator's own commands.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

import requests
from werkzeug.serving import BaseWSGIServer, make_server

from ewp_node.config import ConfigError, load_settings
from ewp_node.home import HomeSpec, create_home
from ewp_node.registry.local import CATALOGUE_PATH, LocalRegistry
from ewp_node.tls import SandboxCA

log = logging.getLogger(__name__)

#: The demo institutions (fictional), with the demo data set each one gets.
DEMO_HEIS = (
    ("univ-valmont.fr", "Université de Valmont", "fr"),
    ("uni-nadwislanski.edu.pl", "Uniwersytet Nadwiślański", "pl"),
)
#: Seconds a node may take to come up before the sandbox gives up.
STARTUP_TIMEOUT = 60.0
#: How often the sandbox nodes refresh the catalogue (production: minutes).
REGISTRY_REFRESH_SECONDS = 2


class SandboxFailed(RuntimeError):
    """The network could not start: a node exited or stayed down, or the registry refused a manifest."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _official_specs() -> Path | None:
    candidates = [os.environ.get("EWP_SPECS_DIR"), Path(__file__).resolve().parents[2] / "shared" / "ewp-specs"]
    return next((Path(c) for c in candidates if c and (Path(c) / "catalog.xml").is_file()), None)


@dataclass
class SandboxNode:
    home: Path
    hei_id: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    #: ``EWP_NODE_*`` overrides the node is served with (joined homes only).
    overrides: dict[str, str] = field(default_factory=dict)
    #: Paths of the node's manifests (one per HEI on a multi-HEI home).
    manifest_paths: tuple[str, ...] = ("/manifest.xml",)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def joined(self) -> bool:
        return bool(self.overrides)


def _demo_hei(index: int) -> tuple[str, str, str]:
    if index < len(DEMO_HEIS):
        return DEMO_HEIS[index]
    return (f"hei-{index + 1}.sandbox.example.eu", f"Sandbox University {index + 1}", DEMO_HEIS[index % 2][2])


def _erasmus_code(index: int, dataset: str) -> dict[str, str]:
    """The demo data set's Erasmus code for the first node of each set (codes must stay unique)."""
    try:
        from ewp_node.publish.demo_data import DATASETS
    except ModuleNotFoundError:
        return {}
    return {"erasmus": DATASETS[dataset].ERASMUS_CODE} if index < len(DEMO_HEIS) else {}


class Sandbox:
    """Start with ``with Sandbox(dir, nodes=2) as sandbox:``; everything stops on exit.

    :param join: node homes of the operator's own to serve in the network besides the sandbox's nodes.
    """

    def __init__(self, directory: Path | None = None, *, nodes: int = 2, join: Sequence[Path] = ()) -> None:
        if nodes < 1:
            raise ValueError("a sandbox needs at least one node")
        self.join = tuple(Path(home).resolve() for home in join)
        #: A folder the sandbox made itself is removed when it stops; a given one is kept.
        self._owns_directory = directory is None
        self.directory = (directory or Path(tempfile.mkdtemp(prefix="ewp-sandbox-"))).resolve()
        self.count = nodes
        self.nodes: list[SandboxNode] = []
        self.registry_port = free_port()
        self.ca = SandboxCA(self.directory / "ca")
        self.specs_dir = _official_specs()
        self.registry: LocalRegistry | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def catalogue_url(self) -> str:
        return f"https://127.0.0.1:{self.registry_port}{CATALOGUE_PATH}"

    def __enter__(self) -> Sandbox:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        for index in range(self.count):
            self.nodes.append(self._prepare_node(index))
        self.nodes.extend(self._join_node(home) for home in self.join)
        registry_log = logging.getLogger("ewp_node.registry.local")
        quiet, registry_log.disabled = registry_log.disabled, True  # nodes fetch the catalogue while others boot
        try:
            self._start_registry()
            for node in self.nodes:
                self._start_node(node)
            for node in self.nodes:
                self._wait_until_up(node)
        finally:
            registry_log.disabled = quiet
        assert self.registry is not None
        errors = self.registry.rebuild()
        if errors:
            raise SandboxFailed("the sandbox registry refused manifests: " + "; ".join(errors))
        # Nodes that fetched a catalogue while others were booting see the whole network at their next
        # refresh; an unknown caller before that would get 403 (early refreshes are rate-limited).
        time.sleep(REGISTRY_REFRESH_SECONDS + 0.5)

    def _prepare_node(self, index: int) -> SandboxNode:
        hei_id, name, dataset = _demo_hei(index)
        home = self.directory / f"node-{index + 1}"
        port = free_port()
        cert, key = self.ca.issue_server_certificate(self.directory / f"node-{index + 1}-tls")
        spec = HomeSpec(hei_id=hei_id, hei_name=name, base_url=f"https://127.0.0.1:{port}",
                        registry_url=self.catalogue_url,
                        extra={"tls_cert": str(cert), "tls_key": str(key), "ca_bundle": str(self.ca.cert_path),
                               "registry_refresh_seconds": REGISTRY_REFRESH_SECONDS,
                               "admin_provider": "ewp-node sandbox"},
                        other_ids=_erasmus_code(index, dataset))
        settings = create_home(home, spec)
        self._load_demo_data(settings.home, hei_id, dataset)
        return SandboxNode(home=home, hei_id=hei_id, port=port)

    def _join_node(self, home: Path) -> SandboxNode:
        """An operator's node home, served with the sandbox's settings as overrides (its file is unchanged)."""
        settings = load_settings(home)
        hei_id = settings.heis[0].id
        if hei_id in {node.hei_id for node in self.nodes}:
            raise ConfigError(f"{home}: {hei_id} is already a node of this sandbox")
        port = free_port()
        cert, key = self.ca.issue_server_certificate(self.directory / f"join-{hei_id}-tls")
        overrides = {"EWP_NODE_BASE_URL": f"https://127.0.0.1:{port}", "EWP_NODE_REGISTRY_URL": self.catalogue_url,
                     "EWP_NODE_CA_BUNDLE": str(self.ca.cert_path), "EWP_NODE_TLS_CERT": str(cert),
                     "EWP_NODE_TLS_KEY": str(key), "EWP_NODE_REGISTRY_REFRESH_SECONDS": str(REGISTRY_REFRESH_SECONDS)}
        paths = tuple(settings.hei_prefix(h.id) + "/manifest.xml" for h in settings.heis)
        self.env_file(hei_id).write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in overrides.items()),
                                         encoding="utf-8")
        return SandboxNode(home=home, hei_id=hei_id, port=port, overrides=overrides, manifest_paths=paths)

    def env_file(self, hei_id: str) -> Path:
        """The ``EWP_NODE_*`` settings a joined home needs in this network, as a shell ``.env`` file."""
        return self.directory / f"join-{hei_id}.env"

    @staticmethod
    def _load_demo_data(home: Path, hei_id: str, dataset: str) -> None:
        try:
            from ewp_node.publish.cli import load_demo_data
        except ModuleNotFoundError:
            return
        from ewp_node.context import build_context

        load_demo_data(build_context(load_settings(home)).sessions, hei_id, dataset)

    def _start_registry(self) -> None:
        validator = None
        if self.specs_dir is not None:
            from ewp_node.xml.schemas import OfficialSchemas

            validator = OfficialSchemas(self.specs_dir).validate
        else:
            log.warning("official EWP XSDs not found: the sandbox registry checks manifests only structurally")
        self.registry = LocalRegistry([n.base_url + path for n in self.nodes for path in n.manifest_paths],
                                      verify=str(self.ca.cert_path), validator=validator, rebuild_interval=2.0)
        cert, key = self.ca.issue_server_certificate(self.directory / "registry-tls")
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the narration
        self._server = make_server("127.0.0.1", self.registry_port, self.registry.wsgi_app(), threaded=True,
                                   ssl_context=(str(cert), str(key)))
        self._thread = threading.Thread(target=self._server.serve_forever, name="sandbox-registry", daemon=True)
        self._thread.start()

    def _start_node(self, node: SandboxNode) -> None:
        log_file = open(self.directory / f"{node.home.name}.log", "ab")  # noqa: SIM115 (closed with the process)
        node.process = subprocess.Popen(
            [sys.executable, "-m", "ewp_node.cli", "serve", str(node.home), "--bind", f"127.0.0.1:{node.port}",
             "--workers", "2"],
            stdout=log_file, stderr=log_file, env={**os.environ, "PYTHONUNBUFFERED": "1", **node.overrides},
        )
        log_file.close()

    def _wait_until_up(self, node: SandboxNode) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if node.process is not None and node.process.poll() is not None:
                raise SandboxFailed(f"{node.hei_id} exited; see {self.directory / (node.home.name + '.log')}")
            try:
                if requests.get(f"{node.base_url}/manifest.xml", verify=str(self.ca.cert_path), timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SandboxFailed(f"{node.hei_id} did not come up within {STARTUP_TIMEOUT:.0f} s")

    def wait(self) -> None:
        """Block until interrupted or a node dies."""
        while all(n.process is not None and n.process.poll() is None for n in self.nodes):
            time.sleep(0.5)

    def stop(self) -> None:
        if self._server is not None:  # first: nodes going down must not make it complain
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=5)
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def describe(self, out: IO[str]) -> None:
        out.write(f"registry catalogue: {self.catalogue_url}\n")
        out.write(f"CA certificate (trust it to call the nodes): {self.ca.cert_path}\n")
        for node in self.nodes:
            out.write(f"{node.hei_id}: {node.base_url}{node.manifest_paths[0]}  (home {node.home})\n")
        for node in self.nodes:
            if node.joined:
                env, home = shlex.quote(str(self.env_file(node.hei_id))), shlex.quote(str(node.home))
                out.write(f"your node {node.hei_id} joined; call the network from it with its sandbox settings:\n"
                          f"  set -a; . {env}; set +a; ewp-node call {home} echo --hei {self.nodes[0].hei_id} "
                          "--param echo=hello\n"
                          f"and be called: ewp-node call {shlex.quote(str(self.nodes[0].home))} echo "
                          f"--hei {node.hei_id} --param echo=welcome\n")
