"""Echo API v2 through the real security chain (VALIDATOR.md section 1.1, E1-E5, and response rules)."""

from __future__ import annotations

import pytest
from lxml import etree

from ewp_node.xml import ns

PARTNER = "partner.example.eu"


def _echo_values(body: bytes) -> tuple[list[str], list[str]]:
    root = etree.fromstring(body)
    return ([e.text for e in root.findall(f"{{{ns.ECHO}}}hei-id")],
            [e.text or "" for e in root.findall(f"{{{ns.ECHO}}}echo")])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_echo_returns_caller_heis_and_values_in_order(make_node, method, validate_official):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call(method, "/ewp/echo", [("echo", "a"), ("echo", "b"), ("echo", "a")])
    assert response.status_code == 200, response.data
    validate_official(response.data)
    assert _echo_values(response.data) == ([PARTNER], ["a", "b", "a"])
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_post_ignores_query_parameters(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call("POST", "/ewp/echo?echo=c&echo=c", [("echo", "a"), ("echo", "b")])
    assert response.status_code == 200
    assert _echo_values(response.data)[1] == ["a", "b"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_get_405_error_response(make_node, method, validate_official):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call(method, "/ewp/echo", [("echo", "a")])
    assert response.status_code == 405
    validate_official(response.data)
    assert "Signature" in response.headers


def test_unsigned_request_gets_401_challenge(make_node, validate_official):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call("GET", "/ewp/echo", [("echo", "a")], sign=False)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Signature realm="EWP"'
    assert "SHA-256" in response.headers["Want-Digest"]
    validate_official(response.data)


def test_no_catalogue_yet_is_a_503_not_a_crash(make_node, validate_official):  # type: ignore[no-untyped-def]
    from ewp_node.registry.fetch import RegistryUnavailable

    class NoCatalogue:
        @property
        def index(self):  # type: ignore[no-untyped-def]
            raise RegistryUnavailable("no catalogue fetched and none on disk")

        def refresh_for_unknown_key(self, key_id: str) -> None:
            pass

    node = make_node()
    node.ctx.registry = NoCatalogue()
    response = node.call("GET", "/ewp/echo", [("echo", "a")])
    assert response.status_code == 503
    validate_official(response.data)
    assert b"retry later" in response.data
