"""ELMO transcripts of records (ELMO 1.7 for IMobility ToRs v2, 2.1.1 for ToRs v3).

``model`` holds the frozen dataclasses, ``build`` writes documents, ``parse`` reads partner documents
safely against our schemas in ``xsd/``, ``sign`` signs and verifies the enveloped XML-DSig, and ``cli``
adds the ``elmo`` and ``grades`` commands.
"""

from __future__ import annotations

from ewp_node.elmo.build import build_elmo
from ewp_node.elmo.model import NAMESPACES, Elmo
from ewp_node.elmo.parse import ElmoSchemaError, parse_elmo, read_elmo
from ewp_node.elmo.sign import SignatureError, VerifiedElmo, sign_elmo, verify_elmo

__all__ = [
    "NAMESPACES",
    "Elmo",
    "ElmoSchemaError",
    "SignatureError",
    "VerifiedElmo",
    "build_elmo",
    "parse_elmo",
    "read_elmo",
    "sign_elmo",
    "verify_elmo",
]
