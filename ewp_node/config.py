"""One typed, validated configuration object per node home.

``HOME/ewp-node.toml`` is read first, then ``EWP_NODE_*`` environment variables override it: the name after
the prefix is the key in capitals, ``__`` nests (``EWP_NODE_LIMITS__MAX_HEI_IDS=50``). Every value is read
strictly by the reader its field declares (:func:`setting`): TOML values must have the right TOML type (a
boolean is ``true``/``false``, never ``"false"``), environment values are text read by the same rule (a
boolean is one of true/false, 1/0, yes/no, on/off). An unknown key or variable is refused with the nearest
valid name: a typo must not silently leave a default (a placeholder contact, plain HTTP) in place.

Adding a setting is one line: a field of :class:`Settings` (or :class:`HeiConfig`) declared with
``setting(default, reader)``.
"""

from __future__ import annotations

import difflib
import enum
import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ewp_node import __version__

CONFIG_FILE = "ewp-node.toml"
ENV_PREFIX = "EWP_NODE_"
#: ``EWP_NODE_*`` variables that are not settings (``EWP_NODE_HOME`` names the home for ``ewp_node.wsgi``).
NOT_SETTINGS = frozenset({"EWP_NODE_HOME"})
#: Production EWP Registry catalogue (DIGEST.md section 4).
DEFAULT_REGISTRY_URL = "https://registry.erasmuswithoutpaper.eu/catalogue-v1.xml"
#: Shortest ``status_token`` accepted: the token is the only thing between the internet and ``/status``.
MIN_STATUS_TOKEN = 16
_HEI_ID_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIMIT_RE = re.compile(r"^max-[a-z0-9-]+$")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


class ConfigError(ValueError):
    """The configuration is unusable; the message names the key and what is expected."""


class EnvText(str):
    """A value from an environment variable (always text), with the variable's name."""

    origin: str

    def __new__(cls, value: str, origin: str) -> EnvText:
        text = super().__new__(cls, value)
        text.origin = origin
        return text


@dataclass(frozen=True)
class Reading:
    """Where a value being read comes from, for the reader and its error message."""

    key: str
    home: Path
    allow_http: bool

    def where(self, value: Any) -> str:
        return value.origin if isinstance(value, EnvText) else f"{self.key} (in {CONFIG_FILE})"

    def fail(self, value: Any, expected: str) -> ConfigError:
        return ConfigError(f"{self.where(value)}: {expected}, not {value!r}")


Reader = Callable[[Any, Reading], Any]


def setting(default: Any = ..., read: Reader | None = None, *, factory: Callable[[], Any] | None = None) -> Any:
    """Declare a dataclass field as a setting read by ``read`` (no default: the setting is required)."""
    metadata = {"read": read}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    if default is ...:
        return field(metadata=metadata)
    return field(default=default, metadata=metadata)


# -- readers: each takes a TOML value or an EnvText, and returns the typed value or raises ConfigError ---------

def boolean(value: Any, at: Reading) -> bool:
    if isinstance(value, EnvText) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, bool):
        return value
    raise at.fail(value, "a boolean is expected (TOML true or false, without quotes; in the environment "
                         "true/false, 1/0, yes/no or on/off)")


class CapturePolicy(enum.Enum):
    """Which exchanges keep their headers and bodies (``exchange_capture``)."""

    ALL = "all"
    #: Failed exchanges only (an error status, no answer, an answer that did not verify): the wire of a
    #: successful exchange holds the partner's data (students' names and dates of birth in mobilities), which
    #: the node already stores where it belongs; a failure's wire is what the office needs to see.
    FAILURES = "failures"
    OFF = "off"

    def keeps(self, *, failed: bool) -> bool:
        """Whether an exchange that ``failed`` (or not) keeps its capture."""
        return self is CapturePolicy.ALL or (failed and self is CapturePolicy.FAILURES)


def capture_policy(value: Any, at: Reading) -> CapturePolicy:
    """``"all"``, ``"failures"`` or ``"off"``; a boolean as before (true: all, false: off)."""
    if isinstance(value, bool):
        return CapturePolicy.ALL if value else CapturePolicy.OFF
    if isinstance(value, str):
        word = value.strip().lower()
        if isinstance(value, EnvText) and word in _TRUE | _FALSE:
            return CapturePolicy.ALL if word in _TRUE else CapturePolicy.OFF
        if word in {p.value for p in CapturePolicy}:
            return CapturePolicy(word)
    raise at.fail(value, '"all", "failures" or "off" is expected (true and false still mean all and off)')


def positive_int(value: Any, at: Reading) -> int:
    if isinstance(value, EnvText) and re.fullmatch(r"[0-9]+", value.strip()):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise at.fail(value, "a positive whole number is expected (TOML without quotes)")


def text(value: Any, at: Reading) -> str:
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise at.fail(value, "a non-empty string is expected")


def optional_text(value: Any, at: Reading) -> str:
    if isinstance(value, str):
        return value.strip()
    raise at.fail(value, "a string is expected")


def email(value: Any, at: Reading) -> str:
    address = text(value, at)
    if not _EMAIL_RE.match(address):
        raise at.fail(value, "an e-mail address is expected")
    return address


def url(value: Any, at: Reading) -> str:
    return check_url(text(value, at), at.key, allow_http=at.allow_http).rstrip("/")


def path(value: Any, at: Reading) -> Path | None:
    """A file or folder; relative paths are relative to the node home; empty means unset."""
    if not isinstance(value, str):
        raise at.fail(value, "a path (string) is expected")
    if not value.strip():
        return None
    found = Path(value.strip())
    return found if found.is_absolute() else at.home / found


def optional_url(value: Any, at: Reading) -> str | None:
    """An https URL; empty means unset."""
    return url(value, at) if optional_text(value, at) else None


def secret(value: Any, at: Reading) -> str | None:
    """A shared secret (a bearer token, an HMAC key) of at least :data:`MIN_STATUS_TOKEN` characters."""
    token = optional_text(value, at)
    if token and len(token) < MIN_STATUS_TOKEN:
        raise ConfigError(f"{at.where(value)}: a token of at least {MIN_STATUS_TOKEN} characters is expected "
                          "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe())')")
    return token or None


def limits(value: Any, at: Reading) -> Mapping[str, int]:
    """``max-*`` limits by name; ``_`` is read as ``-`` (environment variable names cannot carry ``-``)."""
    if not isinstance(value, Mapping):
        raise at.fail(value, "a table of max-* limits is expected, e.g. [limits] max-hei-ids = 10")
    out = {}
    for name, limit in value.items():
        element = str(name).lower().replace("_", "-")
        if not _LIMIT_RE.match(element):
            raise at.fail(name, "a limit name such as max-hei-ids is expected")
        out[element] = positive_int(limit, Reading(f"{at.key}.{element}", at.home, at.allow_http))
    return out


def hei_id(value: Any, at: Reading) -> str:
    found = text(value, at)
    if not _HEI_ID_RE.match(found):
        raise at.fail(value, "a lower-case SCHAC id such as 'uw.edu.pl' is expected")
    return found


def names(value: Any, at: Reading) -> Mapping[str, str]:
    if isinstance(value, str) and value.strip():
        return {"en": value.strip()}
    if isinstance(value, Mapping) and value and all(isinstance(v, str) and v.strip() for v in value.values()):
        return {str(lang): v.strip() for lang, v in value.items()}
    raise at.fail(value, "names by language are expected, e.g. names = { en = \"...\" }")


def other_ids(value: Any, at: Reading) -> tuple[tuple[str, str], ...]:
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return tuple((str(kind), v) for kind, v in value.items())
    raise at.fail(value, "other ids by type are expected, e.g. other_ids = { erasmus = \"F LYON01\" }")


def api_names(value: Any, at: Reading) -> frozenset[str]:
    if isinstance(value, EnvText):
        value = [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, list) and all(isinstance(name, str) and name.strip() for name in value):
        return frozenset(name.strip() for name in value)
    raise at.fail(value, 'a list of API names is expected, e.g. disabled_apis = ["iias"]')


@dataclass(frozen=True)
class HeiConfig:
    """One HEI covered by this node (a ``[[heis]]`` table): SCHAC id (lower case), names by language, other
    ids by type."""

    id: str = setting(read=hei_id)
    names: Mapping[str, str] = setting(read=names)
    other_ids: tuple[tuple[str, str], ...] = setting((), other_ids)
    #: APIs (manifest entry names, e.g. ``iias``) this HEI has served elsewhere (the Erasmus Dashboard or
    #: another provider): left out of its manifest and refused on its URLs. Default: every API is served.
    disabled_apis: frozenset[str] = setting(frozenset(), api_names)

    def serves(self, api: str) -> bool:
        return api not in self.disabled_apis


def heis(value: Any, at: Reading) -> tuple[HeiConfig, ...]:
    if isinstance(value, EnvText):
        try:
            value = json.loads(value)
        except ValueError:
            raise at.fail(value, "a JSON list of HEI tables is expected") from None
    if not isinstance(value, list) or not value:
        raise at.fail(value, "at least one [[heis]] table is expected")
    found = tuple(HeiConfig(**read_table(HeiConfig, raw, Reading(f"heis[{i}]", at.home, at.allow_http)))
                  for i, raw in enumerate(value))
    if len({h.id for h in found}) != len(found):
        raise ConfigError("heis: a HEI id is listed twice")
    return found


@dataclass(frozen=True)
class Settings:
    """Everything a node needs to start. Build it with :func:`load_settings` (or directly in tests).

    Each field declared with :func:`setting` is a key of ``ewp-node.toml`` (and an ``EWP_NODE_*`` variable).
    """

    home: Path
    #: Public https URL of the node; the signed ``Host`` header must match its host[:port].
    base_url: str = setting(read=url)
    heis: tuple[HeiConfig, ...] = setting(read=heis)
    registry_url: str = setting(DEFAULT_REGISTRY_URL, url)
    #: SQLAlchemy URL (empty: SQLite in the home).
    database_url: str = setting("", optional_text)
    admin_email: str = setting("admin@example.invalid", email)
    admin_provider: str = setting(f"ewp-node {__version__}", text)
    #: PEM files of the TLS certificate and key that ``serve`` listens with (None: plain HTTP behind a proxy).
    tls_cert: Path | None = setting(None, path)
    tls_key: Path | None = setting(None, path)
    #: CA bundle our client trusts for partners and the registry (None: the system's CAs). Widening it lets
    #: more certificates impersonate partners: keep it to the public CAs in production.
    ca_bundle: Path | None = setting(None, path)
    #: Accept plain ``http://`` URLs (loopback tests only): EWP is HTTPS-only.
    allow_http: bool = setting(False, boolean)
    #: Official EWP specs folder; when set, every response is validated before it leaves (slow; tests).
    specs_dir: Path | None = setting(None, path)
    #: Largest request body accepted, before any parsing.
    max_request_bytes: int = setting(1024 * 1024, positive_int)
    #: ``max-*`` limits advertised and enforced, by limit name (e.g. ``max-hei-ids``).
    limits: Mapping[str, int] = setting(read=limits, factory=dict)
    #: Seconds between registry catalogue refreshes.
    registry_refresh_seconds: int = setting(300, positive_int)
    #: Offer ``ewp-rsa-aes128gcm`` request and response encryption besides TLS. Optional in EWP, and the
    #: official validator advises against it (TLS is enough); turn it on only for a partner that needs it.
    rsa_aes128gcm: bool = setting(False, boolean)
    #: The bearer token ``/status`` requires (None: the page is closed). The page shows partners and
    #: traffic: treat the token like a password.
    status_token: str | None = setting(None, secret)
    #: Hours after which the outbox stops retrying a notification a partner keeps failing (it is then shown
    #: as given up in ``ewp-node cnr HOME list``; ``retry ID`` starts it again).
    outbox_give_up_hours: int = setting(24, positive_int)
    #: Where the student information system takes recognition records by POST (None: files in
    #: ``HOME/sis-outbox/`` only), and the secret of their HMAC-SHA256 signature (required with the URL).
    sis_webhook_url: str | None = setting(None, optional_url)
    sis_webhook_secret: str | None = setting(None, secret)
    #: Which exchanges keep their URL, headers and bodies for the console (secrets redacted:
    #: ``ewp_node/capture.py``): all, failures only, or none; each body cut to ``exchange_capture_bytes``, for
    #: ``exchange_capture_days`` days (the audit row stays).
    exchange_capture: CapturePolicy = setting(CapturePolicy.ALL, capture_policy)
    exchange_capture_bytes: int = setting(64 * 1024, positive_int)
    exchange_capture_days: int = setting(14, positive_int)

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


def nearest(name: str, valid: list[str]) -> str:
    """A hint naming the valid name closest to a misspelt ``name`` (or listing them all)."""
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(valid))})"


def read_table(cls: type, raw: Any, at: Reading) -> dict[str, Any]:
    """The keyword arguments of dataclass ``cls`` read from the table ``raw`` by each field's reader.

    :raises ConfigError: not a table, an unknown key (naming the nearest valid one), a missing required key
        or a bad value.
    """
    if not isinstance(raw, Mapping):
        raise at.fail(raw, "a table is expected")
    declared = {f.name: f for f in fields(cls) if f.metadata.get("read") is not None}
    where = f"{at.key}." if at.key else ""
    for key in raw:
        if key not in declared:
            value = raw[key]
            if isinstance(value, EnvText):
                variables = [ENV_PREFIX + name.upper() for name in declared]
                raise ConfigError(f"{value.origin}: unknown setting{nearest(value.origin, variables)}")
            raise ConfigError(f"{where}{key}: unknown setting in {CONFIG_FILE}{nearest(str(key), list(declared))}")
    out: dict[str, Any] = {}
    for name, declaration in declared.items():
        if name in raw:
            out[name] = declaration.metadata["read"](raw[name], Reading(f"{where}{name}", at.home, at.allow_http))
        elif declaration.default is MISSING and declaration.default_factory is MISSING:
            raise ConfigError(f"{where}{name}: required in {CONFIG_FILE}")
    return out


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in NOT_SETTINGS:
            continue
        keys = name[len(ENV_PREFIX):].lower().split("__")
        target = out
        for key in keys[:-1]:
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{name}: {key} is not a table of settings")
        target[keys[-1]] = EnvText(environ[name], name)
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


def settings_from_mapping(home: Path, data: Mapping[str, Any]) -> Settings:
    """Validate a raw mapping (TOML + overrides) into :class:`Settings`.

    :raises ConfigError: naming the first bad key.
    """
    allow_http = boolean(data["allow_http"], Reading("allow_http", home, False)) if "allow_http" in data else False
    values = read_table(Settings, data, Reading("", home, allow_http))
    values.setdefault("database_url", "")
    values["database_url"] = values["database_url"] or f"sqlite:///{home / 'ewp-node.sqlite3'}"
    if values.get("sis_webhook_url") and not values.get("sis_webhook_secret"):
        raise ConfigError("sis_webhook_secret: a secret of at least 16 characters is required with sis_webhook_url")
    return Settings(home=home, **values)


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
