"""``ewp-node sandbox --join HOME``: a newcomer's own node home joins the local network; it calls the sandbox
nodes and they call it back, through the sandbox registry, over HTTPS with signatures both ways."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from ewp_node.client import EwpClient
from ewp_node.config import load_settings
from ewp_node.context import NodeContext, build_context
from ewp_node.home import HomeSpec, create_home
from ewp_node.sandbox import DEMO_HEIS, Sandbox

pytestmark = pytest.mark.slow  # two serve nodes start and stop

NEWCOMER = "newcomer.example.eu"


def env_file_values(path: Path) -> dict[str, str]:
    """The ``KEY=value`` lines of the sandbox's .env file (values are shell-quoted)."""
    import shlex

    return dict(line.split("=", 1) for line in (shlex.split(raw)[0] for raw in path.read_text().splitlines()))


@pytest.fixture(scope="module")
def joined(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    base = tmp_path_factory.mktemp("join")
    home = base / "my-node"
    create_home(home, HomeSpec(hei_id=NEWCOMER, hei_name="Newcomer University", base_url="https://ewp.newcomer.eu",
                               admin_email="it@newcomer.example.eu"))
    with Sandbox(base / "net", nodes=1, join=[home]) as sandbox:
        yield sandbox, home


def test_the_home_file_is_untouched_and_the_settings_are_written(joined: tuple[Sandbox, Path]) -> None:
    sandbox, home = joined
    config = tomllib.loads((home / "ewp-node.toml").read_text())
    assert config["base_url"] == "https://ewp.newcomer.eu" and "ca_bundle" not in config
    values = env_file_values(sandbox.env_file(NEWCOMER))
    assert values["EWP_NODE_REGISTRY_URL"] == sandbox.catalogue_url
    assert values["EWP_NODE_CA_BUNDLE"] == str(sandbox.ca.cert_path)
    assert sandbox.registry is not None and not any(s.error for s in sandbox.registry.manifest_status())


def _context(home: Path, environ: dict[str, str] | None = None) -> NodeContext:
    return build_context(load_settings(home, environ=environ or {}))


def test_newcomer_calls_the_sandbox_and_is_called_back(joined: tuple[Sandbox, Path]) -> None:
    sandbox, home = joined
    sandbox_hei = DEMO_HEIS[0][0]
    mine = _context(home, env_file_values(sandbox.env_file(NEWCOMER)))
    theirs = _context(sandbox.nodes[0].home)
    try:
        out = EwpClient(mine).call(sandbox_hei, "echo", params=[("echo", "hello from the newcomer")])
        assert out.status == 200 and out.signature_verified, out.body
        assert b"hello from the newcomer" in out.body
        back = EwpClient(theirs).call(NEWCOMER, "echo", params=[("echo", "welcome")])
        assert back.status == 200 and back.signature_verified, back.body
        assert b"welcome" in back.body
        courses = EwpClient(mine).call(sandbox_hei, "simple-course-replication", params=[("hei_id", sandbox_hei)])
        assert courses.status == 200 and courses.root is not None and len(courses.root) > 100
    finally:
        mine.audit.close()
        theirs.audit.close()


def test_cli_call_with_the_env_file(joined: tuple[Sandbox, Path], capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ewp_node.cli import main

    sandbox, home = joined
    for key, value in env_file_values(sandbox.env_file(NEWCOMER)).items():
        monkeypatch.setenv(key, value)
    assert main(["call", str(home), "echo", "--hei", DEMO_HEIS[0][0], "--param", "echo=cli"]) == 0
    out, err = capsys.readouterr()
    assert "<echo>cli</echo>" in out and "response signature verified" in err


def test_a_joined_hei_twice_is_refused(tmp_path: Path) -> None:
    from ewp_node.config import ConfigError

    home = tmp_path / "home"
    create_home(home, HomeSpec(hei_id=DEMO_HEIS[0][0], hei_name="Clash", base_url="https://clash.example.eu"))
    with pytest.raises(ConfigError, match="already a node of this sandbox"), Sandbox(tmp_path / "net", nodes=1,
                                                                                      join=[home]):
        pass


def test_describe_tells_the_newcomer_how_to_call_and_be_called(joined: tuple[Sandbox, Path]) -> None:
    import io

    sandbox, home = joined
    out = io.StringIO()
    sandbox.describe(out)
    text = out.getvalue()
    assert f". {sandbox.env_file(NEWCOMER)}; set +a; ewp-node call {home} echo --hei {DEMO_HEIS[0][0]}" in text
    assert f"ewp-node call {sandbox.nodes[0].home} echo --hei {NEWCOMER}" in text


def test_a_relative_folder_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Node homes live elsewhere: the CA and TLS paths given to them must not be relative."""
    monkeypatch.chdir(tmp_path)
    assert Sandbox(Path("net"), nodes=1).directory == tmp_path / "net"
