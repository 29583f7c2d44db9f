"""The ``ewp-node`` command's error boundary: every error becomes one line on stderr and an exit code.

``explain`` knows the errors an operator causes or meets in ordinary use (bad arguments, a bad
configuration, an unreachable registry or partner, unreadable files, an unusable database) and words them
as one line; anything else is unexpected, and ``--debug`` shows its trace.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Exit codes: a command that failed, and a command given bad usage (arguments, configuration).
EXIT_FAILURE = 1
EXIT_USAGE = 2
#: What a shell reports for a process stopped by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad arguments: the message says what is wrong and what is expected (exit 2)."""


class CommandFailed(Exception):
    """A command could not do its job for a reason the message explains (exit 1)."""


@dataclass(frozen=True)
class Explained:
    """One line for the operator, and the exit code."""

    message: str
    exit_code: int


def first_line(text: str, limit: int = 400) -> str:
    """The first non-empty line of ``text``, shortened to ``limit`` characters."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[:limit - 3] + "..."


def explain(exc: Exception) -> Explained | None:
    """One line and an exit code for an expected error; None for an unexpected one (a bug)."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    from ewp_node.client import PartnerUnavailable
    from ewp_node.config import ConfigError
    from ewp_node.errors import BadRequest, EwpError
    from ewp_node.preflight import NotReady
    from ewp_node.publish.importer import ImportFailed
    from ewp_node.publish.replicate import ReplicationFailed
    from ewp_node.registry.fetch import RegistryUnavailable
    from ewp_node.sandbox import SandboxFailed
    from ewp_node.security.errors import SecurityError
    from ewp_node.security.keys import KeyFileError
    from ewp_node.xml.parse import MalformedDocument

    if isinstance(exc, UsageError | ConfigError | BadRequest):
        return Explained(first_line(str(exc)), EXIT_USAGE)
    if isinstance(exc, RecursionError):
        return Explained("the input nests too deeply to be read (RecursionError)", EXIT_FAILURE)
    if isinstance(exc, OSError) and exc.filename is not None:
        return Explained(f"{exc.filename}: {exc.strerror or exc}", EXIT_FAILURE)
    if isinstance(exc, DBAPIError):  # the driver's own message says what is wrong
        return Explained(f"database error: {first_line(str(exc.orig))}", EXIT_FAILURE)
    if isinstance(exc, SQLAlchemyError):
        return Explained(f"database error: {first_line(str(exc))}", EXIT_FAILURE)
    if isinstance(exc, RegistryUnavailable):
        return Explained(f"registry catalogue unavailable: {first_line(str(exc))}", EXIT_FAILURE)
    if isinstance(exc, ImportFailed):
        more = f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else ""
        return Explained(first_line(str(exc)) + more, EXIT_FAILURE)
    if isinstance(exc, SecurityError):
        return Explained(f"{type(exc).__name__}: {first_line(str(exc))}", EXIT_FAILURE)
    expected = (CommandFailed, NotReady, KeyFileError, PartnerUnavailable, ReplicationFailed, MalformedDocument,
                SandboxFailed, EwpError, OSError)
    if isinstance(exc, expected):
        return Explained(first_line(str(exc)), EXIT_FAILURE)
    return None
