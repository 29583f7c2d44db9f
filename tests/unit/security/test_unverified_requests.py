"""What an unauthenticated client can get from the node (issue 7 finding 11): never a redirect to a host of its
choosing, and a bounded number of RSA signatures."""

from __future__ import annotations

import uuid

import pytest

from ewp_node.ratelimit import TokenBucket
from ewp_node.security.middleware import set_unverified_signing_budget

ODD_PATHS = ["/ewp//echo", "//ewp/echo", "/ewp/echo/", "/ewp///echo?echo=a", "/hei//ewp/echo", "//status",
             "//manifest.xml"]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_paths_never_redirect_to_the_client_host(make_node, path):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.client.get(path, headers={"Host": "evil.example"})
    assert not 300 <= response.status_code < 400, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert response.status_code == 404 and b"<error-response" in response.data


def _anonymous(node, **headers):  # type: ignore[no-untyped-def]
    return node.client.get("/ewp/echo", headers={"Host": node.ctx.settings.host, "Accept-Signature": "rsa-sha256",
                                                 "X-Request-Id": str(uuid.uuid4()), **headers})


def test_signatures_for_unverified_requests_are_bounded(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    clock = [0.0]
    set_unverified_signing_budget(node.app, TokenBucket(per_second=1, burst=3, clock=lambda: clock[0]))
    answers = [_anonymous(node) for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    assert ["Signature" in a.headers for a in answers] == [True, True, True, False, False]
    for answer in answers:  # the unsigned ones are still the complete 401 challenge
        assert answer.headers["WWW-Authenticate"] == 'Signature realm="EWP"' and b"<error-response" in answer.data
    bad_signature = node.call("GET", "/ewp/echo", [("echo", "a")], headers={"Authorization": "Signature x"},
                              sign=False)
    assert bad_signature.status_code in (400, 401) and "Signature" not in bad_signature.headers
    verified = node.call("GET", "/ewp/echo", [("echo", "a")])
    assert verified.status_code == 200 and "Signature" in verified.headers
    clock[0] += 1.0
    assert "Signature" in _anonymous(node).headers


def test_the_default_budget_signs_an_occasional_unverified_answer(make_node):  # type: ignore[no-untyped-def]
    """VALIDATOR.md E27/R4: a validator's anonymous request still gets its signed 401."""
    node = make_node()
    answer = _anonymous(node)
    assert answer.status_code == 401 and "Signature" in answer.headers


def test_no_route_redirects_to_its_slashed_form(make_node):  # type: ignore[no-untyped-def]
    """werkzeug would redirect ``/office`` to ``/office/`` on the client's Host: no rule may do that."""
    app = make_node().app
    slashed = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.endswith("/") and "<" not in rule.rule]
    assert slashed  # the console's home page, at least
    for rule in slashed:
        response = app.test_client().get(rule.rstrip("/"), headers={"Host": "evil.example"})
        assert "evil.example" not in response.headers.get("Location", ""), rule
        assert response.status_code < 300 or response.status_code >= 400 or \
            response.headers["Location"].startswith("/"), rule
