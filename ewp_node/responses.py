"""EWP answers as the node sends them (one place for the XML content type).

An :class:`Answer` is a plain record: the API front (:mod:`ewp_node.dispatch`) renders, compresses, signs and
audits it and hands it to the WSGI server as it is, with no framework object on the way (werkzeug's
``Response`` and ``Headers``, with their checks of values the node made itself, cost a signed Echo ~15 us).
Flask routes convert at their edge: :meth:`Answer.response` and :meth:`Answer.of`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response
from lxml import etree
from werkzeug.http import HTTP_STATUS_CODES

XML_CONTENT_TYPE = "text/xml; charset=utf-8"


@dataclass
class Answer:
    """Status, headers in the order they are sent, and the body as sent. ``Content-Length`` is not among the
    headers: it follows from the body (:meth:`wire_headers`)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def of(cls, response: Response) -> Answer:
        """The answer a (non-streamed) Flask response holds."""
        return cls(response.status_code, [(name, value) for name, value in response.headers.items()
                                          if name.lower() != "content-length"], response.get_data())

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def set_header(self, name: str, value: str) -> None:
        """Give header ``name`` this one value (replacing any it had)."""
        lower = name.lower()
        self.headers = [(key, old) for key, old in self.headers if key.lower() != lower]
        self.headers.append((name, value))

    def wire_headers(self) -> list[tuple[str, str]]:
        """The headers as sent: :attr:`headers`, then ``Content-Length``."""
        return [*self.headers, ("Content-Length", str(len(self.body)))]

    @property
    def status_line(self) -> str:
        """The WSGI status, e.g. ``"404 NOT FOUND"`` (as werkzeug writes it)."""
        return f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'Unknown').upper()}"

    def response(self) -> Response:
        """This answer as a Flask response (for routes that answer through Flask)."""
        return Response(self.body, status=self.status, headers=self.headers)


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def xml_answer(element: etree._Element, status: int = 200) -> Answer:
    return Answer(status, [("Content-Type", XML_CONTENT_TYPE)], serialize(element))


def xml_response(element: etree._Element, status: int = 200) -> Response:
    return xml_answer(element, status).response()
