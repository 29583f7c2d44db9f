"""The ``elmo`` and ``grades`` commands, through a parser built with ``register``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ewp_node.elmo.cli import register


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ewp-node")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return int(args.func(args))


@pytest.fixture
def v(vectors_dir: Path):  # type: ignore[no-untyped-def]
    return lambda name: str(vectors_dir / name)


@pytest.mark.parametrize("cert", ["elmo_signer_cert.pem", "server_public.pem"])
@pytest.mark.parametrize("name", ["elmo-v1_7-tor.signed.xml", "elmo-v2_1_1-tor.signed.xml"])
def test_verify_accepts_signed_vectors_by_that_key(v, capsys, name: str, cert: str) -> None:  # type: ignore[no-untyped-def]
    assert run("elmo", "verify", v(name), "--cert", v(cert)) == 0
    assert "OK: ELMO" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("name", "cert", "reason"),
    [
        ("elmo-v1_7-tor.tampered.xml", "elmo_signer_cert.pem", "altered after signing"),
        ("elmo-v2_1_1-tor.tampered.xml", "elmo_signer_cert.pem", "altered after signing"),
        ("elmo-v1_7-tor.unsigned.xml", "elmo_signer_cert.pem", "not signed"),
        ("elmo-v2_1_1-tor.signed.xml", "client_public.pem", "signer not trusted"),
        ("elmo-v2_1_1-tor.signed.xml", None, "pass --cert"),
        ("elmo-v2_1_1-tor.unsigned.xml", None, "not signed"),
    ],
)
def test_verify_rejects_with_the_reason(v, capsys, name: str, cert: str | None, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert run("elmo", "verify", v(name), *(["--cert", v(cert)] if cert else [])) == 1
    assert reason in capsys.readouterr().err


def test_unreadable_inputs_exit_2(v, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<elmo")
    assert run("elmo", "verify", broken, "--cert", v("elmo_signer_cert.pem")) == 2
    assert run("elmo", "verify", tmp_path / "missing.xml", "--cert", v("elmo_signer_cert.pem")) == 2
    assert run("elmo", "verify", v("elmo-v1_7-tor.signed.xml"), "--cert", broken) == 2
    assert "UNREADABLE" in capsys.readouterr().err


def test_sign_then_verify(v, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "signed.xml"
    key, cert = v("server_private.pem"), v("elmo_signer_cert.pem")
    assert run("elmo", "sign", v("elmo-v2_1_1-tor.unsigned.xml"), "--key", key, "--cert", cert, "-o", out) == 0
    assert run("elmo", "verify", out, "--cert", cert) == 0
    assert run("elmo", "sign", v("elmo-v2_1_1-tor.unsigned.xml"), "--key", cert, "--cert", cert, "-o", out) == 2


def test_validate(v, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run("elmo", "validate", v("elmo-v1_7-tor.unsigned.xml")) == 0
    assert "5 learning opportunities" in capsys.readouterr().out
    bad = tmp_path / "bad.xml"
    bad.write_bytes(Path(v("elmo-v1_7-tor.unsigned.xml")).read_bytes().replace(b"<status>passed", b"<status>ok"))
    assert run("elmo", "validate", bad) == 1


def test_grades_convert_explains_each_grade(v, capsys) -> None:  # type: ignore[no-untyped-def]
    tables = v("grade-conversion.json")
    assert run("grades", "convert", "--tables", tables, "--from", "IT-18-30", "--to", "FR-0-20", "28") == 0
    assert "-> FR-0-20 14 covering" in capsys.readouterr().out
    assert (
        run("grades", "convert", "--tables", tables, "--from", "IT-18-30", "--to", "FR-0-20", "--rule", "overlap") == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 14
    assert run("grades", "convert", "--tables", tables, "--from", "IT-18-30", "--to", "FR-0-20", "31") == 1
    assert "NOT CONVERTED" in capsys.readouterr().out
    assert run("grades", "convert", "--tables", tables, "--from", "XX", "--to", "FR-0-20") == 2


def test_grades_convert_an_elmo_document(v, capsys) -> None:  # type: ignore[no-untyped-def]
    tables = v("grade-conversion.json")
    elmo = v("elmo-v1_7-tor.unsigned.xml")
    assert run("grades", "convert", "--tables", tables, "--from", "IT-18-30", "--to", "FR-0-20", "--elmo", elmo) == 0
    out = capsys.readouterr().out
    assert out.count("host table: unibo.it document") == 5
    assert out.startswith("93122: IT-18-30 28 covers")
