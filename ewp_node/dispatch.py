"""The EWP API front of the node's WSGI app: calls to API URLs are answered here, without Flask's request
machinery.

A request whose path is an API URL, whose method that endpoint takes and whose body is plainly framed (a
``Content-Length`` within ``max_request_bytes``) is routed by one dictionary lookup and answered by
:class:`ApiFront` itself: no request context, URL map or hooks, which cost a signed Echo about as much as the
whole EWP security layer (docs/design-notes.md, "The API front"), and no werkzeug response either: the
answer is a plain :class:`~ewp_node.responses.Answer` from the view to the server. Everything else (the
console, ``/status``, ``/health``, the manifest, HEAD or a wrong method, a path with ``//``, a request the
server refused, a chunked body) goes on to Flask, whose routes and hooks call the same functions below: one
behaviour, two doors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, FileBody, HandlerServices, XmlBody
from ewp_node.config import Settings
from ewp_node.errors import REJECTED_ENVIRON_KEY, NotFound, error_answer
from ewp_node.params import Params, read_form
from ewp_node.ratelimit import TokenBucket
from ewp_node.responses import XML_CONTENT_TYPE, Answer, xml_answer
from ewp_node.security import middleware
from ewp_node.security.errors import SecurityError
from ewp_node.store.audit import Direction, Exchange
from ewp_node.store.captures import Capture

if TYPE_CHECKING:
    from ewp_node.context import NodeContext

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def check_enabled(settings: Settings, api: str, url_hei: str | None) -> None:
    """:raises NotFound: no HEI behind this URL serves ``api`` here (per-HEI enablement, ``disabled_apis``)."""
    heis = [h for h in settings.heis if url_hei in (None, h.id)]
    if not any(h.serves(api) for h in heis):
        raise NotFound(f"{api} of {' '.join(h.id for h in heis)} is not served by this node: see the registry "
                       "for the host that serves it")


def _params(endpoint: Endpoint, method: str, query_string: bytes, body: bytes) -> Params:
    """The parameters: the query string for GET, the form body for POST (its query is ignored)."""
    if method == "GET":
        raw = query_string
    elif endpoint.body == "xml":
        return Params(())
    else:
        raw = body
    return read_form(raw)


def _render(ctx: NodeContext, result: object) -> Answer:
    if isinstance(result, FileBody):
        return Answer(200, [("Content-Type", result.media_type)], result.content)
    if ctx.schemas is not None:
        ctx.schemas.validate(result.content if isinstance(result, XmlBody) else result)  # type: ignore[arg-type]
    if isinstance(result, XmlBody):
        return Answer(200, [("Content-Type", XML_CONTENT_TYPE)], result.content)
    return xml_answer(result)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ApiEndpoint:
    """One endpoint of one API as the node serves it: checks, authenticates, calls the view, renders."""

    ctx: NodeContext
    services: HandlerServices
    api: ApiSpec
    endpoint: Endpoint

    def answer(self, state: middleware.RequestState, body: bytes, query_string: bytes,
               url_hei: str | None) -> Answer:
        """The view's answer to a request (before signing).

        :raises Exception: an EWP, security, database or other error, for :func:`answer_error`.
        """
        settings = self.ctx.settings
        if url_hei is not None and url_hei not in settings.hei_ids:
            raise NotFound(f"this node does not cover HEI {url_hei!r}")
        check_enabled(settings, self.api.name, url_hei)
        state.body = body
        caller = middleware.authenticate(self.ctx, state, body, anonymous_allowed=self.api.anonymous)
        body = state.body = middleware.negotiate_encryption(self.ctx, state, body)
        request = EwpRequest(params=_params(self.endpoint, state.method, query_string, body), caller=caller,
                             services=self.services, url_hei=url_hei,
                             body=body if self.endpoint.body == "xml" else b"", api_name=self.api.name)
        return _render(self.ctx, self.api.views[self.endpoint.element](request))


def answer_error(exc: Exception) -> Answer:
    """The ``<error-response>`` for an exception raised while answering (the 401 challenge for security errors)."""
    if isinstance(exc, SecurityError):
        return middleware.security_error_answer(exc)
    return error_answer(exc)


def _audit(ctx: NodeContext, state: middleware.RequestState, answer: Answer, body: bytes) -> None:
    """Record the exchange; ``body`` is the response body before content codings (references only: the audit
    sink redacts and cuts the capture)."""
    caller = state.caller
    heis = caller.hei_ids if caller is not None else frozenset()
    message = None
    if answer.status >= 400:
        message = answer.header("X-EWP-Verification-Message") or answer.status_line
    ctx.audit.record(Exchange(
        at=datetime.now(UTC), direction=Direction.IN, api=state.api, method=state.method,
        status=answer.status, duration_ms=int((time.perf_counter() - state.started) * 1000),
        partner_hei=next(iter(heis)) if len(heis) == 1 else None,
        request_id=state.headers.get("x-request-id"),
        key_id=caller.key_id if caller is not None else None, message=message,
        capture=Capture(state.target, state.headers.items(), state.body, answer.wire_headers(), body)
        if ctx.settings.exchange_capture.keeps(failed=answer.status >= 400) else None,
    ))


def finish(ctx: NodeContext, state: middleware.RequestState, answer: Answer, budget: TokenBucket) -> Answer:
    """Compress, encrypt and sign the answer as the request asked, then audit the exchange (with the body as the
    view made it)."""
    body = answer.body
    answer = middleware.finalize_answer(ctx, state, answer, budget)
    _audit(ctx, state, answer, body)
    return answer


def api_paths(settings: Settings, endpoint: Endpoint) -> list[tuple[str, str | None]]:
    """The URL paths of an endpoint with the HEI each one names (None: the node's shared URL)."""
    shared = f"/ewp/{endpoint.path}"
    return [(shared, None), *((f"/hei/{hei}{shared}", hei) for hei in settings.hei_ids if settings.multi_hei)]


@dataclass(frozen=True)
class _Route:
    target: ApiEndpoint
    url_hei: str | None


class ApiFront:
    """WSGI middleware in front of the Flask app (``app.wsgi_app``): answers plain API calls itself.

    :param budget: returns the app's current budget of signatures for unverified requests (tests swap it).
    """

    def __init__(self, ctx: NodeContext, endpoints: Iterable[ApiEndpoint], flask_wsgi: WsgiApp,
                 budget: Callable[[], TokenBucket]) -> None:
        self._ctx = ctx
        self._next = flask_wsgi
        self._budget = budget
        self._max_body = ctx.settings.max_request_bytes
        self._routes: dict[str, _Route] = {}
        for target in endpoints:
            for path, url_hei in api_paths(ctx.settings, target.endpoint):
                self._routes[path] = _Route(target, url_hei)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        route = self._routes.get(environ.get("PATH_INFO", ""))
        if (route is None or environ.get("REQUEST_METHOD") not in route.target.endpoint.methods
                or REJECTED_ENVIRON_KEY in environ):
            return self._next(environ, start_response)
        body = self._plain_body(environ)
        if body is None:
            return self._next(environ, start_response)
        state = middleware.RequestState.begin(route.target.api.name, environ)
        try:
            answer = route.target.answer(state, body, environ.get("QUERY_STRING", "").encode("latin-1"),
                                         route.url_hei)
        except Exception as exc:  # noqa: BLE001 (every failure is answered, as Flask's handler does)
            answer = answer_error(exc)
        try:
            answer = finish(self._ctx, state, answer, self._budget())
        except Exception as exc:  # noqa: BLE001 (as in Flask: an after-request failure is a plain 500)
            answer = answer_error(exc)
        start_response(answer.status_line, answer.wire_headers())
        return [answer.body]

    def _plain_body(self, environ: dict[str, Any]) -> bytes | None:
        """The request body when its framing is plain (None: Flask reads, bounds or refuses it)."""
        if environ.get("wsgi.input_terminated"):
            return None
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > self._max_body:
            return None
        return environ["wsgi.input"].read(int(length)) if length != "0" else b""
