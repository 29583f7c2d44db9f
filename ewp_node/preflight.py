"""Start-up checks: a node refuses to start on a database, keys or TLS files it cannot use.

``check_node`` is what ``serve`` runs first; each check raises :class:`NotReady` with one line that names
the file or database and says what to do.
"""

from __future__ import annotations

import ssl

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from ewp_node.config import Settings
from ewp_node.security.keys import KeyFileError, load_private_key_file
from ewp_node.store.db import alembic_config, make_engine


class NotReady(RuntimeError):
    """The node cannot start (or serve) as configured; the message is one line for the operator."""


def safe_database_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable database URL)"


def database_problem(url: str, exc: SQLAlchemyError) -> str:
    """One line naming the database and the driver's reason."""
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    line = next((part.strip() for part in str(reason).splitlines() if part.strip()), type(exc).__name__)
    return f"database {safe_database_url(url)}: {line}"


def schema_heads(engine: Engine) -> tuple[set[str], set[str]]:
    """The revisions the database is at, and the head revisions of this code's migrations."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    return current, set(script.get_heads())


def check_database(url: str, home: str) -> None:
    """The database answers and its schema is this code's (alembic head).

    :param home: the node home, named in the advice to upgrade.
    """
    try:
        engine = make_engine(url)
    except (ArgumentError, ImportError) as exc:
        raise NotReady(f"database_url {safe_database_url(url)}: {exc}") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current, heads = schema_heads(engine)
    except SQLAlchemyError as exc:
        raise NotReady(database_problem(url, exc)) from None
    finally:
        engine.dispose()
    if current == heads:
        return
    where = safe_database_url(url)
    if not current:
        raise NotReady(f"database {where} has no ewp-node schema: run 'ewp-node migrate {home}'")
    raise NotReady(f"database {where} is at schema revision {', '.join(sorted(current))}, this version needs "
                   f"{', '.join(sorted(heads))}: run 'ewp-node migrate {home}' (back up the database first)")


def check_keys(settings: Settings) -> None:
    """Both private keys load and are RSA of at least 2048 bits."""
    for path in (settings.client_key_path, settings.server_key_path):
        try:
            load_private_key_file(path)
        except KeyFileError as exc:
            raise NotReady(str(exc)) from None
        except OSError as exc:
            raise NotReady(f"{path}: {exc.strerror or exc} (keys are made by 'ewp-node init')") from None


def check_tls(settings: Settings) -> None:
    """``tls_cert`` and ``tls_key`` are both set or both unset, and form a usable pair."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return
    if cert is None or key is None:
        raise NotReady("tls_cert and tls_key: set both (HTTPS) or neither (plain HTTP behind a TLS proxy)")
    for name, path in (("tls_cert", cert), ("tls_key", key)):
        if not path.is_file():
            raise NotReady(f"{name} {path}: no such file")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as exc:
        raise NotReady(f"tls_cert {cert} / tls_key {key}: not a usable certificate and key ({exc})") from None


def check_node(settings: Settings) -> None:
    """Every start-up check of ``serve``. :raises NotReady: naming the first problem."""
    check_keys(settings)
    check_tls(settings)
    check_database(settings.database_url, str(settings.home))
