"""The API front (``ewp_node.dispatch.ApiFront``) answers plain API calls without Flask's request machinery, and
answers them exactly as the Flask routes do; every other request still goes through Flask."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from ewp_node.security.httpsig import HeaderView, sign_request, verify_response

TARGET = "/ewp/echo?echo=front"


def _signed(node, target: str = TARGET, method: str = "GET", body: bytes = b"",  # type: ignore[no-untyped-def]
            **extra: str) -> dict[str, str]:
    return sign_request(method=method, target=target, body=body, private_key=node.partner_key,
                        key_id=node.partner_key_id, now=datetime.now(UTC),
                        headers={"Host": node.ctx.settings.host, "Accept-Signature": "rsa-sha256", **extra})


@pytest.fixture
def flask_dispatches(node) -> list[str]:  # type: ignore[no-untyped-def]
    """The paths Flask's own dispatch handled during the test."""
    app: Flask = node.app
    seen: list[str] = []
    original = app.full_dispatch_request

    def counting() -> Any:
        from flask import request

        seen.append(request.path)
        return original()

    app.full_dispatch_request = counting  # type: ignore[method-assign]
    return seen


@pytest.fixture
def node(make_node):  # type: ignore[no-untyped-def]
    return make_node()


def _get(node, target: str, headers: dict[str, str], method: str = "GET", body: bytes = b""):  # type: ignore[no-untyped-def]
    return node.app.test_client().open(target, method=method, headers=headers, data=body,
                                       base_url=node.ctx.settings.base_url)


def test_a_signed_api_call_is_answered_by_the_front_and_verifies(node, flask_dispatches) -> None:  # type: ignore[no-untyped-def]
    headers = _signed(node)
    response = _get(node, TARGET, headers)

    assert response.status_code == 200
    assert b"<echo>front</echo>" in response.data
    verify_response(headers=HeaderView(response.headers.items()), body=response.data, now=datetime.now(UTC),
                    request_method="GET", request_target=TARGET, request_id=headers["X-Request-Id"],
                    request_signature=headers["Authorization"].split('signature="')[1].rstrip('"'),
                    resolve_server_key=lambda key_id: node.ctx.server_key.private.public_key())
    assert flask_dispatches == []


def test_the_front_and_flask_give_the_same_answer(node) -> None:  # type: ignore[no-untyped-def]
    front = node.app.wsgi_app
    answers = []
    for door in (front, front._next):  # the front, then Flask's own WSGI app behind it
        node.app.wsgi_app = door
        answers.append(_get(node, TARGET, _signed(node)))
        answers.append(_get(node, TARGET, {"Host": node.ctx.settings.host, "Accept-Signature": "rsa-sha256"}))
    node.app.wsgi_app = front
    for fast, flask in zip(answers[:2], answers[2:], strict=True):
        assert fast.status_code == flask.status_code
        assert fast.data == flask.data
        different = {"Signature", "Digest", "X-Request-Id", "X-Request-Signature", "Original-Date", "Date"}
        assert ({k: v for k, v in fast.headers.items() if k not in different}
                == {k: v for k, v in flask.headers.items() if k not in different})
    assert answers[1].status_code == 401 and "Signature" in answers[1].headers


@pytest.mark.parametrize(("method", "path"), [
    ("HEAD", TARGET),  # EWP knows GET and POST only: Flask answers 405
    ("PUT", TARGET),
    ("GET", "/ewp//echo?echo=x"),
    ("GET", "/manifest.xml"),
])
def test_other_requests_go_through_flask(node, flask_dispatches, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    response = _get(node, path, _signed(node, path, method) if method in ("GET", "POST") else {}, method=method)

    assert flask_dispatches == [path.split("?")[0]]
    assert response.status_code in (200, 404, 405)


def test_a_body_over_the_limit_is_left_to_flask_which_refuses_it(node, flask_dispatches) -> None:  # type: ignore[no-untyped-def]
    body = b"echo=" + b"x" * node.ctx.settings.max_request_bytes
    headers = _signed(node, "/ewp/echo", "POST", body, **{"Content-Type": "application/x-www-form-urlencoded"})

    response = _get(node, "/ewp/echo", headers, method="POST", body=body)

    assert response.status_code == 413
    assert flask_dispatches == ["/ewp/echo"]
