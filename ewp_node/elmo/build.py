"""Build ELMO documents (1.7 or 2.1.1) from the model, one builder per element type.

Each builder appends its element to ``parent`` in the parent's namespace, in the order the ELMO schema
of that ``version`` requires. Version differences: ``bday`` (1.x) vs ``dateOfBirth`` and the required
``alternativeName`` (2.x, written empty when unknown), ``type="ISO"`` on countries (2.x), ``credit/level``
(1.x only), report ``status`` (2.x only), and at least one identifier per opportunity (2.x).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from lxml import etree

from ewp_node.elmo.model import (
    NAMESPACES,
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
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

V1, V2 = "1.7", "2.1.1"


def _sub(parent: etree._Element, local: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{etree.QName(parent).namespace}}}{local}", attrs)
    element.text = text
    return element


def _optional(parent: etree._Element, local: str, value: object | None) -> None:
    if value is not None:
        _sub(parent, local, format(value, "f") if isinstance(value, Decimal) else str(value))


def _texts(parent: etree._Element, local: str, texts: Iterable[Text]) -> None:
    for text in texts:
        element = _sub(parent, local, text.value)
        if text.lang:
            element.set(XML_LANG, text.lang)


def _identifiers(parent: etree._Element, identifiers: Iterable[Identifier]) -> None:
    for identifier in identifiers:
        _sub(parent, "identifier", identifier.value, type=identifier.type)


def _country(parent: etree._Element, local: str, code: str | None, version: str) -> None:
    if code is not None:
        if version == V1:
            _sub(parent, local, code)
        else:
            _sub(parent, local, code, type="ISO")


def build_elmo(elmo: Elmo, version: str) -> etree._Element:
    """The ``<elmo>`` root for ``version`` ("1.7" or "2.1.1"), unsigned."""
    if version not in NAMESPACES:
        raise ValueError(f"unsupported ELMO version {version!r} (use one of {', '.join(NAMESPACES)})")
    root = etree.Element(f"{{{NAMESPACES[version]}}}elmo", nsmap={None: NAMESPACES[version]})
    _sub(root, "generatedDate", elmo.generated_date.isoformat())
    build_learner(root, elmo.learner, version)
    for report in elmo.reports:
        build_report(root, report, version)
    for attachment in elmo.attachments:
        build_attachment(root, attachment)
    return root


def build_learner(parent: etree._Element, learner: Learner, version: str) -> etree._Element:
    element = _sub(parent, "learner")
    _country(element, "citizenship", learner.citizenship, version)
    _identifiers(element, learner.identifiers)
    _sub(element, "givenNames", learner.given_names)
    _sub(element, "familyName", learner.family_name)
    if version == V1:
        _optional(element, "bday", learner.birth_date)
    else:
        _texts(element, "alternativeName", [learner.alternative_name or Text("")])
        _optional(element, "dateOfBirth", learner.birth_date)
    _optional(element, "gender", learner.gender)
    return element


def build_issuer(parent: etree._Element, issuer: Issuer, version: str) -> etree._Element:
    element = _sub(parent, "issuer")
    _country(element, "country", issuer.country, version)
    _identifiers(element, issuer.identifiers)
    _texts(element, "title", issuer.titles)
    _sub(element, "url", issuer.url)
    return element


def build_report(parent: etree._Element, report: Report, version: str) -> etree._Element:
    element = _sub(parent, "report")
    build_issuer(element, report.issuer, version)
    for opportunity in report.learning_opportunities:
        build_learning_opportunity(element, opportunity, version)
    _sub(element, "issueDate", report.issue_date.isoformat())
    for scheme in report.grading_schemes:
        build_grading_scheme(element, scheme)
    if version == V2 and report.status:
        _sub(_sub(element, "status"), "code", report.status)
    for attachment in report.attachments:
        build_attachment(element, attachment)
    return element


def build_learning_opportunity(
    parent: etree._Element, opportunity: LearningOpportunity, version: str
) -> etree._Element:
    if version == V2 and not opportunity.identifiers:
        raise ValueError(f"ELMO {V2} needs an identifier on learning opportunity {opportunity.titles[0].value!r}")
    element = _sub(parent, "learningOpportunitySpecification")
    _identifiers(element, opportunity.identifiers)
    _texts(element, "title", opportunity.titles)
    _optional(element, "type", opportunity.type)
    _optional(element, "subjectArea", opportunity.subject_area)
    _optional(element, "iscedCode", opportunity.isced_code)
    _optional(element, "url", opportunity.url)
    _texts(element, "description", opportunity.descriptions)
    build_instance(_sub(element, "specifies"), opportunity.instance, version)
    for part in opportunity.parts:
        build_learning_opportunity(_sub(element, "hasPart"), part, version)
    return element


def build_instance(parent: etree._Element, instance: LearningOpportunityInstance, version: str) -> etree._Element:
    element = _sub(parent, "learningOpportunityInstance")
    _identifiers(element, instance.identifiers)
    _optional(element, "start", instance.start)
    _optional(element, "date", instance.date)
    if instance.academic_term:
        build_academic_term(element, instance.academic_term)
    _optional(element, "status", instance.status)
    _optional(element, "gradingSchemeLocalId", instance.grading_scheme_local_id)
    _optional(element, "resultLabel", instance.result_label)
    if instance.result_distribution:
        build_result_distribution(element, instance.result_distribution)
    for credit in instance.credits:
        build_credit(element, credit, version)
    for level in instance.levels:
        build_level(element, level)
    _optional(element, "languageOfInstruction", instance.language_of_instruction)
    _optional(element, "engagementHours", instance.engagement_hours)
    return element


def build_academic_term(parent: etree._Element, term: AcademicTerm) -> etree._Element:
    element = _sub(parent, "academicTerm")
    _texts(element, "title", term.titles)
    _sub(element, "start", term.start.isoformat())
    _sub(element, "end", term.end.isoformat())
    return element


def build_result_distribution(parent: etree._Element, distribution: ResultDistribution) -> etree._Element:
    element = _sub(parent, "resultDistribution")
    for category in distribution.categories:
        _sub(element, "category", label=category.label, count=str(category.count))
    _texts(element, "description", distribution.descriptions)
    return element


def build_credit(parent: etree._Element, credit: Credit, version: str) -> etree._Element:
    element = _sub(parent, "credit")
    _sub(element, "scheme", credit.scheme)
    if version == V1:
        _optional(element, "level", credit.level)
    _optional(element, "value", credit.value)
    return element


def build_level(parent: etree._Element, level: Level) -> etree._Element:
    element = _sub(parent, "level")
    _sub(element, "type", level.type)
    if level.description:
        _texts(element, "description", [level.description])
    _optional(element, "value", level.value)
    return element


def build_grading_scheme(parent: etree._Element, scheme: GradingScheme) -> etree._Element:
    element = _sub(parent, "gradingScheme", localId=scheme.local_id)
    _texts(element, "description", scheme.descriptions)
    return element


def build_attachment(parent: etree._Element, attachment: Attachment) -> etree._Element:
    element = _sub(parent, "attachment")
    _identifiers(element, attachment.identifiers)
    _texts(element, "title", attachment.titles)
    _optional(element, "type", attachment.type)
    _texts(element, "description", attachment.descriptions)
    _texts(element, "content", attachment.contents)
    return element
