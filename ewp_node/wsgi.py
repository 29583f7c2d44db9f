"""WSGI entry point: ``app_for_home(home)`` builds the services of a node home and its Flask app.

For another WSGI server: ``EWP_NODE_HOME=/srv/ewp gunicorn 'ewp_node.wsgi:from_environment()'``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from flask import Flask

from ewp_node.app import create_app
from ewp_node.audit import AuditRole
from ewp_node.config import load_settings
from ewp_node.context import build_context
from ewp_node.registry.fetch import RegistryClient


def app_for_home(home: Path, audit_role: AuditRole = AuditRole.OWN) -> Flask:
    """The Flask app of ``home``; ``audit_role`` HAND_OFF when a background worker moves the audit journal."""
    ctx = build_context(load_settings(home), audit_role=audit_role)
    ctx.audit.start()  # takes over the audit journals of stopped workers now, not at the first request
    registry = ctx.registry
    if isinstance(registry, RegistryClient):
        registry.start_background_refresh(timedelta(seconds=ctx.settings.registry_refresh_seconds))
    return create_app(ctx)


def from_environment() -> Flask:
    return app_for_home(Path(os.environ["EWP_NODE_HOME"]))
