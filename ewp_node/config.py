"""One typed, validated configuration object per node home.

``HOME/ewp-node.toml`` is read first, then ``EWP_NODE_*`` environment variables override it: the name after
the prefix is the key, ``__`` nests (``EWP_NODE_LIMITS__MAX_IDS=50``), and each value is read as JSON where it
parses (numbers, booleans, lists) and as a plain string otherwise, as Flask's ``from_prefixed_env`` does.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ewp_node import __version__

CONFIG_FILE = "ewp-node.toml"
ENV_PREFIX = "EWP_NODE_"
#: Production EWP Registry catalogue (DIGEST.md section 4).
DEFAULT_REGISTRY_URL = "https://registry.erasmuswithoutpaper.eu/catalogue-v1.xml"
_HEI_ID_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key and what is expected."""


@dataclass(frozen=True)
class HeiConfig:
    """One HEI covered by this node: SCHAC id (lower case), names by language, other ids by type."""

    id: str
    names: Mapping[str, str]
    other_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Settings:
    """Everything a node needs to start. Build it with :func:`load_settings` (or directly in tests)."""

    home: Path
    base_url: str
    heis: tuple[HeiConfig, ...]
    registry_url: str = DEFAULT_REGISTRY_URL
    database_url: str = ""
    admin_email: str = "admin@example.invalid"
    admin_provider: str = f"ewp-node {__version__}"
    #: PEM files of the TLS certificate and key that ``serve`` listens with (None: plain HTTP behind a proxy).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: CA bundle our client trusts for partners and the registry (None: the system's CAs). Widening it lets
    #: more certificates impersonate partners: keep it to the public CAs in production.
    ca_bundle: Path | None = None
    #: Accept plain ``http://`` URLs (loopback tests only): EWP is HTTPS-only.
    allow_http: bool = False
    #: Official EWP specs folder; when set, every response is validated before it leaves (slow; tests).
    specs_dir: Path | None = None
    #: Largest request body accepted, before any parsing.
    max_request_bytes: int = 1024 * 1024
    #: ``max-*`` limits advertised and enforced, by limit name (e.g. ``max-hei-ids``).
    limits: Mapping[str, int] = field(default_factory=dict)
    #: Seconds between registry catalogue refreshes.
    registry_refresh_seconds: int = 300
    #: Offer ``ewp-rsa-aes128gcm`` request and response encryption besides TLS. Optional in EWP, and the
    #: official validator advises against it (TLS is enough); turn it on only for a partner that needs it.
    rsa_aes128gcm: bool = False
    #: Token that opens ``/status`` to non-loopback clients (None: loopback only). The page shows partners
    #: and traffic: treat the token like a password.
    status_token: str | None = None
    #: Hours after which the outbox stops retrying a notification a partner keeps failing (it is then shown
    #: as given up in ``ewp-node cnr HOME list``; ``retry ID`` starts it again).
    outbox_give_up_hours: float = 24.0
    #: Where the student information system takes recognition records by POST (None: files in
    #: ``HOME/sis-outbox/`` only), and the secret of their HMAC-SHA256 signature (required with the URL).
    sis_webhook_url: str | None = None
    sis_webhook_secret: str | None = None

    @property
    def hei_ids(self) -> frozenset[str]:
        return frozenset(h.id for h in self.heis)

    @property
    def host(self) -> str:
        """``host[:port]`` of the base URL: what a signed ``Host`` header must say."""
        return urlsplit(self.base_url).netloc.lower()

    @property
    def client_key_path(self) -> Path:
        return self.home / "keys" / "client-key.pem"

    @property
    def server_key_path(self) -> Path:
        return self.home / "keys" / "server-key.pem"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def multi_hei(self) -> bool:
        return len(self.heis) > 1

    def hei_prefix(self, hei_id: str) -> str:
        """Path prefix of one HEI's URLs. Discovery v6 allows one HEI per manifest, so a node covering
        several HEIs publishes one manifest and one URL set per HEI under ``/hei/<id>``."""
        return f"/hei/{hei_id}" if self.multi_hei else ""

    def url(self, path: str, hei_id: str | None = None) -> str:
        """Absolute URL of one of our endpoints (of ``hei_id``'s URL set on a multi-HEI node)."""
        prefix = self.hei_prefix(hei_id or self.heis[0].id)
        return self.base_url + prefix + "/" + path.lstrip("/")

    def limit(self, name: str, default: int) -> int:
        return int(self.limits.get(name, default))


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        raw = environ[name]
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        keys = name[len(ENV_PREFIX):].lower().split("__")
        target = out
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def check_url(url: str, what: str, *, allow_http: bool) -> str:
    """Refuse anything but https (or http when explicitly allowed for loopback tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and allow_http):
        if not parts.netloc:
            raise ConfigError(f"{what}: {url!r} has no host")
        return url
    if parts.scheme == "http":
        raise ConfigError(f"{what}: plain http:// is refused ({url}); EWP requires HTTPS "
                          "(set EWP_NODE_ALLOW_HTTP=1 for loopback tests only)")
    raise ConfigError(f"{what}: {url!r} is not an https:// URL")


def _hei(raw: Any, index: int) -> HeiConfig:
    if not isinstance(raw, Mapping) or "id" not in raw:
        raise ConfigError(f"heis[{index}]: a table with at least 'id' and 'names' is expected")
    hei_id = str(raw["id"]).strip()
    if hei_id != hei_id.lower() or not _HEI_ID_RE.match(hei_id):
        raise ConfigError(f"heis[{index}].id: {hei_id!r} is not a lower-case SCHAC id such as 'uw.edu.pl'")
    names = raw.get("names") or {}
    if isinstance(names, str):
        names = {"en": names}
    if not names:
        raise ConfigError(f"heis[{index}].names: at least one name is required")
    other = tuple((str(t), str(v)) for t, v in dict(raw.get("other_ids") or {}).items())
    return HeiConfig(id=hei_id, names={str(k): str(v) for k, v in names.items()}, other_ids=other)


def _path(home: Path, value: Any) -> Path | None:
    if value in (None, ""):
        return None
    path = Path(str(value))
    return path if path.is_absolute() else home / path


def settings_from_mapping(home: Path, data: Mapping[str, Any]) -> Settings:
    """Validate a raw mapping (TOML + overrides) into :class:`Settings`.

    :raises ConfigError: naming the first bad key.
    """
    allow_http = bool(data.get("allow_http", False))
    if "base_url" not in data:
        raise ConfigError("base_url: required (the public https URL under which this node is served)")
    heis_raw = data.get("heis") or []
    if not isinstance(heis_raw, list) or not heis_raw:
        raise ConfigError("heis: at least one [[heis]] table is required")
    heis = tuple(_hei(h, i) for i, h in enumerate(heis_raw))
    if len({h.id for h in heis}) != len(heis):
        raise ConfigError("heis: a HEI id is listed twice")
    limits = data.get("limits") or {}
    if not isinstance(limits, Mapping) or not all(isinstance(v, int) and v >= 1 for v in limits.values()):
        raise ConfigError("limits: a table of positive integers is expected, e.g. max-hei-ids = 10")
    database_url = str(data.get("database_url") or f"sqlite:///{home / 'ewp-node.sqlite3'}")
    try:
        max_request_bytes = int(data.get("max_request_bytes", Settings.max_request_bytes))
        refresh = int(data.get("registry_refresh_seconds", Settings.registry_refresh_seconds))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"max_request_bytes / registry_refresh_seconds: integers expected ({exc})") from None
    return Settings(
        home=home,
        base_url=check_url(str(data["base_url"]), "base_url", allow_http=allow_http).rstrip("/"),
        heis=heis,
        registry_url=check_url(str(data.get("registry_url", DEFAULT_REGISTRY_URL)), "registry_url",
                               allow_http=allow_http),
        database_url=database_url,
        admin_email=str(data.get("admin_email", Settings.admin_email)),
        admin_provider=str(data.get("admin_provider", Settings.admin_provider)),
        tls_cert=_path(home, data.get("tls_cert")),
        tls_key=_path(home, data.get("tls_key")),
        ca_bundle=_path(home, data.get("ca_bundle")),
        allow_http=allow_http,
        specs_dir=_path(home, data.get("specs_dir")),
        max_request_bytes=max_request_bytes,
        limits={str(k): int(v) for k, v in limits.items()},
        registry_refresh_seconds=refresh,
        status_token=str(data["status_token"]) if data.get("status_token") else None,
        rsa_aes128gcm=bool(data.get("rsa_aes128gcm", False)),
        outbox_give_up_hours=_give_up_hours(data),
        **_sis_webhook(data, allow_http),
    )


def _sis_webhook(data: Mapping[str, Any], allow_http: bool) -> dict[str, str | None]:
    url, secret = data.get("sis_webhook_url") or None, data.get("sis_webhook_secret") or None
    if url is None:
        return {"sis_webhook_url": None, "sis_webhook_secret": None}
    if not isinstance(secret, str) or len(secret) < 16:
        raise ConfigError("sis_webhook_secret: a secret of at least 16 characters is required with sis_webhook_url")
    return {"sis_webhook_url": check_url(str(url), "sis_webhook_url", allow_http=allow_http),
            "sis_webhook_secret": secret}


def _give_up_hours(data: Mapping[str, Any]) -> float:
    value = data.get("outbox_give_up_hours", Settings.outbox_give_up_hours)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 24 * 365:
        raise ConfigError(f"outbox_give_up_hours: a number of hours above 0 expected, got {value!r}")
    return float(value)


def load_settings(home: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``HOME/ewp-node.toml`` and apply ``EWP_NODE_*`` overrides.

    :raises ConfigError: missing file, bad TOML or an invalid value.
    """
    home_path = Path(home).resolve()
    config_file = home_path / CONFIG_FILE
    if not config_file.is_file():
        raise ConfigError(f"{config_file}: no such file (create a node home with 'ewp-node init')")
    try:
        data = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file}: invalid TOML: {exc}") from None
    overrides = _env_overrides(os.environ if environ is None else environ)
    return settings_from_mapping(home_path, _merge(data, overrides))
