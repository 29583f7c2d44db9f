"""Sign and verify ELMO documents with an enveloped XML-DSig (SECURITY.md section f), using python-xmlsec.

We sign with ``Reference URI=""``, enveloped-signature + inclusive C14N 1.0, RSA-SHA256, SHA-256 and the
certificate in ``KeyInfo``. We verify the same profile (inclusive or exclusive C14N, ``ds:``-prefixed or
unprefixed signatures), with the key checked against keys we trust (the partner's key from the Registry
or EMREG), never against the embedded certificate alone. Legacy SHA-1 is refused unless allowed.
"""

from __future__ import annotations

import base64
import binascii
import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from lxml import etree

from ewp_node.elmo.parse import detect_version
from ewp_node.xml.parse import MAX_DOCUMENT_BYTES, parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
_C14N_COMMENTS = _C14N + "#WithComments"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ENVELOPED = DS + "enveloped-signature"
_CANONICALIZATIONS = {_C14N, _C14N_COMMENTS, _EXC_C14N, _EXC_C14N + "WithComments"}
_STRONG_SIGNATURES = {f"http://www.w3.org/2001/04/xmldsig-more#rsa-sha{n}" for n in (256, 384, 512)}
_STRONG_DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
}
_SHA1_SIGNATURE = DS + "rsa-sha1"
_SHA1_DIGEST = DS + "sha1"

if xmlsec.get_libxml_version() != etree.LIBXML_VERSION:  # two libxml2 copies corrupt each other's trees
    raise ImportError(
        f"xmlsec uses libxml2 {xmlsec.get_libxml_version()} but lxml uses {etree.LIBXML_VERSION}: "
        "install matching wheels (see SECURITY.md, python libraries)"
    )

TrustedKey = RSAPublicKey | x509.Certificate


class SignatureError(Exception):
    """The document's signature is not acceptable; the subclass and message say why."""


class UnsignedDocument(SignatureError):
    """No ``Signature`` element under ``<elmo>``."""


class UnsupportedSignature(SignatureError):
    """Not the ELMO profile: several signatures or references, a partial reference, other transforms."""


class WeakAlgorithm(SignatureError):
    """RSA-SHA1 or a SHA-1 digest, and legacy algorithms are not allowed."""


class SignerNotTrusted(SignatureError):
    """The signing certificate's key is none of the trusted keys."""


class InvalidSignature(SignatureError):
    """The signature does not verify: the document was changed after signing (or a wrong key)."""


class LegacyAlgorithmWarning(UserWarning):
    """A SHA-1 signature was accepted because the caller allowed it."""


@dataclass(frozen=True)
class VerifiedElmo:
    """What the signature covers: the document without its signature (comments are not signed)."""

    document: etree._Element
    signed_bytes: bytes
    signer: RSAPublicKey
    certificate: x509.Certificate | None
    signature_method: str
    digest_method: str


def _spki(key: RSAPublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _public_key(trusted: TrustedKey) -> RSAPublicKey:
    key = trusted.public_key() if isinstance(trusted, x509.Certificate) else trusted
    if not isinstance(key, RSAPublicKey):
        raise TypeError("trusted keys must be RSA public keys or certificates with an RSA key")
    return key


def sign_elmo(document: etree._Element | bytes, private_key: RSAPrivateKey, certificate: x509.Certificate) -> bytes:
    """Return the document with an enveloped signature appended to ``<elmo>`` (the input is not changed).

    :raises ValueError: the document is already signed or the certificate is not for ``private_key``.
    """
    root = parse_xml(document) if isinstance(document, bytes) else copy.deepcopy(document)
    detect_version(root)
    if root.find(f"{{{DS}}}Signature") is not None:
        raise ValueError("document is already signed")
    if _spki(_public_key(certificate)) != _spki(private_key.public_key()):
        raise ValueError("the certificate does not belong to the private key")
    signature = xmlsec.template.create(
        root, xmlsec.constants.TransformInclC14N, xmlsec.constants.TransformRsaSha256, ns="ds"
    )
    root.append(signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha256, uri="")
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformInclC14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(
        certificate.public_bytes(serialization.Encoding.PEM), xmlsec.constants.KeyDataFormatCertPem
    )
    context = xmlsec.SignatureContext()
    context.key = key
    context.sign(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _signature_element(root: etree._Element) -> etree._Element:
    signatures = root.findall(f"{{{DS}}}Signature")
    if not signatures:
        raise UnsignedDocument("document is not signed (no Signature element under <elmo>)")
    if len(signatures) > 1:
        raise UnsupportedSignature("more than one Signature element under <elmo>")
    return signatures[0]


def embedded_certificate(signature: etree._Element) -> x509.Certificate | None:
    """The first ``KeyInfo/X509Data/X509Certificate`` of a ``Signature`` element, if any."""
    element = signature.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    if element is None:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join((element.text or "").split())))
    except (ValueError, binascii.Error) as exc:
        raise InvalidSignature(f"the certificate in KeyInfo cannot be read: {exc}") from None


def _algorithm(parent: etree._Element, local: str) -> str:
    element = parent.find(f"{{{DS}}}{local}")
    return "" if element is None else element.get("Algorithm", "")


def _check_profile(signature: etree._Element, allow_sha1: bool) -> tuple[str, str]:
    """Check the one-reference enveloped profile; return (signature method, digest method)."""
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    if signed_info is None:
        raise UnsupportedSignature("Signature has no SignedInfo")
    c14n = _algorithm(signed_info, "CanonicalizationMethod")
    if c14n not in _CANONICALIZATIONS:
        raise UnsupportedSignature(f"unsupported SignedInfo canonicalization {c14n or '(none)'}")
    references = signed_info.findall(f"{{{DS}}}Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise UnsupportedSignature('the signature must have exactly one Reference, with URI="" (whole document)')
    transforms = [t.get("Algorithm") for t in references[0].iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")]
    if _ENVELOPED not in transforms or not set(transforms) <= _CANONICALIZATIONS | {_ENVELOPED}:
        raise UnsupportedSignature(f"transforms must be enveloped-signature and C14N only, got {transforms}")
    method_uri = _algorithm(signed_info, "SignatureMethod")
    digest_uri = _algorithm(references[0], "DigestMethod")
    weak = [uri for uri in (method_uri, digest_uri) if uri in (_SHA1_SIGNATURE, _SHA1_DIGEST)]
    if weak and not allow_sha1:
        raise WeakAlgorithm(f"legacy SHA-1 signature refused ({', '.join(weak)}); allow it explicitly if needed")
    if method_uri not in _STRONG_SIGNATURES | {_SHA1_SIGNATURE}:
        raise UnsupportedSignature(f"unsupported signature method {method_uri or '(none)'}")
    if digest_uri not in _STRONG_DIGESTS | {_SHA1_DIGEST}:
        raise UnsupportedSignature(f"unsupported digest method {digest_uri or '(none)'}")
    if weak:
        warnings.warn(
            LegacyAlgorithmWarning(f"accepting a legacy SHA-1 ELMO signature ({', '.join(weak)})"),
            stacklevel=3,
        )
    return method_uri, digest_uri


def _verifies(signature: etree._Element, key: RSAPublicKey) -> bool:
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        xmlsec.constants.KeyDataFormatPem,
    )
    try:
        context.verify(signature)
    except xmlsec.Error:
        return False
    return True


def _without(root: etree._Element, signature: etree._Element) -> etree._Element:
    """A copy of ``root`` without ``signature``, whitespace around it kept (as the enveloped transform)."""
    document = copy.deepcopy(root)
    removed = document[root.index(signature)]
    previous = removed.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + (removed.tail or "")
    else:
        document.text = (document.text or "") + (removed.tail or "")
    document.remove(removed)
    return document


def verify_elmo(
    data: bytes,
    *,
    trusted_keys: Sequence[TrustedKey],
    allow_sha1: bool = False,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> VerifiedElmo:
    """Verify the enveloped signature of an ELMO document and return what it signs.

    The verifying key must be one of ``trusted_keys``. With a certificate in ``KeyInfo``, its key must be
    trusted (else :class:`SignerNotTrusted`); without one, each trusted key is tried.

    :raises MalformedDocument: unacceptable XML or not an ELMO root.
    :raises SignatureError: :class:`UnsignedDocument`, :class:`UnsupportedSignature`,
        :class:`WeakAlgorithm`, :class:`SignerNotTrusted` or :class:`InvalidSignature`.
    """
    root = parse_xml(data, max_bytes=max_bytes)
    detect_version(root)
    signature = _signature_element(root)
    method, digest = _check_profile(signature, allow_sha1)
    trusted = [_public_key(k) for k in trusted_keys]
    if not trusted:
        raise SignerNotTrusted("signer not trusted: no trusted key was given")
    certificate = embedded_certificate(signature)
    candidates = trusted
    if certificate is not None:
        signer_key = _public_key(certificate)
        if _spki(signer_key) not in {_spki(k) for k in trusted}:
            raise SignerNotTrusted(
                f"signer not trusted: the KeyInfo certificate ({certificate.subject.rfc4514_string()}) "
                "has none of the trusted keys"
            )
        candidates = [signer_key]
    signer = next((key for key in candidates if _verifies(signature, key)), None)
    if signer is None:
        raise InvalidSignature(
            "signature does not verify: the document was altered after signing"
            + ("" if certificate is not None else ", or it was signed by a key we do not trust")
        )
    signed_bytes = etree.tostring(_without(root, signature), method="c14n", with_comments=False)
    return VerifiedElmo(parse_xml(signed_bytes), signed_bytes, signer, certificate, method, digest)
