"""``ewp-node elmo verify|sign|validate`` and ``ewp-node grades convert``: checks by hand for the
international office. Exit codes: 0 success, 1 rejected (bad signature, untrusted signer, invalid
document, grade not convertible), 2 unreadable input (file, key, malformed XML, grade tables).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from ewp_node.elmo.model import Elmo
from ewp_node.elmo.parse import ElmoSchemaError, detect_version, parse_elmo
from ewp_node.elmo.sign import (
    DS,
    SignatureError,
    TrustedKey,
    embedded_certificate,
    sign_elmo,
    verify_elmo,
)
from ewp_node.grades import (
    ConversionPolicy,
    GradeConversionError,
    PolicyEntry,
    Rule,
    distributions_from_json,
)
from ewp_node.xml.parse import MalformedDocument, parse_xml

OK, REJECTED, UNREADABLE = 0, 1, 2


class _Unreadable(Exception):
    """An input file or key cannot be used (exit code 2)."""


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _Unreadable(f"cannot read {path}: {exc.strerror}") from None


def _trusted_key(path: Path) -> TrustedKey:
    """A PEM certificate or PEM public key."""
    data = _read(path)
    try:
        if b"CERTIFICATE" in data:
            return x509.load_pem_x509_certificate(data)
        return serialization.load_pem_public_key(data)  # type: ignore[return-value]
    except ValueError as exc:
        raise _Unreadable(f"{path} is neither a PEM certificate nor a PEM public key: {exc}") from None


def _summary(elmo: Elmo) -> str:
    courses = [lo for report in elmo.reports for top in report.learning_opportunities for lo in top.walk()]
    issuers = ", ".join(i.value for r in elmo.reports for i in r.issuer.identifiers if i.type == "schac")
    esi = next((i.value for i in elmo.learner.identifiers if i.type == "esi"), "no ESI")
    return (
        f"learner {elmo.learner.given_names} {elmo.learner.family_name} ({esi}); "
        f"issuer {issuers or '?'}; {len(courses)} learning opportunities"
    )


def _verify(args: argparse.Namespace) -> int:
    data = _read(args.file)
    trusted = [_trusted_key(path) for path in args.cert]
    if not trusted:  # integrity only, with the document's own certificate: never a success
        signature = parse_xml(data).find(f"{{{DS}}}Signature")
        certificate = None if signature is None else embedded_certificate(signature)
        trusted = [certificate] if certificate else []
    verified = verify_elmo(data, trusted_keys=trusted, allow_sha1=args.allow_sha1)
    elmo = parse_elmo(verified.signed_bytes)
    signer = verified.certificate.subject.rfc4514_string() if verified.certificate else "a trusted key"
    if not args.cert:
        print(
            f"NOT TRUSTED: signature intact, signed by {signer}; pass --cert to check the signer",
            file=sys.stderr,
        )
        return REJECTED
    print(f"OK: ELMO {detect_version(verified.document)} signed by {signer}; {_summary(elmo)}")
    return OK


def _sign(args: argparse.Namespace) -> int:
    try:
        key = serialization.load_pem_private_key(_read(args.key), password=None)
        certificate = x509.load_pem_x509_certificate(_read(args.cert))
    except (ValueError, TypeError) as exc:
        raise _Unreadable(f"cannot load the key or certificate: {exc}") from None
    if not isinstance(key, RSAPrivateKey):
        raise _Unreadable(f"{args.key} is not an RSA private key")
    signed = sign_elmo(_read(args.file), key, certificate)
    if args.output:
        args.output.write_bytes(signed)
    else:
        sys.stdout.buffer.write(signed)
    return OK


def _validate(args: argparse.Namespace) -> int:
    elmo = parse_elmo(_read(args.file))
    print(f"OK: valid ELMO document; {_summary(elmo)}")
    return OK


Job = tuple[str, str, str, str | None, list[tuple[str, int]] | None]  # label, grade, hei, isced, counts


def _elmo_jobs(path: Path) -> list[Job]:
    """One job per graded learning opportunity, with the document's own distribution if it has one."""
    jobs: list[Job] = []
    for report in parse_elmo(_read(path)).reports:
        hei = next((i.value for i in report.issuer.identifiers if i.type == "schac"), "")
        for top in report.learning_opportunities:
            for lo in top.walk():
                result, distribution = lo.instance.result_label, lo.instance.result_distribution
                if result:
                    label = f"{lo.code() or lo.titles[0].value}: "
                    pairs = distribution.pairs() if distribution else None
                    jobs.append((label, result, hei, lo.isced_code, pairs))
    return jobs


def _convert(args: argparse.Namespace) -> int:
    try:
        tables = distributions_from_json(json.loads(_read(args.tables)))
        source, target = tables[args.source], tables[args.target]
    except (ValueError, KeyError) as exc:
        raise _Unreadable(f"grade tables {args.tables}: {exc}") from None
    policy = ConversionPolicy([PolicyEntry("", source.scale, target, source_table=source, rule=Rule(args.rule))])
    jobs = _elmo_jobs(args.elmo) if args.elmo else [("", g, "", None, None) for g in args.grades or source.scale.labels]
    failed = 0
    for label, grade, hei, isced, counts in jobs:
        try:
            conversion = policy.convert(grade, partner_hei=hei, isced_code=isced, host_counts=counts)
        except GradeConversionError as exc:
            print(f"{label}{grade}: NOT CONVERTED: {exc}")
            failed += 1
            continue
        print(f"{label}{conversion.explain()}")
        if args.elmo:
            print(f"  host table: {conversion.source_reference or args.source}")
    return REJECTED if failed else OK


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn the expected failures into a message on stderr and an exit code."""

    def run(args: argparse.Namespace) -> int:
        try:
            return int(handler(args))
        except (SignatureError, ElmoSchemaError, GradeConversionError) as exc:
            print(f"REJECTED: {exc}", file=sys.stderr)
            return REJECTED
        except (_Unreadable, MalformedDocument) as exc:
            print(f"UNREADABLE: {exc}", file=sys.stderr)
            return UNREADABLE

    return run


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``elmo`` and ``grades`` commands to the ``ewp-node`` parser."""
    elmo = subparsers.add_parser("elmo", help="ELMO transcripts of records: verify, sign, validate")
    commands = elmo.add_subparsers(dest="elmo_command", required=True)

    p = commands.add_parser("verify", help="check the signature (exit 0 only if signed by --cert's key)")
    p.add_argument("file", type=Path)
    p.add_argument(
        "--cert",
        type=Path,
        action="append",
        default=[],
        metavar="PEM",
        help="trusted signer certificate or public key (repeatable)",
    )
    p.add_argument("--allow-sha1", action="store_true", help="accept legacy RSA-SHA1 signatures (warns)")
    p.set_defaults(func=_guarded(_verify))

    p = commands.add_parser("sign", help="add an enveloped RSA-SHA256 signature")
    p.add_argument("file", type=Path)
    p.add_argument("--key", type=Path, required=True, metavar="PEM", help="RSA private key (unencrypted)")
    p.add_argument("--cert", type=Path, required=True, metavar="PEM", help="certificate for that key")
    p.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    p.set_defaults(func=_guarded(_sign))

    p = commands.add_parser("validate", help="check a document against our ELMO schemas")
    p.add_argument("file", type=Path)
    p.set_defaults(func=_guarded(_validate))

    grades = subparsers.add_parser("grades", help="grade conversion by grade distributions")
    commands = grades.add_subparsers(dest="grades_command", required=True)
    p = commands.add_parser("convert", help="convert grades from one table to another, explaining each")
    p.add_argument("--tables", type=Path, required=True, help="JSON grade tables (grade-conversion.json format)")
    p.add_argument("--from", dest="source", required=True, metavar="SCALE", help="host scale id")
    p.add_argument("--to", dest="target", required=True, metavar="SCALE", help="home scale id")
    p.add_argument("--rule", choices=[r.value for r in Rule], default=Rule.MIDPOINT.value)
    what = p.add_mutually_exclusive_group()
    what.add_argument("grades", nargs="*", default=[], metavar="GRADE", help="host grades (default: all)")
    what.add_argument("--elmo", type=Path, help="convert every result of this ELMO document")
    p.set_defaults(func=_guarded(_convert))
