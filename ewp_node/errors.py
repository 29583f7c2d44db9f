"""EWP errors a partner can cause, and the one place that turns them into ``<error-response>``.

Spec: ewp-specs-architecture v1.15, "Error handling": 4xx answers SHOULD carry an ``error-response``
document with a ``developer-message``; 401/403/405/400/409 as the situation says.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from lxml import etree
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from ewp_node.xml.ns import COMMON, XML_LANG, q

if TYPE_CHECKING:
    from flask import Flask, Response

    from ewp_node.responses import Answer

log = logging.getLogger(__name__)

#: ``Retry-After`` seconds of a 503: about the time a database restart or a registry retry takes.
RETRY_AFTER_SECONDS = 10
#: Database failures that say "not now" (server away or restarting, connection lost, pool exhausted, SQLite
#: locked), not "this request is wrong": answered 503, and the node recovers by itself when they end.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


class EwpError(Exception):
    """An error answered to the partner with an ``<error-response>`` document."""

    status: int = 500

    def __init__(self, developer_message: str, *, user_message: str | None = None) -> None:
        super().__init__(developer_message)
        self.developer_message = developer_message
        self.user_message = user_message


class BadRequest(EwpError):
    status = 400


class Unauthorized(EwpError):
    """Used by the security layer only: it owns the whole 401 answer (challenge headers included)."""

    status = 401


class Forbidden(EwpError):
    status = 403


class NotFound(EwpError):
    status = 404


class MethodNotAllowed(EwpError):
    status = 405


class NotAcceptable(EwpError):
    status = 406


class Conflict(EwpError):
    status = 409


class UnsupportedMediaType(EwpError):
    status = 415


class ServiceUnavailable(EwpError):
    """We cannot answer now (e.g. no registry catalogue yet): the partner should retry later."""

    status = 503


class RejectedByServer(EwpError):
    """A request the server refused before the app saw it whole (a body too large or too slow, too many
    requests at once from one address). The server puts it in the WSGI environ under
    ``REJECTED_ENVIRON_KEY``; the app raises it, so it is answered, signed and audited like any error."""

    def __init__(self, status: int, developer_message: str) -> None:
        super().__init__(developer_message)
        self.status = status


REJECTED_ENVIRON_KEY = "ewp_node.rejected"


def build_error_response(developer_message: str, user_message: str | None = None) -> etree._Element:
    """Build the common ``<error-response>`` element (architecture common-types.xsd)."""
    root = etree.Element(q(COMMON, "error-response"), nsmap={None: COMMON})
    etree.SubElement(root, q(COMMON, "developer-message")).text = developer_message
    if user_message:
        msg = etree.SubElement(root, q(COMMON, "user-message"))
        msg.set(XML_LANG, "en")
        msg.text = user_message
    return root


def error_answer(exc: Exception) -> Answer:
    """The ``<error-response>`` for any exception: an EWP error with its status (503 with ``Retry-After``), a
    database outage as 503, an HTTP error with its code (405 with ``Allow``), anything else a 500 with a trace
    id in the log and in the message, never a traceback on the wire. Security errors are answered by
    :func:`ewp_node.security.middleware.security_error_answer` (the 401 challenge)."""
    from ewp_node.responses import xml_answer

    if isinstance(exc, DATABASE_UNAVAILABLE):
        log.warning("database unavailable, answering 503: %s", (str(exc).splitlines() or [""])[0])
        exc = ServiceUnavailable("the node's database is not available: retry later")
    if isinstance(exc, EwpError):
        answer = xml_answer(build_error_response(exc.developer_message, exc.user_message), exc.status)
        if exc.status == 503:
            answer.set_header("Retry-After", str(RETRY_AFTER_SECONDS))
        return answer
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        answer = xml_answer(build_error_response(exc.description or exc.name), status)
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            answer.set_header("Allow", ", ".join(exc.valid_methods))  # type: ignore[attr-defined]
        return answer
    trace_id = uuid.uuid4().hex[:12]
    log.exception("internal error, trace id %s", trace_id, exc_info=exc)
    return xml_answer(build_error_response(f"internal error, trace id {trace_id}"), 500)


def error_response(exc: Exception) -> Response:
    """:func:`error_answer` as a Flask response (the app's error handler)."""
    return error_answer(exc).response()


def install_error_handlers(app: Flask) -> None:
    """Every error of the Flask app is answered by :func:`error_answer`."""
    app.register_error_handler(Exception, error_response)
