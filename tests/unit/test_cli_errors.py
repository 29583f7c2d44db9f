"""The ``ewp-node`` command as an operator meets it: every ordinary mistake is one line and an exit code
(1 failed, 2 bad usage, 130 interrupted), never a traceback (issue 12, findings 1 and 3).

A node home is made with ``ewp-node init``; its registry is a catalogue served over HTTPS on loopback by a
throw-away CA, so no ``allow_http`` is needed.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, Response
from lxml import etree
from werkzeug.serving import make_server

from ewp_node.cli import bind_address, build_parser, main
from ewp_node.sandbox import free_port
from ewp_node.tls import SandboxCA
from ewp_node.xml.ns import COURSE_REPLICATION, COURSES, q

HEI = "uni-a.example.eu"
PARTNER = "partner-b.example.eu"


def one_error_line(err: str, code: str = "error") -> str:
    """The only line of ``err``, which must be ``ewp-node: <code>: ...`` (no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ewp-node: {code}"), lines[0]
    return lines[0]


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def point_registry_at(home: Path, port: int) -> None:
    """Make ``home`` fetch its catalogue from ``https://127.0.0.1:port``."""
    config = home / "ewp-node.toml"
    lines = [f'registry_url = "https://127.0.0.1:{port}/catalogue-v1.xml"' if line.startswith("registry_url")
             else line for line in config.read_text().splitlines()]
    config.write_text("\n".join(lines) + "\n")


def init_args(home: Path, *extra: str, hei: str = HEI, base_url: str = "https://node-a.example.eu") -> list[str]:
    return ["init", str(home), "--hei-id", hei, "--hei-name", "University A", "--base-url", base_url, *extra]


# -- a home and its registry -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """A home of HEI A whose HTTPS registry lists A and a partner B that implements no API."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ewp_node.config import HeiConfig, Settings, load_settings
    from ewp_node.manifest import build_manifest
    from ewp_node.registry.local import build_catalogue
    from ewp_node.security.keys import public_key_b64

    base = tmp_path_factory.mktemp("cli")
    ca = SandboxCA(base / "ca")
    cert, key = ca.issue_server_certificate(base / "tls")
    port = free_port()
    home = base / "home"
    assert main(init_args(home, "--registry-url", f"https://127.0.0.1:{port}/catalogue-v1.xml",
                          "--admin-email", "it@uni-a.example.eu")) == 0
    text = (home / "ewp-node.toml").read_text()  # top-level keys go before the [[heis]] table
    (home / "ewp-node.toml").write_text(text.replace("[[heis]]", f'ca_bundle = "{ca.cert_path}"\n\n[[heis]]'))
    from ewp_node.app import manifest_bytes
    from ewp_node.context import KeyPair

    settings = load_settings(home)
    ours = etree.fromstring(manifest_bytes(settings, KeyPair.load(settings.client_key_path),
                                           KeyPair.load(settings.server_key_path)))
    partner = Settings(home=base, base_url="https://partner-b.example.eu",
                       heis=(HeiConfig(id=PARTNER, names={"en": "Partner University B"}),))
    keys = [rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key() for _ in range(2)]
    theirs = build_manifest(partner, [], partner.heis[0], public_key_b64(keys[0]), public_key_b64(keys[1]))
    catalogue = build_catalogue([ours, theirs])
    app = Flask("registry")
    app.add_url_rule("/catalogue-v1.xml", "catalogue", lambda: Response(catalogue, mimetype="application/xml"))
    server = make_server("127.0.0.1", port, app, threaded=True, ssl_context=(str(cert), str(key)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"home": home, "base": base}
    server.shutdown()
    server.server_close()


@pytest.fixture
def home(network: dict[str, Path]) -> Path:
    return network["home"]


@pytest.fixture
def copy_of_home(home: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(home, copy, ignore=shutil.ignore_patterns("cache"))
    return copy


# -- finding 1: one line, never a traceback -------------------------------------------------------------------


def test_registry_unreachable_without_a_copy(copy_of_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    point_registry_at(copy_of_home, free_port())  # nothing listens there
    for action in (["show"], ["lookup", PARTNER]):
        status, _, err = run(capsys, "registry", copy_of_home, *action)
        assert status == 1
        assert "registry catalogue unavailable" in one_error_line(err)
    status, _, err = run(capsys, "registry", copy_of_home, "refresh")
    assert status == 1 and "registry refresh failed: ConnectionError" in one_error_line(err)
    status, _, err = run(capsys, "registry", copy_of_home, "lookup")
    assert status == 2 and "registry lookup needs a HEI id" in one_error_line(err)


def test_registry_show_lists_heis_with_names(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "registry", home, "show")
    assert status == 0
    assert "HEIs: 2" in out
    assert f"  {HEI}: University A" in out and f"  {PARTNER}: Partner University B" in out


def test_call_partner_without_the_api_or_unknown_hei(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "call", home, "courses", "--hei", PARTNER)
    assert status == 1 and f"no 'courses' API for HEI '{PARTNER}'" in one_error_line(err)
    status, _, err = run(capsys, "call", home, "echo", "--hei", "nobody.example.eu")
    assert status == 1 and "nobody.example.eu" in one_error_line(err)
    status, _, err = run(capsys, "call", home, "echo", "--hei", PARTNER, "--param", "no-equals-sign")
    assert status == 2 and "NAME=VALUE" in one_error_line(err)


def test_manifest_of_a_hei_not_covered(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "manifest", home, "--hei", "nope.eu")
    assert status == 2 and f"not covered by this node (it covers {HEI})" in one_error_line(err)


def test_replicate_modified_since_not_a_date(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "replicate", home, "--hei", PARTNER, "--modified-since", "yesterday")
    assert status == 2 and "'yesterday' is not an xs:dateTime" in one_error_line(err)


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_missing_or_corrupt_key_files(copy_of_home: Path, damage: str, capsys: pytest.CaptureFixture[str]) -> None:
    key = copy_of_home / "keys" / "server-key.pem"
    if damage == "missing":
        key.unlink()
    else:
        key.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    for command in (["manifest", copy_of_home], ["serve", copy_of_home], ["registry", copy_of_home, "show"]):
        status, _, err = run(capsys, *command)
        assert status == 1
        assert str(key) in one_error_line(err)


def test_serve_refuses_a_missing_tls_file(copy_of_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = copy_of_home / "ewp-node.toml"
    config.write_text(config.read_text().replace("[[heis]]", 'tls_cert = "tls/cert.pem"\ntls_key = "tls/key.pem"\n\n'
                                                             "[[heis]]"))
    status, _, err = run(capsys, "serve", copy_of_home)
    assert status == 1 and f"tls_cert {copy_of_home / 'tls' / 'cert.pem'}: no such file" in one_error_line(err)


def test_serve_refuses_a_schema_behind_the_code(copy_of_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ewp_node.store.db import make_engine, upgrade_database

    engine = make_engine(f"sqlite:///{copy_of_home / 'ewp-node.sqlite3'}")
    from alembic import command

    from ewp_node.store.db import alembic_config

    command.downgrade(alembic_config(engine), "0001")
    status, _, err = run(capsys, "serve", copy_of_home)
    assert status == 1 and "is at schema revision 0001" in one_error_line(err) and "ewp-node migrate" in err
    assert run(capsys, "migrate", copy_of_home)[0] == 0
    upgrade_database(engine)  # already at head: nothing to do
    engine.dispose()


@pytest.mark.parametrize("bind", ["HOST:80800", "127.0.0.1:0", "::1:8443", "nine"])
def test_bad_bind(home: Path, bind: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "serve", home, "--bind", bind)
    assert status == 2 and "argument --bind" in one_error_line(err)


@pytest.mark.postgres
def test_init_on_a_postgresql_database_that_does_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5432)) != 0:
            pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    home = tmp_path / "new" / "home"
    status, _, err = run(capsys, *init_args(home, "--database-url",
                                             "postgresql://postgres@127.0.0.1:5432/no_such_database_ewp"))
    assert status == 1
    assert 'database "no_such_database_ewp" does not exist' in one_error_line(err)
    assert not (tmp_path / "new").exists(), "a failed init leaves nothing behind"


def test_deeply_nested_json_import(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    status, _, err = run(capsys, "import", home, deep)
    assert status == 1 and "deep" in one_error_line(err)


class RepeatingPartner:
    """A partner client whose Course Replication and Courses answers repeat a LOS."""

    def __init__(self, _ctx: object) -> None:
        pass

    def find(self, hei_id: str, api: str, *, major: int | None = None) -> object:
        class Entry:
            limits = {"max-los-ids": 10}

        return Entry()

    def call(self, hei_id: str, api: str, endpoint: str = "url", params: object = (), **_: object) -> object:
        from ewp_node.client import ClientResponse

        if api == "simple-course-replication":
            root = etree.Element(q(COURSE_REPLICATION, "course-replication-response"))
            for los_id in ("CR/a1", "CR/b2", "CR/a1"):
                etree.SubElement(root, q(COURSE_REPLICATION, "los-id")).text = los_id
        else:
            root = etree.Element(q(COURSES, "courses-response"))
            for los_id in ("CR/a1", "CR/b2", "CR/a1"):
                los = etree.SubElement(root, q(COURSES, "learningOpportunitySpecification"))
                etree.SubElement(los, q(COURSES, "los-id")).text = los_id
                etree.SubElement(los, q(COURSES, "title")).text = f"Course {los_id}"
        return ClientResponse(status=200, body=etree.tostring(root), content_type="application/xml", root=root,
                              signature_verified=True, entry=None, url="https://partner-b.example.eu/")  # type: ignore[arg-type]


def test_replicate_answer_repeating_a_los(home: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ewp_node import client
    from ewp_node.config import load_settings
    from ewp_node.publish.repository import COURSE, existing
    from ewp_node.store.db import make_engine, session_factory

    monkeypatch.setattr(client, "EwpClient", RepeatingPartner)
    status, _, err = run(capsys, "replicate", home, "--hei", PARTNER)
    assert status == 1 and "the Courses answer repeats LOS CR/a1: nothing stored" in one_error_line(err)
    engine = make_engine(load_settings(home).database_url)
    with session_factory(engine)() as session:
        assert existing(session, COURSE, PARTNER) == {}
    engine.dispose()


def test_unexpected_errors_are_one_line_unless_debug(home: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from ewp_node import app

    def broken(*_: object, **__: object) -> bytes:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(app, "manifest_bytes", broken)
    status, _, err = run(capsys, "manifest", home)
    assert status == 1
    expected = "ewp-node: error: unexpected ZeroDivisionError: a bug (run with --debug for the trace)"
    assert one_error_line(err) == expected
    status, _, err = run(capsys, "manifest", home, "--debug")
    assert status == 1 and "Traceback" in err and err.rstrip().endswith("unexpected ZeroDivisionError: a bug")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "no-such-command")
    assert status == 2 and "invalid choice" in one_error_line(err)
    status, _, err = run(capsys, "registry")
    assert status == 2 and "required" in one_error_line(err)


# -- finding 3: settings saved, visible and checked -------------------------------------------------------------


def test_init_saves_allow_http(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ewp_node.config import load_settings

    home = tmp_path / "home"
    status, _, err = run(capsys, *init_args(home, "--allow-http", "--admin-email", "it@uni-a.example.eu",
                                            base_url="http://127.0.0.1:8080"))
    assert status == 0, err
    assert tomllib.loads((home / "ewp-node.toml").read_text())["allow_http"] is True
    assert load_settings(home, environ={}).allow_http
    status, out, err = run(capsys, "manifest", home)  # no EWP_NODE_ALLOW_HTTP in the environment
    assert status == 0 and "http://127.0.0.1:8080/manifest.xml" not in err and "<manifest" in out
    status, _, err = run(capsys, *init_args(tmp_path / "refused", base_url="http://127.0.0.1:8080"))
    assert status == 2 and "plain http:// is refused" in one_error_line(err)


def test_init_warns_without_admin_email(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, *init_args(tmp_path / "home"))
    assert status == 0
    assert f"ewp-node: warning: no --admin-email: the manifest publishes admin@{HEI}" in err
    status, _, err = run(capsys, *init_args(tmp_path / "other", "--admin-email", "it@uni-a.example.eu"))
    assert status == 0 and "warning" not in err


@pytest.mark.parametrize(("given", "bound"), [("28745", "127.0.0.1:28745"), ("0.0.0.0:8443", "0.0.0.0:8443"),
                                              ("[::1]:8443", "[::1]:8443"), ("localhost:65535", "localhost:65535")])
def test_bind_forms(given: str, bound: str) -> None:
    assert bind_address(given) == bound
    assert build_parser().parse_args(["serve", "home", "--bind", given]).bind == bound


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--hei-id", "uni", "a SCHAC id is the HEI's lower-case internet domain"),
    ("--base-url", "https://node-a.example.eu:99999", "the port must be a number from 1 to 65535"),
    ("--base-url", "https://node-a.example.eu:0", "the port must be a number from 1 to 65535"),
])
def test_init_refuses_bad_values_and_leaves_nothing(tmp_path: Path, option: str, value: str, message: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "parent" / "home"
    argv = init_args(home)
    argv[argv.index(option) + 1] = value
    status, _, err = run(capsys, *argv)
    assert status == 2 and message in one_error_line(err)
    assert not (tmp_path / "parent").exists()


def test_failed_init_removes_what_it_made(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from ewp_node import home as home_module

    def full_disk(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "x"))

    monkeypatch.setattr(home_module, "generate_private_key_file", full_disk)
    status, _, err = run(capsys, *init_args(tmp_path / "a" / "b" / "home"))
    assert status == 1 and "No space left on device" in one_error_line(err)
    assert list(tmp_path.iterdir()) == []
    empty = tmp_path / "given"  # an empty folder the operator made stays, empty
    empty.mkdir()
    assert run(capsys, *init_args(empty))[0] == 1
    assert empty.is_dir() and list(empty.iterdir()) == []


def test_catalogue_fetch_wording_without_a_copy(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from ewp_node.registry.fetch import RegistryClient

    client = RegistryClient(f"https://127.0.0.1:{free_port()}/catalogue-v1.xml", tmp_path)
    assert not client.refresh(force=True)
    assert "no catalogue yet" in caplog.text and "keeping the last good catalogue" not in caplog.text


def test_interrupt_is_one_line_and_130(home: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from ewp_node import preflight

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(preflight, "check_node", interrupted)
    status, _, err = run(capsys, "serve", home)
    assert status == 130 and one_error_line(err, "interrupted") == "ewp-node: interrupted"


def test_ctrl_c_of_a_real_process(copy_of_home: Path) -> None:
    """Ctrl-C while a command waits on the network: one line, exit 130 (the shell's code for SIGINT)."""
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(30)
        point_registry_at(copy_of_home, silent.getsockname()[1])
        process = subprocess.Popen([sys.executable, "-m", "ewp_node.cli", "registry", str(copy_of_home), "refresh"],
                                   stderr=subprocess.PIPE, text=True)
        connection, _ = silent.accept()  # the command is waiting for the registry now
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        connection.close()
    assert process.returncode == 130
    assert one_error_line(err, "interrupted") == "ewp-node: interrupted"


def test_multi_line_messages_are_cut_to_their_first_line() -> None:
    from ewp_node.cli_errors import explain
    from ewp_node.registry.fetch import RegistryUnavailable

    explained = explain(RegistryUnavailable("no catalogue: first\nsecond"))
    assert explained is not None and explained.exit_code == 1
    assert explained.message == "registry catalogue unavailable: no catalogue: first"
