"""The office console over the Flask test client: login, sessions, CSRF, roles, pages, CSV, languages."""

from __future__ import annotations

import logging
import re

import pytest

from ewp_node.office.accounts import add_user, disable_user
from ewp_node.office.models import Role

pytestmark = pytest.mark.usefixtures("fast_password_hashes")


PASSWORD = "correct horse battery"
PAGES = ["/office/", "/office/exchanges", "/office/exchanges/1", "/office/partners",
         "/office/partners/partner.example.eu", "/office/indicators", "/office/exchanges?format=csv",
         "/office/indicators?format=csv"]
ACTIONS = ["/office/logout", "/office/lang", "/office/partners/partner.example.eu/check"]


@pytest.fixture
def node(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    with node.ctx.sessions.begin() as session:
        add_user(session, "olga", PASSWORD, Role.OFFICER)
        add_user(session, "victor", PASSWORD, Role.VIEWER)
    return node


def _login_form(client, path: str = "/office/login") -> str:  # type: ignore[no-untyped-def]
    page = client.get(path)
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True))[1]  # type: ignore[index]


def login(client, name: str = "olga", password: str = PASSWORD, next_: str = "/office/"):  # type: ignore[no-untyped-def]
    csrf = _login_form(client)
    return client.post("/office/login", data={"name": name, "password": password, "csrf": csrf, "next": next_})


def csrf_of(client) -> str:  # type: ignore[no-untyped-def]
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/office/").get_data(as_text=True))[1]  # type: ignore[index]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(node, path: str) -> None:  # type: ignore[no-untyped-def]
    response = node.client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/office/login?next=")


@pytest.mark.parametrize("path", ACTIONS)
def test_every_action_needs_a_login(node, path: str) -> None:  # type: ignore[no-untyped-def]
    response = node.client.post(path, data={"csrf": "x"})
    assert response.status_code == 302 and "/office/login" in response.headers["Location"]


def test_login_opens_a_session_and_every_page_renders(node) -> None:  # type: ignore[no-untyped-def]
    assert node.call("GET", "/ewp/echo", [("echo", "x")]).status_code == 200
    node.ctx.audit.flush()
    response = login(node.client)
    assert response.status_code == 302 and response.headers["Location"] == "/office/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/office" in cookie and "Secure" in cookie
    for path in PAGES:
        page = node.client.get(path)
        assert page.status_code in (200, 404), path
        assert page.headers["Cache-Control"] == "no-store"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    exchanges = node.client.get("/office/exchanges?direction=in&api=echo").get_data(as_text=True)
    assert "partner.example.eu" in exchanges and "echo" in exchanges
    assert node.client.get("/office/exchanges/1").status_code == 200
    csv_text = node.client.get("/office/exchanges?format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("id,at,direction,api") and ",in,echo,GET," in csv_text
    indicators = node.client.get("/office/indicators?format=csv").get_data(as_text=True)
    assert indicators.splitlines()[1].startswith("partner.example.eu,1,0,0,")


def test_wrong_password_is_refused_and_never_logged(node, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    refused = login(node.client, password="wrong password!")
    assert refused.status_code == 401 and "Wrong user name or password" in refused.get_data(as_text=True)
    assert login(node.client, name="nobody").status_code == 401
    assert login(node.client).status_code == 302
    assert "wrong password!" not in caplog.text and PASSWORD not in caplog.text


def test_login_guesses_are_bounded(node) -> None:  # type: ignore[no-untyped-def]
    statuses = [login(node.client, password=f"guess number {i}").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    assert login(node.client).status_code == 429  # even the right password waits out the window


def test_login_form_needs_its_csrf_cookie(node) -> None:  # type: ignore[no-untyped-def]
    response = node.client.post("/office/login", data={"name": "olga", "password": PASSWORD, "csrf": "forged"})
    assert response.status_code == 403


def test_a_session_cookie_set_before_login_is_never_adopted(node) -> None:  # type: ignore[no-untyped-def]
    node.client.set_cookie("ewp_office", "attacker-chosen", path="/office")
    assert node.client.get("/office/").status_code == 302
    response = login(node.client)
    assert "attacker-chosen" not in response.headers["Set-Cookie"]
    assert node.client.get("/office/").status_code == 200


def test_logout_and_disabling_close_the_session(node) -> None:  # type: ignore[no-untyped-def]
    login(node.client)
    token = node.client.get_cookie("ewp_office", path="/office").value
    assert node.client.post("/office/logout", data={"csrf": csrf_of(node.client)}).status_code == 302
    node.client.set_cookie("ewp_office", token, path="/office")  # a copy of the old cookie opens nothing
    assert node.client.get("/office/").status_code == 302
    login(node.client)
    with node.ctx.sessions.begin() as session:
        disable_user(session, "olga")
    assert node.client.get("/office/").status_code == 302
    assert login(node.client).status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "/elsewhere",
                                    "/office//evil.example", "javascript:alert(1)"])
def test_no_open_redirect_after_login(node, target: str) -> None:  # type: ignore[no-untyped-def]
    assert login(node.client, next_=target).headers["Location"] == "/office/"


def test_login_returns_to_the_page_asked_for(node) -> None:  # type: ignore[no-untyped-def]
    assert login(node.client, next_="/office/indicators").headers["Location"] == "/office/indicators"


def test_posts_without_the_csrf_token_or_from_another_site_are_refused(node) -> None:  # type: ignore[no-untyped-def]
    login(node.client)
    assert node.client.post("/office/lang", data={"lang": "fr"}).status_code == 403
    assert node.client.post("/office/lang", data={"lang": "fr", "csrf": "wrong"}).status_code == 403
    csrf = csrf_of(node.client)
    cross = node.client.post("/office/lang", data={"lang": "fr", "csrf": csrf},
                             headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert node.client.post("/office/lang", data={"lang": "fr", "csrf": csrf}).status_code == 302


def test_a_viewer_reads_but_cannot_act(node) -> None:  # type: ignore[no-untyped-def]
    login(node.client, name="victor")
    page = node.client.get("/office/partners/partner.example.eu").get_data(as_text=True)
    assert "Check partner" not in page
    refused = node.client.post("/office/partners/partner.example.eu/check", data={"csrf": csrf_of(node.client)})
    assert refused.status_code == 403 and "Only officers may do this." in refused.get_data(as_text=True)


def test_an_officer_checks_a_partner_and_reads_the_outcome_in_words(node) -> None:  # type: ignore[no-untyped-def]
    login(node.client)
    page = node.client.get("/office/partners/partner.example.eu").get_data(as_text=True)
    assert "Check partner" in page and "echo" not in page  # the test partner publishes no API
    checked = node.client.post("/office/partners/partner.example.eu/check", data={"csrf": csrf_of(node.client)})
    assert checked.status_code == 200
    assert "We could not reach the partner&#39;s Echo API" in checked.get_data(as_text=True)
    unknown = node.client.get("/office/partners/nowhere.example.eu").get_data(as_text=True)
    assert "not in the registry catalogue" in unknown


def test_the_language_is_chosen_and_remembered(node) -> None:  # type: ignore[no-untyped-def]
    assert "Se connecter" in node.client.get("/office/login?lang=fr").get_data(as_text=True)
    login(node.client)
    node.client.post("/office/lang", data={"lang": "fr", "csrf": csrf_of(node.client), "next": "/office/partners"})
    page = node.client.get("/office/partners").get_data(as_text=True)
    assert '<html lang="fr">' in page and "Partenaires" in page
    assert node.client.post("/office/lang", data={"lang": "xx", "csrf": csrf_of(node.client)}).status_code == 400
