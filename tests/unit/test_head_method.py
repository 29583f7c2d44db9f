"""HEAD on an EWP endpoint: 405 (a signed HEAD answer would carry a Digest of a body never sent)."""

from __future__ import annotations


def test_head_is_refused_with_an_ewp_error(make_node, validate_official):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call("HEAD", "/ewp/echo", [("echo", "a")], accept_signature=False)
    assert response.status_code == 405
    get = node.call("GET", "/ewp/echo", [("echo", "a")], accept_signature=False)
    assert get.status_code == 200
