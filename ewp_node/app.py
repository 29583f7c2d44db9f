"""Flask app factory: wires settings, store, registry, security and the enabled handlers."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import ModuleType

from flask import Flask, Response, g, request

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, FileBody, HandlerServices, Limit, XmlBody
from ewp_node.config import ConfigError, Settings, nearest
from ewp_node.context import KeyPair, NodeContext
from ewp_node.errors import (
    REJECTED_ENVIRON_KEY,
    EwpError,
    MethodNotAllowed,
    NotFound,
    RejectedByServer,
    install_error_handlers,
)
from ewp_node.manifest import MANIFEST_PATH, build_manifest
from ewp_node.params import Params, read_form
from ewp_node.responses import XML_CONTENT_TYPE, serialize, xml_response
from ewp_node.security import middleware
from ewp_node.security.keys import public_key_b64
from ewp_node.store.audit import Direction, Exchange
from ewp_node.store.captures import Capture
from ewp_node.web.health import health_blueprint
from ewp_node.web.office import office_blueprint
from ewp_node.web.status import status_blueprint

log = logging.getLogger(__name__)


def enabled_apis(modules: Sequence[ModuleType] | None = None) -> list[ApiSpec]:
    if modules is None:
        import handlers

        modules = handlers.ENABLED
    return [module.API for module in modules]


def check_limits(settings: Settings, apis: Sequence[ApiSpec]) -> None:
    """Every configured ``max-*`` limit belongs to an enabled API. :raises ConfigError: naming the nearest."""
    declared = sorted({item.element for api in apis for item in api.items if isinstance(item, Limit)})
    for name in settings.limits:
        if name not in declared:
            raise ConfigError(f"limits.{name}: no enabled API has this limit{nearest(name, declared)}")


def manifest_bytes(settings: Settings, client_key: KeyPair, server_key: KeyPair,
                   hei_id: str | None = None) -> bytes:
    """The manifest of one covered HEI (the first one by default), as served at ``/manifest.xml``."""
    hei = next((h for h in settings.heis if h.id == (hei_id or settings.heis[0].id)), None)
    if hei is None:
        raise NotFound(f"this node does not cover HEI {hei_id!r}")
    apis = enabled_apis()
    check_limits(settings, apis)
    element = build_manifest(settings, [api for api in apis if hei.serves(api.name)], hei,
                             public_key_b64(client_key.private.public_key()),
                             public_key_b64(server_key.private.public_key()))
    return serialize(element)


def _params(endpoint: Endpoint, method: str, query_string: bytes, body: bytes) -> Params:
    """The parameters: the query string for GET, the form body for POST (its query is ignored)."""
    if method == "GET":
        raw = query_string
    elif endpoint.body == "xml":
        return Params(())
    else:
        raw = body
    return read_form(raw)


def _render(ctx: NodeContext, result: object) -> Response:
    if isinstance(result, FileBody):
        return Response(result.content, content_type=result.media_type)
    if ctx.schemas is not None:
        ctx.schemas.validate(result.content if isinstance(result, XmlBody) else result)  # type: ignore[arg-type]
    if isinstance(result, XmlBody):
        return Response(result.content, content_type=XML_CONTENT_TYPE)
    return xml_response(result)  # type: ignore[arg-type]


def _check_enabled(settings: Settings, api: str, url_hei: str | None) -> None:
    """:raises NotFound: no HEI behind this URL serves ``api`` here (per-HEI enablement, ``disabled_apis``)."""
    heis = [h for h in settings.heis if url_hei in (None, h.id)]
    if not any(h.serves(api) for h in heis):
        raise NotFound(f"{api} of {' '.join(h.id for h in heis)} is not served by this node: see the registry "
                       "for the host that serves it")


def check_api_names(settings: Settings, apis: Sequence[ApiSpec]) -> None:
    """:raises ConfigError: a ``disabled_apis`` entry names no API of this node."""
    known = {api.name for api in apis}
    for hei in settings.heis:
        unknown = sorted(hei.disabled_apis - known)
        if unknown:
            raise ConfigError(f"heis ({hei.id}).disabled_apis: unknown API(s) {', '.join(unknown)}; "
                              f"known: {', '.join(sorted(known))}")


def _make_view(ctx: NodeContext, api: ApiSpec, endpoint: Endpoint):  # type: ignore[no-untyped-def]
    view = api.views[endpoint.element]
    services = HandlerServices(ctx)

    def dispatch(url_hei: str | None = None) -> Response:
        state: middleware.RequestState = g.ewp
        if state.method == "HEAD":  # Flask adds HEAD to GET routes; EWP knows GET and POST only
            raise MethodNotAllowed("HEAD is not supported: use GET or POST")
        if url_hei is not None and url_hei not in ctx.settings.hei_ids:
            raise NotFound(f"this node does not cover HEI {url_hei!r}")
        _check_enabled(ctx.settings, api.name, url_hei)
        body = state.body = request.get_data(cache=True)
        caller = middleware.authenticate(ctx, state, body, anonymous_allowed=api.anonymous)
        body = state.body = middleware.negotiate_encryption(ctx, state, body)
        ewp_request = EwpRequest(params=_params(endpoint, state.method, request.query_string, body), caller=caller,
                                 services=services, url_hei=url_hei, body=body if endpoint.body == "xml" else b"",
                                 api_name=api.name)
        return _render(ctx, view(ewp_request))

    dispatch.__name__ = f"{api.name}_{endpoint.element}".replace("-", "_")
    return dispatch


def _register_api(app: Flask, ctx: NodeContext, api: ApiSpec, api_names: dict[str, str]) -> None:
    """Add the API's routes, and each route endpoint's API name to ``api_names``."""
    for endpoint in api.endpoints:
        view = _make_view(ctx, api, endpoint)
        rules = [f"/ewp/{endpoint.path}"]
        if ctx.settings.multi_hei:
            rules.append(f"/hei/<url_hei>/ewp/{endpoint.path}")
        for rule in rules:
            name = f"{api.name}:{endpoint.element}:{rule}"
            app.add_url_rule(rule, endpoint=name, view_func=view, methods=list(endpoint.methods),
                             provide_automatic_options=False)
            api_names[name] = api.name


def _audit(ctx: NodeContext, state: middleware.RequestState, response: Response, body: bytes | None) -> None:
    """Record the exchange; ``body`` is the response body before content codings (references only: the audit
    sink redacts and cuts the capture)."""
    caller = state.caller
    heis = caller.hei_ids if caller is not None else frozenset()
    message = None
    if response.status_code >= 400:
        message = response.headers.get("X-EWP-Verification-Message") or response.status
    ctx.audit.record(Exchange(
        at=datetime.now(UTC), direction=Direction.IN, api=state.api, method=state.method,
        status=response.status_code, duration_ms=int((time.perf_counter() - state.started) * 1000),
        partner_hei=next(iter(heis)) if len(heis) == 1 else None,
        request_id=state.headers.get("x-request-id"),
        key_id=caller.key_id if caller is not None else None, message=message,
        capture=Capture(state.target, state.headers.items(), state.body, response.headers, body),
    ))


def create_app(ctx: NodeContext) -> Flask:
    """The node's WSGI app for the services in ``ctx`` (tests build the context themselves)."""
    app = Flask("ewp_node")
    # werkzeug answers a path with ``//``, or a path missing a rule's trailing "/", by a redirect to the client's
    # own Host header (an open redirect to any host): such paths are a 404 error-response instead, and the one
    # rule that ends with "/" (the console's home) also answers without it.
    app.url_map.merge_slashes = False
    app.config["MAX_CONTENT_LENGTH"] = ctx.settings.max_request_bytes
    app.extensions["ewp_node"] = ctx
    install_error_handlers(app)
    middleware.install(app)
    api_names: dict[str, str] = {}
    apis = enabled_apis()
    check_limits(ctx.settings, apis)
    check_api_names(ctx.settings, apis)
    for api in apis:
        _register_api(app, ctx, api, api_names)
    app.register_blueprint(status_blueprint(ctx))
    app.register_blueprint(health_blueprint(ctx))
    app.register_blueprint(office_blueprint(ctx))

    @app.get(f"/{MANIFEST_PATH}")
    @app.get(f"/hei/<hei_id>/{MANIFEST_PATH}")
    def manifest(hei_id: str | None = None) -> Response:
        data = manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, hei_id)
        return Response(data, content_type="application/xml; charset=utf-8")

    @app.before_request
    def _begin() -> None:
        rule = request.url_rule
        api = api_names.get(rule.endpoint) if rule is not None else None
        if api is None and "/ewp/" in request.path:  # an EWP URL called with a wrong method: signed too
            api = "unknown"
        if api is not None:
            g.ewp = middleware.RequestState.begin(api, request.environ)
        rejected: RejectedByServer | None = request.environ.get(REJECTED_ENVIRON_KEY)
        if rejected is not None:
            raise rejected

    @app.after_request
    def _finalize(response: Response) -> Response:
        state: middleware.RequestState | None = g.get("ewp")
        if state is not None:
            body = None if response.direct_passthrough else response.get_data()  # before gzip and encryption
            response = middleware.finalize_response(ctx, state, response)
            _audit(ctx, state, response, body)
        return response

    return app


__all__ = ["EwpError", "create_app", "enabled_apis", "manifest_bytes"]
