"""Creating a node home: configuration file, fresh key pairs (mode 0600) and an upgraded database."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.exc import SQLAlchemyError

from ewp_node.config import CONFIG_FILE, DEFAULT_REGISTRY_URL, ConfigError, Settings, load_settings
from ewp_node.preflight import NotReady, database_problem
from ewp_node.security.keys import generate_private_key_file
from ewp_node.store.db import make_engine, upgrade_database

#: A SCHAC home organization is a lower-case domain name: at least two labels (``uw.edu.pl``).
_SCHAC_ID = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


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
    #: Accept plain ``http://`` URLs (loopback tests only); saved so that every later command knows it.
    allow_http: bool = False
    #: Extra top-level settings written verbatim (the sandbox adds TLS and CA paths).
    extra: dict[str, object] = field(default_factory=dict)
    #: The HEI's other ids by type (``erasmus``, ``pic``...), published in its manifest.
    other_ids: dict[str, str] = field(default_factory=dict)


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
    extra = ({"allow_http": True} if spec.allow_http else {}) | spec.extra
    lines += [f"{key} = {_toml_value(value)}" for key, value in extra.items()]
    lines += ["", "[[heis]]", f"id = {_toml_value(spec.hei_id)}", f"names = {{ en = {_toml_value(spec.hei_name)} }}"]
    if spec.other_ids:
        ids = ", ".join(f"{_toml_value(kind)} = {_toml_value(value)}" for kind, value in spec.other_ids.items())
        lines.append(f"other_ids = {{ {ids} }}")
    return "\n".join(lines) + "\n"


def check_spec(spec: HomeSpec) -> None:
    """What the configuration loader cannot know is wrong in a new node's values.

    :raises ConfigError: a HEI id that is not a domain name, or a base URL port outside 1-65535.
    """
    if not _SCHAC_ID.match(spec.hei_id):
        raise ConfigError(f"--hei-id {spec.hei_id!r}: a SCHAC id is the HEI's lower-case internet domain, "
                          "e.g. 'uw.edu.pl'")
    for option, url in (("--base-url", spec.base_url), ("--registry-url", spec.registry_url)):
        try:
            port = urlsplit(url).port
        except ValueError:
            port = 0
        if port == 0:
            raise ConfigError(f"{option} {url!r}: the port must be a number from 1 to 65535")


def _upgrade(database_url: str) -> None:
    try:
        engine = make_engine(database_url)
        try:
            upgrade_database(engine)
        finally:
            engine.dispose()  # close now: a later close would checkpoint the SQLite WAL behind the caller's back
    except SQLAlchemyError as exc:
        raise NotReady(database_problem(database_url, exc)) from None


def create_home(home: Path, spec: HomeSpec) -> Settings:
    """Create a node home. Refuses to touch an existing, non-empty folder.

    :raises ConfigError: the folder is in use, or the values are invalid.
    :raises NotReady: the database cannot be reached or upgraded.
    Whatever fails, nothing is left behind: the files written and the folders made are removed.
    """
    check_spec(spec)
    if home.exists() and any(home.iterdir()):
        raise ConfigError(f"{home} already exists and is not empty: refusing to overwrite a node home")
    made = [folder for folder in (home, *home.parents) if not folder.exists()]  # deepest first
    home.mkdir(parents=True, exist_ok=True)
    try:
        (home / CONFIG_FILE).write_text(render_config(spec), encoding="utf-8")
        settings = load_settings(home, environ={k: v for k, v in os.environ.items() if k == "EWP_NODE_ALLOW_HTTP"})
        (home / "keys").mkdir(mode=0o700)
        generate_private_key_file(settings.client_key_path)
        generate_private_key_file(settings.server_key_path)
        _upgrade(settings.database_url)
    except BaseException:
        for entry in home.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        for folder in made:
            folder.rmdir()
        raise
    return settings
