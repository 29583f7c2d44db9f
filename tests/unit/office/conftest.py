"""Logging in to a node's console with the Flask test client."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ewp_node.office.accounts import add_user
from ewp_node.office.models import Role

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(client: Any, path: str) -> str:
    """The CSRF token of the first form on ``path``."""
    found = _CSRF.search(client.get(path).get_data(as_text=True))
    assert found is not None, f"no form on {path}"
    return found[1]


class Console:
    """A logged-in test client of one node's console, and the CSRF token of its session."""

    def __init__(self, app: Any, ctx: Any, name: str, role: Role, hei_ids: tuple[str, ...] = ()) -> None:
        with ctx.sessions.begin() as session:
            add_user(session, name, PASSWORD, role, hei_ids)
        self.client = app.test_client()
        login = self.client.post("/office/login", data={"name": name, "password": PASSWORD,
                                                         "csrf": form_token(self.client, "/office/login")})
        assert login.status_code == 302
        self.csrf = form_token(self.client, "/office/")

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, **data: str) -> Any:
        return self.client.post(path, data={"csrf": self.csrf, **data})


@pytest.fixture
def console():  # type: ignore[no-untyped-def]
    """``console(app, ctx, name, role, hei_ids=())``: a new account on that node (scoped to ``hei_ids``, if
    given), logged in."""
    return Console
