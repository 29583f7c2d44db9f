"""Echo API v2.0.1 (ewp-specs-api-echo, stable-v2): tests a partner's authentication stack.

GET or POST; ``echo`` optional and repeatable; the response lists every HEI covered by the caller's key and
the ``echo`` values in the order given. For POST only the form body counts (the query is ignored).
"""

from __future__ import annotations

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, EwpRequest
from ewp_node.xml import ns
from ewp_node.xml.ns import q

API = ApiSpec(
    name="echo",
    version="2.0.1",
    namespace=ns.ECHO_ENTRY,
    items=(Endpoint("url", "echo"),),
)


@API.endpoint("url")
def echo(request: EwpRequest) -> etree._Element:
    root = etree.Element(q(ns.ECHO, "response"), nsmap={None: ns.ECHO})
    for hei_id in sorted(request.caller.hei_ids):
        etree.SubElement(root, q(ns.ECHO, "hei-id")).text = hei_id
    for value in request.params.getlist("echo"):
        etree.SubElement(root, q(ns.ECHO, "echo")).text = value
    return root
