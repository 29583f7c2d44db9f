"""``GET /health``: ready or not, for load balancers and container health checks.

Unauthenticated and without data: ``{"status": "ready"}`` (200) when the database answers and a registry
catalogue is loaded, else ``{"status": "not ready", "checks": {...}}`` (503) naming the failed checks only.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ewp_node.context import NodeContext
from ewp_node.registry.fetch import RegistryUnavailable

log = logging.getLogger(__name__)


def _database_ok(ctx: NodeContext) -> bool:
    try:
        with ctx.sessions() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health: the database does not answer: %s", exc)
        return False
    return True


def _catalogue_ok(ctx: NodeContext) -> bool:
    try:
        return ctx.registry.index is not None  # a test registry may hold no index yet
    except RegistryUnavailable:
        return False


def health_blueprint(ctx: NodeContext) -> Blueprint:
    blueprint = Blueprint("health", __name__)

    @blueprint.get("/health")
    def health() -> Response:
        checks = {"database": _database_ok(ctx), "catalogue": _catalogue_ok(ctx)}
        if all(checks.values()):
            response = jsonify(status="ready")
        else:
            failed = {name: "ok" if ok else "failed" for name, ok in checks.items()}
            response = jsonify(status="not ready", checks=failed)
            response.status_code = 503
        response.cache_control.no_store = True
        return response

    return blueprint
