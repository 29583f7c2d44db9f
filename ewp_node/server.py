"""Runs a WSGI app on gunicorn (the production server), in the foreground, optionally over TLS."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, app_factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self._factory = app_factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        return self._factory()


def _close_node(worker: Any) -> None:
    """gunicorn ``worker_exit`` hook: flush what the node still holds (audit entries) before the worker goes."""
    ctx = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("ewp_node")
    if ctx is not None:
        ctx.audit.close()


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def serve(app_factory: Callable[[], Any], bind: str, *, workers: int | None = None, threads: int = 4,
          certfile: str | None = None, keyfile: str | None = None, access_log: bool = False) -> None:
    """Serve until interrupted. Each worker process builds its own app (and services) after the fork.

    :param bind: ``HOST:PORT``.
    :param certfile: PEM certificate chain for HTTPS (with ``keyfile``); plain HTTP without.
    """
    _Gunicorn(app_factory, {
        "bind": bind,
        "workers": workers or default_workers(),
        "threads": threads,
        "worker_class": "gthread",
        "certfile": certfile,
        "keyfile": keyfile,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "preload_app": False,
        "timeout": 60,
        "graceful_timeout": 5,
        "worker_exit": lambda _server, worker: _close_node(worker),
    }).run()
