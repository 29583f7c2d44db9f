"""``ewp-node user HOME add|passwd|disable|list``: the console's accounts."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ewp_node.config import load_settings
from ewp_node.office.accounts import AccountError, add_user, disable_user, list_users, set_password
from ewp_node.office.models import Role


def read_password() -> str:
    """From standard input when it is not a terminal (scripts), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def cmd_user(args: argparse.Namespace) -> int:
    from ewp_node.store.db import make_engine, session_factory

    settings = load_settings(args.home)
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine).begin() as session:
            if args.action == "list":
                for user in list_users(session):
                    scope = ", ".join(user.hei_ids) or "every HEI"
                    print(f"{user.name}\t{user.role.value}\t{scope}\t{'disabled' if user.disabled else 'active'}")
                return 0
            if not args.name:
                print(f"ewp-node user {args.action}: a user NAME is needed", file=sys.stderr)
                return 2
            if args.action == "add":
                unknown = set(args.hei) - settings.hei_ids
                if unknown:
                    raise AccountError(f"--hei {', '.join(sorted(unknown))}: not a HEI of this node")
                add_user(session, args.name, read_password(), Role(args.role), tuple(args.hei), args.email)
            elif args.action == "passwd":
                set_password(session, args.name, read_password())
            else:
                disable_user(session, args.name)
    except AccountError as exc:
        print(f"ewp-node user: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"user {args.name}: {args.action} done", file=sys.stderr)
    return 0


def cmd_student_link(args: argparse.Namespace) -> int:
    from ewp_node.office.student import StudentLinks, console_secret

    settings = load_settings(args.home)
    token = StudentLinks(console_secret(settings.home)).token(args.sending_hei.strip().lower(), args.omobility_id)
    print(f"{settings.base_url}/office/student/{token}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``user`` to the ``ewp-node`` command."""
    p = subparsers.add_parser("user", help="console accounts: add, passwd, disable, list",
                              description="The password is read from standard input when it is not a terminal.")
    p.add_argument("home")
    p.add_argument("action", choices=["add", "passwd", "disable", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.VIEWER.value)
    p.add_argument("--hei", action="append", default=[], help="limit the account to this covered HEI (repeatable)")
    p.add_argument("--email", help="the officer's e-mail, written in the approvals they sign")
    p.set_defaults(func=cmd_user)

    p = subparsers.add_parser("student-link", help="the signed link to an incoming student's own page (no account)")
    p.add_argument("home")
    p.add_argument("sending_hei", metavar="SENDING_HEI")
    p.add_argument("omobility_id", metavar="OMOBILITY_ID")
    p.set_defaults(func=cmd_student_link)
