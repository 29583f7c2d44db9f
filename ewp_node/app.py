"""Flask app factory: wires settings, store, registry, security and the enabled handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import ModuleType

from flask import Flask, Response, g, request

from ewp_node.api import ApiSpec, HandlerServices, Limit
from ewp_node.config import ConfigError, Settings, nearest
from ewp_node.context import KeyPair, NodeContext
from ewp_node.dispatch import ApiEndpoint, ApiFront, finish
from ewp_node.errors import (
    REJECTED_ENVIRON_KEY,
    EwpError,
    MethodNotAllowed,
    NotFound,
    RejectedByServer,
    install_error_handlers,
)
from ewp_node.manifest import MANIFEST_PATH, build_manifest
from ewp_node.responses import Answer, serialize
from ewp_node.security import middleware
from ewp_node.security.keys import public_key_b64
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


def check_api_names(settings: Settings, apis: Sequence[ApiSpec]) -> None:
    """:raises ConfigError: a ``disabled_apis`` entry names no API of this node."""
    known = {api.name for api in apis}
    for hei in settings.heis:
        unknown = sorted(hei.disabled_apis - known)
        if unknown:
            raise ConfigError(f"heis ({hei.id}).disabled_apis: unknown API(s) {', '.join(unknown)}; "
                              f"known: {', '.join(sorted(known))}")


def _make_view(target: ApiEndpoint) -> Callable[..., Response]:
    def dispatch(url_hei: str | None = None) -> Response:
        state: middleware.RequestState = g.ewp
        if state.method == "HEAD":  # Flask adds HEAD to GET routes; EWP knows GET and POST only
            raise MethodNotAllowed("HEAD is not supported: use GET or POST")
        return target.answer(state, request.get_data(cache=True), request.query_string, url_hei).response()

    dispatch.__name__ = f"{target.api.name}_{target.endpoint.element}".replace("-", "_")
    return dispatch


def _register_api(app: Flask, targets: list[ApiEndpoint], api: ApiSpec, api_names: dict[str, str]) -> None:
    """Add the API's routes, and each route endpoint's API name to ``api_names``; its endpoints to ``targets``."""
    ctx: NodeContext = app.extensions["ewp_node"]
    services = HandlerServices(ctx)
    for endpoint in api.endpoints:
        target = ApiEndpoint(ctx, services, api, endpoint)
        targets.append(target)
        view = _make_view(target)
        rules = [f"/ewp/{endpoint.path}"]
        if ctx.settings.multi_hei:
            rules.append(f"/hei/<url_hei>/ewp/{endpoint.path}")
        for rule in rules:
            name = f"{api.name}:{endpoint.element}:{rule}"
            app.add_url_rule(rule, endpoint=name, view_func=view, methods=list(endpoint.methods),
                             provide_automatic_options=False)
            api_names[name] = api.name


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
    targets: list[ApiEndpoint] = []
    apis = enabled_apis()
    check_limits(ctx.settings, apis)
    check_api_names(ctx.settings, apis)
    for api in apis:
        _register_api(app, targets, api, api_names)
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
        if state is None or response.direct_passthrough:
            return response
        return finish(ctx, state, Answer.of(response), middleware.signing_budget(app)).response()

    app.wsgi_app = ApiFront(ctx, targets, app.wsgi_app, lambda: middleware.signing_budget(app))  # type: ignore[method-assign]
    return app


__all__ = ["EwpError", "create_app", "enabled_apis", "manifest_bytes"]
