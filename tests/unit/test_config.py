"""Settings are read strictly (issue 7 finding 9): typed values, refused unknown keys with the nearest name,
environment overrides read by the same rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from ewp_node.config import (
    DEFAULT_REGISTRY_URL,
    MIN_STATUS_TOKEN,
    CapturePolicy,
    ConfigError,
    HeiConfig,
    Settings,
    load_settings,
)

BASE = '''
base_url = "https://ewp.uni.example.eu/"

[[heis]]
id = "uni.example.eu"
names = { en = "Example University", fr = "Université Exemple" }
'''


def _home(tmp_path: Path, extra: str = "", tables: str = "") -> Path:
    top, heis = BASE.split("[[heis]]")
    (tmp_path / "ewp-node.toml").write_text(top + extra + "\n[[heis]]" + heis + tables, encoding="utf-8")
    return tmp_path


def _load(tmp_path: Path, extra: str = "", env: dict[str, str] | None = None, tables: str = "") -> Settings:
    return load_settings(_home(tmp_path, extra, tables), environ=env or {})


def test_defaults(tmp_path: Path) -> None:
    settings = _load(tmp_path)
    assert settings.base_url == "https://ewp.uni.example.eu"
    assert settings.heis == (HeiConfig(id="uni.example.eu", names={"en": "Example University",
                                                                  "fr": "Université Exemple"}),)
    assert settings.registry_url == DEFAULT_REGISTRY_URL
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'ewp-node.sqlite3'}"
    assert (settings.allow_http, settings.rsa_aes128gcm, settings.status_token) == (False, False, None)
    assert (settings.max_request_bytes, settings.registry_refresh_seconds, dict(settings.limits)) == (1048576, 300, {})
    assert settings.tls_cert is settings.tls_key is settings.ca_bundle is settings.specs_dir is None


def test_every_kind_of_value_from_toml(tmp_path: Path) -> None:
    token = "t" * MIN_STATUS_TOKEN
    settings = _load(tmp_path, f'''
registry_url = "https://registry.example.eu/catalogue-v1.xml"
database_url = "postgresql://ewp@db/ewp"
admin_email = "iro@uni.example.eu"
admin_provider = "Example IT"
tls_cert = "tls/cert.pem"
tls_key = "/etc/ewp/key.pem"
allow_http = false
rsa_aes128gcm = true
max_request_bytes = 2048
registry_refresh_seconds = 60
status_token = "{token}"
''', tables='other_ids = { erasmus = "F EXAMPLE01" }\n\n[limits]\nmax-hei-ids = 5\nmax_los_ids = 7\n')
    assert settings.database_url == "postgresql://ewp@db/ewp"
    assert (settings.admin_email, settings.admin_provider) == ("iro@uni.example.eu", "Example IT")
    assert settings.tls_cert == tmp_path.resolve() / "tls" / "cert.pem"
    assert settings.tls_key == Path("/etc/ewp/key.pem")
    assert settings.rsa_aes128gcm is True and settings.allow_http is False
    assert (settings.max_request_bytes, settings.registry_refresh_seconds) == (2048, 60)
    assert dict(settings.limits) == {"max-hei-ids": 5, "max-los-ids": 7}
    assert settings.status_token == token
    assert settings.heis[0].other_ids == (("erasmus", "F EXAMPLE01"),)


@pytest.mark.parametrize(("extra", "message"), [
    ('rsa_aes128gcm = "false"', "rsa_aes128gcm (in ewp-node.toml): a boolean is expected"),
    ('allow_http = "yes"', "allow_http (in ewp-node.toml): a boolean is expected"),
    ("allow_http = 1", "allow_http (in ewp-node.toml): a boolean is expected"),
    ('max_request_bytes = "2048"', "max_request_bytes (in ewp-node.toml): a positive whole number"),
    ("registry_refresh_seconds = 0", "registry_refresh_seconds (in ewp-node.toml): a positive whole number"),
    ("registry_refresh_seconds = true", "a positive whole number"),
    ("registry_refresh_seconds = 1.5", "a positive whole number"),
    ("tls_cert = 5", "tls_cert (in ewp-node.toml): a path"),
    ('admin_email = "nobody"', "admin_email (in ewp-node.toml): an e-mail address is expected"),
    ('status_token = "short"', f"status_token (in ewp-node.toml): a token of at least {MIN_STATUS_TOKEN}"),
    ('registry_url = "http://registry.example.eu/c.xml"', "registry_url: plain http:// is refused"),
    ('registry_url = "ftp://registry.example.eu/c.xml"', "is not an https:// URL"),
    ("admin_emial = 'iro@uni.example.eu'",
     "admin_emial: unknown setting in ewp-node.toml (did you mean 'admin_email'?)"),
    ("tls_crt = 'cert.pem'", "tls_crt: unknown setting in ewp-node.toml (did you mean 'tls_cert'?)"),
    ("limits = 5", "limits (in ewp-node.toml): a table of max-* limits"),
])
def test_bad_toml_values_are_refused_by_name(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, extra)
    assert message in str(refused.value)


@pytest.mark.parametrize(("tables", "message"), [
    ("[limits]\nmax-hei-ids = 0\n", "limits.max-hei-ids (in ewp-node.toml): a positive whole number"),
    ("[limits]\nmax-hei-ids = '5'\n", "a positive whole number"),
    ("[limits]\nhei-ids = 5\n", "a limit name such as max-hei-ids"),
    ("nmaes = 'x'\n", "heis[0].nmaes: unknown setting in ewp-node.toml (did you mean 'names'?)"),
    ("other_ids = ['x']\n", "heis[0].other_ids (in ewp-node.toml): other ids by type"),
    ("[[heis]]\nid = 'Uni.Example.eu'\nnames = 'x'\n", "heis[1].id (in ewp-node.toml): a lower-case SCHAC id"),
    ("[[heis]]\nid = 'uni.example.eu'\nnames = 'again'\n", "heis: a HEI id is listed twice"),
    ("[[heis]]\nid = 'two.example.eu'\n", "heis[1].names: required"),
])
def test_bad_tables_are_refused_by_name(tmp_path: Path, tables: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, tables=tables)
    assert message in str(refused.value)


def test_required_keys(tmp_path: Path) -> None:
    (tmp_path / "ewp-node.toml").write_text('base_url = "https://x.example.eu"\n')
    with pytest.raises(ConfigError, match="heis: required"):
        load_settings(tmp_path, environ={})
    (tmp_path / "ewp-node.toml").write_text('[[heis]]\nid = "x.example.eu"\nnames = "X"\n')
    with pytest.raises(ConfigError, match="base_url: required"):
        load_settings(tmp_path, environ={})


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path, environ={})
    (tmp_path / "ewp-node.toml").write_text("base_url = ")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(tmp_path, environ={})


@pytest.mark.parametrize(("word", "expected"), [("1", True), ("true", True), ("YES", True), ("on", True),
                                                ("0", False), ("false", False), ("no", False), (" Off ", False)])
def test_environment_booleans(tmp_path: Path, word: str, expected: bool) -> None:
    settings = _load(tmp_path, env={"EWP_NODE_RSA_AES128GCM": word, "EWP_NODE_ALLOW_HTTP": word})
    assert settings.rsa_aes128gcm is expected and settings.allow_http is expected


@pytest.mark.parametrize(("toml", "env", "expected"), [
    ("", None, CapturePolicy.ALL), ("exchange_capture = true", None, CapturePolicy.ALL),
    ("exchange_capture = false", None, CapturePolicy.OFF),
    ('exchange_capture = "failures"', None, CapturePolicy.FAILURES),
    ('exchange_capture = " Off "', None, CapturePolicy.OFF), ("", "failures", CapturePolicy.FAILURES),
    ("", "no", CapturePolicy.OFF), ("exchange_capture = false", "1", CapturePolicy.ALL),
])
def test_exchange_capture_policy(tmp_path: Path, toml: str, env: str | None, expected: CapturePolicy) -> None:
    settings = _load(tmp_path, toml, env={"EWP_NODE_EXCHANGE_CAPTURE": env} if env else None)
    assert settings.exchange_capture is expected


@pytest.mark.parametrize("toml", ['exchange_capture = "yes"', "exchange_capture = 1", 'exchange_capture = "errors"'])
def test_an_unknown_capture_policy_is_refused_with_the_choices(tmp_path: Path, toml: str) -> None:
    with pytest.raises(ConfigError, match=r'exchange_capture \(in ewp-node.toml\): "all", "failures" or "off" is'):
        _load(tmp_path, toml)


def test_allow_http_no_keeps_http_refused(tmp_path: Path) -> None:
    """The issue's case: EWP_NODE_ALLOW_HTTP=no used to turn plain http on."""
    with pytest.raises(ConfigError, match="plain http:// is refused"):
        _load(tmp_path, 'registry_url = "http://127.0.0.1:1/c.xml"', env={"EWP_NODE_ALLOW_HTTP": "no"})
    settings = _load(tmp_path, 'registry_url = "http://127.0.0.1:1/c.xml"', env={"EWP_NODE_ALLOW_HTTP": "yes"})
    assert settings.registry_url == "http://127.0.0.1:1/c.xml"


def test_environment_overrides_toml(tmp_path: Path) -> None:
    settings = _load(tmp_path, "registry_refresh_seconds = 60\n[limits]\nmax-hei-ids = 3\n", env={
        "EWP_NODE_REGISTRY_REFRESH_SECONDS": "120", "EWP_NODE_LIMITS__MAX_LOS_IDS": "9",
        "EWP_NODE_ADMIN_EMAIL": "iro@uni.example.eu", "EWP_NODE_TLS_CERT": "cert.pem",
        "EWP_NODE_HEIS": '[{"id": "env.example.eu", "names": {"en": "Env"}}]',
        "EWP_NODE_HOME": "/ignored: names the home for ewp_node.wsgi", "OTHER_ALLOW_HTTP": "1"})
    assert settings.registry_refresh_seconds == 120
    assert dict(settings.limits) == {"max-hei-ids": 3, "max-los-ids": 9}
    assert settings.admin_email == "iro@uni.example.eu"
    assert settings.tls_cert == tmp_path.resolve() / "cert.pem"
    assert [h.id for h in settings.heis] == ["env.example.eu"]


@pytest.mark.parametrize(("env", "message"), [
    ({"EWP_NODE_ALLOW_HTTP": "maybe"}, "EWP_NODE_ALLOW_HTTP: a boolean is expected"),
    ({"EWP_NODE_ALLOW_HTTP": ""}, "EWP_NODE_ALLOW_HTTP: a boolean is expected"),
    ({"EWP_NODE_MAX_REQUEST_BYTES": "1e6"}, "EWP_NODE_MAX_REQUEST_BYTES: a positive whole number"),
    ({"EWP_NODE_MAX_REQUEST_BYTES": "-5"}, "EWP_NODE_MAX_REQUEST_BYTES: a positive whole number"),
    ({"EWP_NODE_MAX_REQUEST_BYTES": "²"}, "EWP_NODE_MAX_REQUEST_BYTES: a positive whole number"),
    ({"EWP_NODE_LIMITS__MAX_HEI_IDS": "ten"}, "EWP_NODE_LIMITS__MAX_HEI_IDS: a positive whole number"),
    ({"EWP_NODE_ADMIN_EMIAL": "a@b.eu"},
     "EWP_NODE_ADMIN_EMIAL: unknown setting (did you mean 'EWP_NODE_ADMIN_EMAIL'?)"),
    ({"EWP_NODE_TLS_CRT": "c.pem"}, "EWP_NODE_TLS_CRT: unknown setting (did you mean 'EWP_NODE_TLS_CERT'?)"),
    ({"EWP_NODE_HEIS": "uni.example.eu"}, "EWP_NODE_HEIS: a JSON list of HEI tables is expected"),
    ({"EWP_NODE_HEIS__ID": "x"}, "heis (in ewp-node.toml): at least one [[heis]] table"),
    ({"EWP_NODE_STATUS_TOKEN": "short"}, "EWP_NODE_STATUS_TOKEN: a token of at least"),
])
def test_bad_environment_values_are_refused_by_variable(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, env=env)
    assert message in str(refused.value)


def test_the_status_token_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, env={"EWP_NODE_STATUS_TOKEN": "s3cret-guess"})
    assert "s3cret-guess" not in str(refused.value)


def test_every_setting_is_declared_with_a_reader() -> None:
    """A field of Settings/HeiConfig is a setting only when declared with ``setting()``: everything but home."""
    from dataclasses import fields

    for cls in (Settings, HeiConfig):
        undeclared = [f.name for f in fields(cls) if f.metadata.get("read") is None]
        assert undeclared == (["home"] if cls is Settings else [])


def test_a_limit_no_enabled_api_declares_is_refused(tmp_path: Path) -> None:
    from ewp_node.app import check_limits, enabled_apis

    settings = _load(tmp_path, tables="[limits]\nmax-hei-id = 5\n")
    with pytest.raises(ConfigError, match="limits.max-hei-id: no enabled API has this limit .did you mean 'max-hei-id"):
        check_limits(settings, enabled_apis())
    check_limits(_load(tmp_path, tables="[limits]\nmax-hei-ids = 5\n"), enabled_apis())


def test_a_new_home_publishes_the_heis_other_ids(tmp_path: Path) -> None:
    from ewp_node.home import HomeSpec, render_config

    spec = HomeSpec(hei_id="uni.example.eu", hei_name="Uni", base_url="https://ewp.uni.example.eu",
                    other_ids={"erasmus": "F ST-AUB01", "pic": "999"})
    (tmp_path / "ewp-node.toml").write_text(render_config(spec), encoding="utf-8")
    assert load_settings(tmp_path).heis[0].other_ids == (("erasmus", "F ST-AUB01"), ("pic", "999"))
    plain = render_config(HomeSpec(hei_id="uni.example.eu", hei_name="Uni", base_url="https://ewp.uni.example.eu"))
    assert "other_ids" not in plain
