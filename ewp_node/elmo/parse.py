"""Read partner ELMO documents: safe parse, validation against our own schemas (``xsd/``), then the model.

Schemas are compiled once, offline (every import is a local file). Text values are stripped but not
collapsed: Erasmus codes such as ``"I  BOLOGNA01"`` keep their inner spaces.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path

from lxml import etree

from ewp_node.elmo.model import (
    NAMESPACES,
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
    GradeCount,
    GradingScheme,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunity,
    LearningOpportunityInstance,
    Level,
    Report,
    ResultDistribution,
    Text,
)
from ewp_node.xml.ns import XML_LANG
from ewp_node.xml.parse import MAX_DOCUMENT_BYTES, MalformedDocument, parse_xml

XSD_DIR = Path(__file__).resolve().parents[2] / "xsd"
_SCHEMA_FILES = {"1.7": "elmo-v1.xsd", "2.1.1": "elmo-v2.xsd"}


class ElmoSchemaError(MalformedDocument):
    """Well-formed XML that is not an ELMO document we accept; ``errors`` lists schema messages."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message + (": " + "; ".join(errors) if errors else ""))
        self.errors = errors or []


@functools.cache
def elmo_schema(version: str) -> etree.XMLSchema:
    """Our compiled schema for an ELMO version (cached; never touches the network)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(XSD_DIR / _SCHEMA_FILES[version]), parser))


def detect_version(root: etree._Element) -> str:
    """ "1.7" or "2.1.1" from the root's namespace.

    :raises ElmoSchemaError: the root is not ``<elmo>`` in a known ELMO namespace.
    """
    qname = etree.QName(root)
    for version, namespace in NAMESPACES.items():
        if qname.namespace == namespace and qname.localname == "elmo":
            return version
    raise ElmoSchemaError(f"not an ELMO document: root is {root.tag}")


def validate_elmo(root: etree._Element) -> str:
    """Validate against our schema; return the version.

    :raises ElmoSchemaError: with the first schema errors and their line numbers.
    """
    version = detect_version(root)
    schema = elmo_schema(version)
    if not schema.validate(root):
        errors = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:8]]
        raise ElmoSchemaError(f"ELMO {version} document does not validate", errors)
    return version


def parse_elmo(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> Elmo:
    """Parse, validate and read untrusted ELMO bytes (a signature, if any, is ignored here).

    :raises MalformedDocument: not acceptable XML (size, DTD, entities, syntax), or (as
        :class:`ElmoSchemaError`) not a valid ELMO document.
    """
    return read_elmo(parse_xml(data, max_bytes=max_bytes))


def read_elmo(root: etree._Element) -> Elmo:
    """Validate an already parsed ``<elmo>`` element and turn it into the model."""
    validate_elmo(root)
    return _Reader(etree.QName(root).namespace or "").elmo(root)


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


class _Reader:
    """Reads a validated document: element presence and order are already guaranteed by the schema."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def all(self, parent: etree._Element, local: str) -> list[etree._Element]:
        return parent.findall(f"{{{self.ns}}}{local}")

    def one(self, parent: etree._Element, local: str) -> etree._Element | None:
        return parent.find(f"{{{self.ns}}}{local}")

    def required(self, parent: etree._Element, local: str) -> etree._Element:
        element = self.one(parent, local)
        if element is None:  # only if the schema let it through
            raise ElmoSchemaError(f"missing <{local}> in <{etree.QName(parent).localname}>")
        return element

    def value(self, parent: etree._Element, local: str) -> str | None:
        element = self.one(parent, local)
        return None if element is None else _text(element)

    def date(self, parent: etree._Element, local: str) -> dt.date | None:
        value = self.value(parent, local)
        return None if value is None else dt.date.fromisoformat(value[:10])  # drop an xs:date timezone

    def required_date(self, parent: etree._Element, local: str) -> dt.date:
        return dt.date.fromisoformat(_text(self.required(parent, local))[:10])

    def timestamp(self, parent: etree._Element, local: str) -> dt.datetime:
        return dt.datetime.fromisoformat(_text(self.required(parent, local)))

    def decimal(self, parent: etree._Element, local: str) -> Decimal | None:
        value = self.value(parent, local)
        return None if value is None else Decimal(value)

    def texts(self, parent: etree._Element, local: str) -> tuple[Text, ...]:
        return tuple(Text(_text(e), e.get(XML_LANG)) for e in self.all(parent, local))

    def identifiers(self, parent: etree._Element) -> tuple[Identifier, ...]:
        return tuple(Identifier(e.get("type", ""), _text(e)) for e in self.all(parent, "identifier"))

    def elmo(self, root: etree._Element) -> Elmo:
        return Elmo(
            generated_date=self.timestamp(root, "generatedDate"),
            learner=self.learner(self.required(root, "learner")),
            reports=tuple(self.report(e) for e in self.all(root, "report")),
            attachments=tuple(self.attachment(e) for e in self.all(root, "attachment")),
        )

    def learner(self, element: etree._Element) -> Learner:
        gender = self.value(element, "gender")
        alternative = self.one(element, "alternativeName")
        return Learner(
            given_names=self.value(element, "givenNames") or "",
            family_name=self.value(element, "familyName") or "",
            identifiers=self.identifiers(element),
            citizenship=self.value(element, "citizenship"),
            birth_date=self.date(element, "dateOfBirth") or self.date(element, "bday"),
            alternative_name=None
            if alternative is None or not _text(alternative)
            else Text(_text(alternative), alternative.get(XML_LANG)),
            gender=None if gender is None else int(gender),
        )

    def report(self, element: etree._Element) -> Report:
        issuer = self.required(element, "issuer")
        status = self.one(element, "status")
        return Report(
            issuer=Issuer(
                identifiers=self.identifiers(issuer),
                titles=self.texts(issuer, "title"),
                url=self.value(issuer, "url") or "",
                country=self.value(issuer, "country"),
            ),
            issue_date=self.timestamp(element, "issueDate"),
            learning_opportunities=tuple(
                self.opportunity(e) for e in self.all(element, "learningOpportunitySpecification")
            ),
            grading_schemes=tuple(
                GradingScheme(e.get("localId", ""), self.texts(e, "description"))
                for e in self.all(element, "gradingScheme")
            ),
            attachments=tuple(self.attachment(e) for e in self.all(element, "attachment")),
            status=None if status is None else self.value(status, "code"),
        )

    def opportunity(self, element: etree._Element) -> LearningOpportunity:
        specifies = self.required(element, "specifies")
        return LearningOpportunity(
            titles=self.texts(element, "title"),
            instance=self.instance(self.required(specifies, "learningOpportunityInstance")),
            identifiers=self.identifiers(element),
            type=self.value(element, "type"),
            subject_area=self.value(element, "subjectArea"),
            isced_code=self.value(element, "iscedCode"),
            url=self.value(element, "url"),
            descriptions=self.texts(element, "description"),
            parts=tuple(
                self.opportunity(self.required(part, "learningOpportunitySpecification"))
                for part in self.all(element, "hasPart")
            ),
        )

    def instance(self, element: etree._Element) -> LearningOpportunityInstance:
        term = self.one(element, "academicTerm")
        distribution = self.one(element, "resultDistribution")
        return LearningOpportunityInstance(
            identifiers=self.identifiers(element),
            start=self.date(element, "start"),
            date=self.date(element, "date"),
            academic_term=None
            if term is None
            else AcademicTerm(
                self.texts(term, "title"), self.required_date(term, "start"), self.required_date(term, "end")
            ),
            status=self.value(element, "status"),
            grading_scheme_local_id=self.value(element, "gradingSchemeLocalId"),
            result_label=self.value(element, "resultLabel"),
            result_distribution=None
            if distribution is None
            else ResultDistribution(
                tuple(
                    GradeCount(c.get("label", "").strip(), int(c.get("count", "0")))
                    for c in self.all(distribution, "category")
                ),
                self.texts(distribution, "description"),
            ),
            credits=tuple(
                Credit(self.value(c, "scheme") or "", self.decimal(c, "value"), self.value(c, "level"))
                for c in self.all(element, "credit")
            ),
            levels=tuple(
                Level(
                    self.value(level, "type") or "",
                    self.value(level, "value"),
                    next(iter(self.texts(level, "description")), None),
                )
                for level in self.all(element, "level")
            ),
            language_of_instruction=self.value(element, "languageOfInstruction"),
            engagement_hours=self.decimal(element, "engagementHours"),
        )

    def attachment(self, element: etree._Element) -> Attachment:
        return Attachment(
            type=self.value(element, "type"),
            titles=self.texts(element, "title"),
            identifiers=self.identifiers(element),
            descriptions=self.texts(element, "description"),
            contents=self.texts(element, "content"),
        )
