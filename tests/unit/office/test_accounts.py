"""Accounts: argon2 hashes, the user command, session lifetime."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from ewp_node.office.accounts import SESSION_LIFETIME, AccountError, account_for, add_user, log_in, set_password
from ewp_node.office.models import OfficeUser, Role
from ewp_node.store.base import utc_now

pytestmark = pytest.mark.usefixtures("fast_password_hashes")



def test_passwords_are_stored_as_argon2_hashes_only(make_node) -> None:  # type: ignore[no-untyped-def]
    ctx = make_node().ctx
    with ctx.sessions.begin() as session:
        add_user(session, "olga", "long enough secret", Role.OFFICER)
        with pytest.raises(AccountError, match="exists"):
            add_user(session, "olga", "long enough secret", Role.VIEWER)
        with pytest.raises(AccountError, match="at least"):
            add_user(session, "short", "tiny", Role.VIEWER)
    with ctx.sessions() as session:
        stored = session.query(OfficeUser).one().password_hash
    assert stored.startswith("$argon2id$") and "long enough secret" not in stored


def test_a_session_expires_and_a_new_password_closes_it(make_node) -> None:  # type: ignore[no-untyped-def]
    ctx = make_node().ctx
    with ctx.sessions.begin() as session:
        add_user(session, "olga", "long enough secret", Role.OFFICER)
        token = log_in(session, "olga", "long enough secret")
    assert token is not None
    with ctx.sessions() as session:
        assert account_for(session, token) is not None
        assert account_for(session, token, now=utc_now() + SESSION_LIFETIME + timedelta(seconds=1)) is None
    with ctx.sessions.begin() as session:
        set_password(session, "olga", "another long secret")
    with ctx.sessions() as session:
        assert account_for(session, token) is None


def test_the_user_command_reads_the_password_from_stdin(make_node, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.cli import main

    node = make_node()
    home = node.ctx.settings.home
    (home / "ewp-node.toml").write_text(
        f'base_url = "https://node.test.example.eu"\ndatabase_url = "{node.ctx.settings.database_url}"\n'
        '[[heis]]\nid = "uni-a.example.eu"\nnames = { en = "A" }\n')
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert main(["user", str(home), "add", "olga", "--role", "officer"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough secret\n"))
    assert main(["user", str(home), "add", "olga"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["user", str(home), "add", "x", "--hei", "nope.example.eu"]) == 1
    assert main(["user", str(home), "list"]) == 0
    assert "olga\tofficer\tevery HEI\tactive" in capsys.readouterr().out
    assert main(["user", str(home), "disable", "olga"]) == 0
    with node.ctx.sessions.begin() as session:
        assert log_in(session, "olga", "long enough secret") is None
