"""The deployment files (deploy/): this machine builds no images, so they are linted and cross-checked here.

The compose file's services, volumes, health checks and variables must refer to things that exist; the
Containerfile copies files that exist and serves what compose expects; the entry point creates a node home on
first start; the systemd unit passes ``systemd-analyze verify``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _instructions(containerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", containerfile)
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def test_compose_services_volumes_and_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "node", "proxy"}
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, which does not exist"
            else:
                assert source in declared_volumes, f"{name} uses volume {source!r}, not declared"
        for needed, condition in (service.get("depends_on") or {}).items():
            assert needed in services, f"{name} depends on unknown service {needed!r}"
            if condition.get("condition") == "service_healthy":
                assert "healthcheck" in services[needed], f"{name} waits for {needed}'s health, which has no check"
        assert "healthcheck" in service or name == "proxy", f"{name} has no health check"
        assert service.get("restart") == "unless-stopped"
    used = {m.split(":", 1)[0] for s in services.values() for m in s.get("volumes", []) if not m.startswith(".")}
    assert used == declared_volumes, "every declared volume is used"
    node = services["node"]
    assert (DEPLOY / node["build"]["context"] / node["build"]["dockerfile"]).is_file()
    assert "/health" in " ".join(node["healthcheck"]["test"])
    assert node["environment"]["EWP_NODE_DATABASE_URL"].startswith("postgresql://ewp:")
    assert "@db:5432/ewp" in node["environment"]["EWP_NODE_DATABASE_URL"]
    database = services["db"]["environment"]
    assert database["POSTGRES_DB"] == "ewp" and database["POSTGRES_USER"] == "ewp"


def test_compose_variables_are_in_the_example_env(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    needed = set(re.findall(r"\$\{([A-Z_]+)", text))
    example = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
               if line and not line.startswith("#")}
    assert needed <= example, f"missing from env.example: {needed - example}"


def test_entrypoint_needs_only_what_compose_gives(compose: dict[str, Any]) -> None:
    script = (DEPLOY / "entrypoint.sh").read_text()
    required = set(re.findall(r"\$\{(EWP_[A-Z_]+):\?", script)) - {"EWP_NODE_HOME"}
    assert required <= set(compose["services"]["node"]["environment"]), "the node service sets what init needs"
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK)
    assert subprocess.run(["sh", "-n", str(DEPLOY / "entrypoint.sh")], check=False).returncode == 0


def test_containerfile(compose: dict[str, Any]) -> None:
    steps = _instructions((DEPLOY / "Containerfile").read_text())
    words = [word for word, _ in steps]
    assert words.count("FROM") == 2, "a build stage and a slim runtime stage"
    for word, args in steps:
        if word == "COPY" and not args.startswith("--from"):
            *sources, _target = args.split()
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: not in the repository (the build context)"
    assert dict(steps)["USER"] not in ("root", "0"), "the node does not run as root"
    assert dict(steps)["EXPOSE"] == "8080" == compose["services"]["node"]["expose"][0]
    assert "/health" in dict(steps)["HEALTHCHECK"]
    assert "ewp-node-entrypoint" in dict(steps)["ENTRYPOINT"]
    assert "reverse_proxy node:8080" in (DEPLOY / "Caddyfile").read_text()
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "deploy/.env" in ignored, "the build context leaves out the venv and secrets"
    assert not any(source.split("/")[0] in ignored for word, args in steps if word == "COPY"
                   for source in args.split()[:-1]), "nothing COPY needs is ignored"


def test_entrypoint_creates_a_home_on_first_start(tmp_path: Path) -> None:
    """The container's first start, outside a container: init from the variables, then the given command."""
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "EWP_NODE_HOME": str(tmp_path / "home"),
           "EWP_HEI_ID": "uni.example.eu", "EWP_HEI_NAME": "University of Example",
           "EWP_BASE_URL": "https://ewp.uni.example.eu", "EWP_ADMIN_EMAIL": "ewp-admin@uni.example.eu"}
    if not (bin_dir / "ewp-node").exists():
        pytest.skip(f"the ewp-node script is not installed beside {sys.executable}")
    done = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "manifest", str(tmp_path / "home")], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "<manifest" in done.stdout and "ewp-admin@uni.example.eu" in done.stdout
    assert (tmp_path / "home" / "keys" / "server-key.pem").is_file()
    again = subprocess.run(["sh", str(DEPLOY / "entrypoint.sh"), "migrate", str(tmp_path / "home")], env=env,
                           capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0 and "up to date" in again.stderr, "the second start keeps the home"


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found (Debian package 'systemd'): the unit file is not verified")
    ewp_node = Path(sys.executable).parent / "ewp-node"
    unit = (DEPLOY / "ewp-node.service").read_text()
    assert "/opt/ewp-node/venv/bin/ewp-node serve" in unit
    # verify checks that ExecStart exists: point it at this checkout's script
    local = tmp_path / "ewp-node.service"
    local.write_text(unit.replace("/opt/ewp-node/venv/bin/ewp-node", str(ewp_node)))
    done = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True, timeout=60, check=False)
    about_unit = [line for line in done.stderr.splitlines() if "ewp-node.service" in line]
    assert done.returncode == 0 and not about_unit, done.stderr
