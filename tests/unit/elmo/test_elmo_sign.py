"""XML-DSig on ELMO: the vectors, our signatures, the xmlsec1 CLI both ways, pinning, SHA-1, profile."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from ewp_node.elmo.parse import parse_elmo
from ewp_node.elmo.sign import (
    DS,
    InvalidSignature,
    LegacyAlgorithmWarning,
    SignerNotTrusted,
    UnsignedDocument,
    UnsupportedSignature,
    WeakAlgorithm,
    sign_elmo,
    verify_elmo,
)
from ewp_node.xml.parse import MalformedDocument, parse_xml

XMLSEC1 = shutil.which("xmlsec1")
needs_xmlsec1 = pytest.mark.skipif(XMLSEC1 is None, reason="xmlsec1 command-line tool (Debian package xmlsec1) missing")


def _template(data: bytes, *, prefix: str | None, sha1: bool = False) -> etree._Element:
    """An unsigned vector with a signature template (EMREX style when ``prefix`` is None)."""
    root = parse_xml(data)
    c = xmlsec.constants
    signature = xmlsec.template.create(
        root, c.TransformInclC14N, c.TransformRsaSha1 if sha1 else c.TransformRsaSha256, ns=prefix
    )
    root.append(signature)
    reference = xmlsec.template.add_reference(signature, c.TransformSha1 if sha1 else c.TransformSha256, uri="")
    xmlsec.template.add_transform(reference, c.TransformEnveloped)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    return root


def _sign_template(root: etree._Element, signer) -> bytes:  # type: ignore[no-untyped-def]
    key = xmlsec.Key.from_memory(signer.key_pem(), xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(signer.cert_pem(), xmlsec.constants.KeyDataFormatCertPem)
    context = xmlsec.SignatureContext()
    context.key = key
    context.sign(root.find(f"{{{DS}}}Signature"))
    return etree.tostring(root)


# --- the official vectors ------------------------------------------------------------------------------


@pytest.mark.parametrize("trust", ["key", "certificate"])
def test_signed_vectors_verify(vector, vector_signer, elmo_version: str, trust: str) -> None:  # type: ignore[no-untyped-def]
    trusted = vector_signer.key.public_key() if trust == "key" else vector_signer.certificate
    verified = verify_elmo(vector(elmo_version, "signed"), trusted_keys=[trusted])
    assert verified.signature_method.endswith("rsa-sha256") and verified.digest_method.endswith("sha256")
    assert verified.certificate == vector_signer.certificate
    assert verified.document.find(f"{{{DS}}}Signature") is None
    assert parse_elmo(verified.signed_bytes) == parse_elmo(vector(elmo_version, "unsigned"))


def test_tampered_vectors_are_rejected(vector, vector_signer, elmo_version: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidSignature, match="altered after signing"):
        verify_elmo(vector(elmo_version, "tampered"), trusted_keys=[vector_signer.certificate])


def test_unsigned_vectors_are_rejected(vector, vector_signer, elmo_version: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsignedDocument):
        verify_elmo(vector(elmo_version, "unsigned"), trusted_keys=[vector_signer.certificate])


def test_signer_must_be_trusted_not_just_embedded(vector, other_signer, elmo_version: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SignerNotTrusted, match="signer not trusted"):
        verify_elmo(vector(elmo_version, "signed"), trusted_keys=[other_signer.certificate])
    with pytest.raises(SignerNotTrusted, match="no trusted key"):
        verify_elmo(vector(elmo_version, "signed"), trusted_keys=[])


# --- our signatures --------------------------------------------------------------------------------------


def test_our_signature_round_trips(vector, vector_signer, elmo_version: str) -> None:  # type: ignore[no-untyped-def]
    signed = sign_elmo(vector(elmo_version, "unsigned"), vector_signer.key, vector_signer.certificate)
    verified = verify_elmo(signed, trusted_keys=[vector_signer.key.public_key()])
    assert parse_elmo(verified.signed_bytes) == parse_elmo(vector(elmo_version, "unsigned"))
    signature = parse_xml(signed).find(f"{{{DS}}}Signature")
    assert signature is not None and signature.prefix == "ds"
    transforms = [t.get("Algorithm") for t in signature.iter(f"{{{DS}}}Transform")]
    assert transforms == [DS + "enveloped-signature", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"]


def test_signing_an_element_leaves_it_unchanged(vector, vector_signer) -> None:  # type: ignore[no-untyped-def]
    root = parse_xml(vector("1.7", "unsigned"))
    sign_elmo(root, vector_signer.key, vector_signer.certificate)
    assert root.find(f"{{{DS}}}Signature") is None


def test_signing_refuses_a_signed_document_or_a_foreign_certificate(vector, vector_signer, other_signer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="already signed"):
        sign_elmo(vector("1.7", "signed"), vector_signer.key, vector_signer.certificate)
    with pytest.raises(ValueError, match="does not belong"):
        sign_elmo(vector("1.7", "unsigned"), vector_signer.key, other_signer.certificate)


def test_any_change_after_our_signature_is_detected(vector, vector_signer) -> None:  # type: ignore[no-untyped-def]
    signed = sign_elmo(vector("2.1.1", "unsigned"), vector_signer.key, vector_signer.certificate)
    for old, new in [(b"Eleni", b"Elena"), (b'count="4"', b'count="5"'), (b"<value>9</value>", b"<value>19</value>")]:
        assert old in signed
        with pytest.raises(InvalidSignature):
            verify_elmo(signed.replace(old, new, 1), trusted_keys=[vector_signer.certificate])


# --- the xmlsec1 command-line tool, both ways -------------------------------------------------------------


@needs_xmlsec1
def test_xmlsec1_verifies_our_signatures(
    vector, vector_signer, vectors_dir: Path, elmo_version: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    signed = tmp_path / "signed.xml"
    signed.write_bytes(sign_elmo(vector(elmo_version, "unsigned"), vector_signer.key, vector_signer.certificate))
    for trust in (["--trusted-pem", "elmo_signer_cert.pem"], ["--pubkey-pem", "server_public.pem"]):
        run = subprocess.run([XMLSEC1, "--verify", *trust, str(signed)], cwd=vectors_dir, capture_output=True)
        assert run.returncode == 0, run.stderr.decode()
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(signed.read_bytes().replace(b"Eleni", b"Elena", 1))
    run = subprocess.run(
        [XMLSEC1, "--verify", "--pubkey-pem", "server_public.pem", str(tampered)], cwd=vectors_dir, capture_output=True
    )
    assert run.returncode != 0


@needs_xmlsec1
@pytest.mark.parametrize("prefix", ["ds", None])
def test_xmlsec1_signatures_verify_with_ours(
    vector, vector_signer, vectors_dir: Path, elmo_version: str, prefix: str | None, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    template = tmp_path / "template.xml"
    template.write_bytes(etree.tostring(_template(vector(elmo_version, "unsigned"), prefix=prefix)))
    out = tmp_path / "signed.xml"
    keys = f"{vectors_dir / 'server_private.pem'},{vectors_dir / 'elmo_signer_cert.pem'}"
    run = subprocess.run(
        [XMLSEC1, "--sign", "--privkey-pem", keys, "--output", str(out), str(template)], capture_output=True
    )
    assert run.returncode == 0, run.stderr.decode()
    verified = verify_elmo(out.read_bytes(), trusted_keys=[vector_signer.certificate])
    assert verified.certificate == vector_signer.certificate
    with pytest.raises(InvalidSignature):
        verify_elmo(out.read_bytes().replace(b">28<", b">30<", 1), trusted_keys=[vector_signer.certificate])


# --- legacy and hostile signatures ----------------------------------------------------------------------


def test_unprefixed_emrex_style_signature_verifies(vector, vector_signer, elmo_version: str) -> None:  # type: ignore[no-untyped-def]
    signed = _sign_template(_template(vector(elmo_version, "unsigned"), prefix=None), vector_signer)
    assert b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">' in signed
    verify_elmo(signed, trusted_keys=[vector_signer.certificate])


def test_sha1_is_refused_unless_allowed_then_warned(vector, vector_signer) -> None:  # type: ignore[no-untyped-def]
    signed = _sign_template(_template(vector("1.7", "unsigned"), prefix=None, sha1=True), vector_signer)
    with pytest.raises(WeakAlgorithm, match="SHA-1"):
        verify_elmo(signed, trusted_keys=[vector_signer.certificate])
    with pytest.warns(LegacyAlgorithmWarning, match="legacy SHA-1"):
        verified = verify_elmo(signed, trusted_keys=[vector_signer.certificate], allow_sha1=True)
    assert verified.signature_method.endswith("rsa-sha1")


def test_trusted_certificate_pasted_into_a_foreign_signature_is_rejected(vector, vector_signer, other_signer) -> None:  # type: ignore[no-untyped-def]
    signed = sign_elmo(vector("1.7", "unsigned"), other_signer.key, other_signer.certificate)
    theirs = base64.b64encode(other_signer.certificate.public_bytes(Encoding.DER)).decode()
    ours = base64.b64encode(vector_signer.certificate.public_bytes(Encoding.DER)).decode()
    root = parse_xml(signed)
    certificate = root.find(f".//{{{DS}}}X509Certificate")
    assert certificate is not None and "".join((certificate.text or "").split()) == theirs
    certificate.text = ours
    with pytest.raises(InvalidSignature):
        verify_elmo(etree.tostring(root), trusted_keys=[vector_signer.certificate])


def test_without_keyinfo_each_trusted_key_is_tried(vector, vector_signer, other_signer) -> None:  # type: ignore[no-untyped-def]
    root = parse_xml(vector("1.7", "signed"))
    key_info = root.find(f".//{{{DS}}}KeyInfo")
    assert key_info is not None
    key_info.getparent().remove(key_info)
    data = etree.tostring(root)
    verified = verify_elmo(data, trusted_keys=[other_signer.certificate, vector_signer.certificate])
    assert verified.certificate is None
    with pytest.raises(InvalidSignature, match="key we do not trust"):
        verify_elmo(data, trusted_keys=[other_signer.certificate])


def test_comments_are_not_part_of_what_is_signed(vector, vector_signer) -> None:  # type: ignore[no-untyped-def]
    signed = vector("1.7", "signed").replace(b"<learner>", b"<learner><!-- not signed -->", 1)
    verified = verify_elmo(signed, trusted_keys=[vector_signer.certificate])
    assert b"not signed" not in verified.signed_bytes


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        (b'<ds:Reference URI="">', b'<ds:Reference URI="#x">', UnsupportedSignature),
        (
            b"</ds:Transforms>",
            b'<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/></ds:Transforms>',
            UnsupportedSignature,
        ),
        (b"#enveloped-signature", b"#other", UnsupportedSignature),
        (b"xmldsig-more#rsa-sha256", b"xmldsig-more#rsa-md5", UnsupportedSignature),
    ],
)
def test_only_the_elmo_profile_is_accepted(vector, vector_signer, old: bytes, new: bytes, error) -> None:  # type: ignore[no-untyped-def]
    data = vector("1.7", "signed")
    assert old in data
    with pytest.raises(error):
        verify_elmo(data.replace(old, new, 1), trusted_keys=[vector_signer.certificate])


def test_two_signatures_are_refused(vector, vector_signer) -> None:  # type: ignore[no-untyped-def]
    root = parse_xml(vector("1.7", "signed"))
    signature = root.find(f"{{{DS}}}Signature")
    assert signature is not None
    root.append(etree.fromstring(etree.tostring(signature)))
    with pytest.raises(UnsupportedSignature, match="more than one"):
        verify_elmo(etree.tostring(root), trusted_keys=[vector_signer.certificate])


def test_malformed_input_is_not_a_signature_error(vector_signer) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedDocument):
        verify_elmo(b"<elmo", trusted_keys=[vector_signer.certificate])
    with pytest.raises(MalformedDocument, match="not an ELMO document"):
        verify_elmo(b"<other/>", trusted_keys=[vector_signer.certificate])
