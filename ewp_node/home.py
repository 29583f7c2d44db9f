"""Creating a node home: configuration file, fresh key pairs (mode 0600) and an upgraded database."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ewp_node.config import CONFIG_FILE, DEFAULT_REGISTRY_URL, ConfigError, Settings, load_settings
from ewp_node.security.keys import generate_private_key_file
from ewp_node.store.db import make_engine, upgrade_database


@dataclass(frozen=True)
class HomeSpec:
    """What ``ewp-node init`` needs to know about a new node."""

    hei_id: str
    hei_name: str
    base_url: str
    registry_url: str = DEFAULT_REGISTRY_URL
    database_url: str | None = None
    admin_email: str | None = None
    #: Bearer token of the ``/status`` page (a fresh random one by default).
    status_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    #: Extra top-level settings written verbatim (the sandbox adds TLS and CA paths).
    extra: dict[str, object] = field(default_factory=dict)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def render_config(spec: HomeSpec) -> str:
    lines = [
        "# ewp-node configuration; EWP_NODE_<KEY> environment variables override any key.",
        f"base_url = {_toml_value(spec.base_url)}",
        f"registry_url = {_toml_value(spec.registry_url)}",
        f"admin_email = {_toml_value(spec.admin_email or 'admin@' + spec.hei_id)}",
        "# /status needs 'Authorization: Bearer <status_token>'; 'ewp-node status HOME' prints the same summary.",
        f"status_token = {_toml_value(spec.status_token)}",
    ]
    if spec.database_url:
        lines.append(f"database_url = {_toml_value(spec.database_url)}")
    lines += [f"{key} = {_toml_value(value)}" for key, value in spec.extra.items()]
    lines += ["", "[[heis]]", f"id = {_toml_value(spec.hei_id)}", f"names = {{ en = {_toml_value(spec.hei_name)} }}"]
    return "\n".join(lines) + "\n"


def create_home(home: Path, spec: HomeSpec) -> Settings:
    """Create a node home. Refuses to touch an existing, non-empty folder.

    :raises ConfigError: the folder is in use, or the values are invalid (nothing is left behind then).
    """
    if home.exists() and any(home.iterdir()):
        raise ConfigError(f"{home} already exists and is not empty: refusing to overwrite a node home")
    home.mkdir(parents=True, exist_ok=True)
    config_file = home / CONFIG_FILE
    try:
        config_file.write_text(render_config(spec), encoding="utf-8")
        settings = load_settings(home, environ={k: v for k, v in os.environ.items() if k == "EWP_NODE_ALLOW_HTTP"})
        keys = home / "keys"
        keys.mkdir(mode=0o700)
        generate_private_key_file(settings.client_key_path)
        generate_private_key_file(settings.server_key_path)
        engine = make_engine(settings.database_url)
        upgrade_database(engine)
        engine.dispose()  # close now: a later close would checkpoint the SQLite WAL behind the caller's back
    except Exception:
        for path in sorted(home.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        raise
    return settings
