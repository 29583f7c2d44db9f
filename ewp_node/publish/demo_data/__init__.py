"""Demo data sets, generated in code so that any HEI id can receive them (``ewp-node init --with-demo-data``).

``fr``: a French university (0-20 grades); ``pl``: a Polish one (2.0-5.0). Each has an ounit tree (university,
faculties, departments), a catalogue of 175 courses open to incoming students, titled in English and the local
language, with ISCED-F codes, EQF levels, ECTS credits and instances in the 2025/2026 and 2026/2027 terms,
two degree programmes, a factsheet and a public PDF guide. Same input, same output: nothing is random.
"""

from __future__ import annotations

import base64
from types import ModuleType
from typing import Any

from ewp_node.publish.demo_data import fr, pl
from ewp_node.publish.records import FORMAT

DATASETS: dict[str, ModuleType] = {"fr": fr, "pl": pl}
YEARS = (2025, 2026)


def _domain(hei_id: str) -> str:
    return hei_id if "." in hei_id else f"{hei_id}.example.org"


def _texts(names: dict[str, str]) -> list[dict[str, str]]:
    return [{"lang": lang, "text": text} for lang, text in names.items()]


def _address(data: ModuleType) -> dict[str, Any]:
    return {"address_lines": [data.STREET], "postal_code": data.POSTAL_CODE, "locality": data.CITY,
            "country": data.COUNTRY}


def _info(data: ModuleType, domain: str, topic: str, number: int) -> dict[str, Any]:
    return {"email": f"{topic}@{domain}", "phone": f"{data.PHONE_PREFIX}{number:08d}"[:16],
            "website_urls": [{"lang": "en", "url": f"https://{domain}/en/incoming/{topic}"},
                             {"lang": data.LOCAL, "url": f"https://{domain}/{data.LOCAL}/international/{topic}"}]}


def _term(data: ModuleType, year: int, number: int) -> dict[str, Any]:
    _, names, start, end = data.TERMS[number - 1]
    start_year = year if start > "07-31" else year + 1
    end_year = year if end > "07-31" else year + 1
    return {"academic_year_id": f"{year}/{year + 1}", "ewp_id": f"{year}/{year + 1}-{number}/2",
            "display_names": [{"lang": lang, "text": f"{text} {year}/{year + 1}"} for lang, text in names.items()],
            "start_date": f"{start_year}-{start}", "end_date": f"{end_year}-{end}"}


def _ounits(data: ModuleType, domain: str) -> list[dict[str, Any]]:
    root = {"ounit_id": "root", "ounit_code": data.ABBREVIATION, "names": _texts(data.NAME),
            "abbreviation": data.ABBREVIATION}
    out = [root]
    for (fcode, fen, flocal), departments in data.FACULTIES.items():
        out.append({"ounit_id": fcode.lower(), "ounit_code": fcode, "parent_ounit_id": "root",
                    "names": _texts({"en": fen, data.LOCAL: flocal}),
                    "website_urls": [{"url": f"https://{domain}/{fcode.lower()}"}],
                    "contacts": [{"names": [f"{fen} - international office"],
                                  "emails": [f"international.{fcode.lower()}@{domain}"]}]})
        for dcode, den, dlocal in departments:
            out.append({"ounit_id": f"{fcode}-{dcode}".lower(), "ounit_code": f"{fcode}-{dcode}",
                        "parent_ounit_id": fcode.lower(), "names": _texts({"en": den, data.LOCAL: dlocal})})
    return out


def _courses(data: ModuleType, domain: str) -> list[dict[str, Any]]:
    courses: list[dict[str, Any]] = []
    programmes: dict[int, list[str]] = {6: [], 7: []}
    index = 0
    for (fcode, _, _), departments in data.FACULTIES.items():
        for (dcode, _, _), subjects in departments.items():
            for stem, isced, en, local in subjects:
                for suffix, eqf, title_en, title_local, ects, hours in data.VARIANTS:
                    index += 1
                    code = f"{stem}{suffix}".upper()
                    los_id = f"CR/{data.LOCAL}-{code.lower()}"
                    number = 1 + index % 2
                    language = "en" if index % 3 == 0 else data.LOCAL
                    courses.append({
                        "los_id": los_id, "los_code": code, "ounit_id": f"{fcode}-{dcode}".lower(),
                        "titles": [{"lang": "en", "text": title_en.format(en=en, local=local)},
                                   {"lang": data.LOCAL, "text": title_local.format(en=en, local=local)}],
                        "isced_code": isced, "eqf_level": eqf,
                        "urls": [{"lang": "en", "url": f"https://{domain}/en/courses/{code.lower()}"}],
                        "descriptions": [{"lang": "en", "text": f"{title_en.format(en=en, local=local)}, taught in "
                                          f"{'English' if language == 'en' else 'the local language'}; "
                                          f"{ects} ECTS credits, {hours} contact hours."}],
                        "instances": [{
                            "loi_id": f"CRI/{data.LOCAL}-{code.lower()}-{year}",
                            "start": _term(data, year, number)["start_date"],
                            "end": _term(data, year, number)["end_date"],
                            "academic_term": _term(data, year, number), "grading_scheme": data.GRADING,
                            "credits": [{"scheme": "ects", "level": "Bachelor" if eqf == 6 else "Master",
                                         "value": ects}],
                            "language_of_instruction": language, "engagement_hours": str(hours),
                        } for year in YEARS],
                    })
                    programmes[eqf].append(los_id)
    root_names = data.NAME
    for eqf, level in ((6, "Bachelor"), (7, "Master")):
        courses.append({"los_id": f"DEP/{data.LOCAL}-exchange-{level.lower()}", "los_code": f"EXCH-{level[0]}",
                        "ounit_id": "root", "eqf_level": eqf,
                        "titles": [{"lang": "en", "text": f"Exchange programme, {level} level ({root_names['en']})"}],
                        "contains": programmes[eqf][:40]})
    return courses


def _factsheet(data: ModuleType, domain: str) -> dict[str, Any]:
    return {
        "calendar": {"student_nominations": {"autumn_term": "--05-15", "spring_term": "--10-15"},
                     "student_applications": {"autumn_term": "--06-01", "spring_term": "--11-01"}},
        "application_info": _info(data, domain, "applications", 1000),
        "additional_requirements": [
            {"name": "Language certificate", "details": f"English B2, or {data.LOCAL.upper()} B1 for courses "
             "taught in the local language", "information_websites": [f"https://{domain}/en/incoming/languages"]},
            {"name": "Learning agreement", "details": "Signed by the sending institution before the deadline"},
        ],
        "decision_weeks_limit": 5, "tor_weeks_limit": 5,
        "accessibility": [{"type": "service", "name": "Disability support office",
                           "description": "Adapted exams, note-taking help and accessible housing",
                           "information": _info(data, domain, "accessibility", 1001)}],
        "housing_info": _info(data, domain, "housing", 1002),
        "visa_info": _info(data, domain, "visa", 1003),
        "insurance_info": _info(data, domain, "insurance", 1004),
        "additional_info": [{"type": "Buddy programme", "info": _info(data, domain, "buddies", 1005)}],
    }


def pdf_page(line: str) -> bytes:
    """A minimal, valid one-page PDF showing one line of text."""
    text = line.encode("latin-1", "replace")
    stream = b"BT /F1 14 Tf 60 760 Td (" + text + b") Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def guide_file_id(dataset: str) -> str:
    """The File API id of a data set's PDF guide for incoming students."""
    return f"guide-{DATASETS[dataset].LOCAL}-2025"


def build_document(dataset: str, hei_id: str, file_api_url: str | None = None) -> dict[str, Any]:
    """The import document of ``dataset`` (``fr`` or ``pl``) for ``hei_id``. With ``file_api_url`` (our File
    API URL), the institution's mobility factsheet URLs also name the guide served by the File API.

    :raises KeyError: unknown set.
    """
    data = DATASETS[dataset]
    domain = _domain(hei_id)
    factsheet_urls = [{"lang": "en", "url": f"https://{domain}/en/incoming"}]
    if file_api_url is not None:
        factsheet_urls.append({"lang": "en", "url": f"{file_api_url}?file_id={guide_file_id(dataset)}"})
    return {
        "format": FORMAT, "hei_id": hei_id,
        "institution": {
            "names": _texts(data.NAME), "abbreviation": data.ABBREVIATION,
            "other_ids": [{"type": "erasmus", "value": data.ERASMUS_CODE}],
            "street_address": _address(data), "mailing_address": _address(data),
            "website_urls": [{"lang": "en", "url": f"https://{domain}/en"},
                             {"lang": data.LOCAL, "url": f"https://{domain}/{data.LOCAL}"}],
            "logo_url": f"https://{domain}/logo.svg",
            "mobility_factsheet_urls": factsheet_urls,
            "course_catalogue_urls": [{"lang": "en", "url": f"https://{domain}/en/courses"}],
            "contacts": [{"names": [{"lang": "en", "text": "International Relations Office"}],
                          "emails": [f"international@{domain}"], "phones": [f"{data.PHONE_PREFIX}10000000"[:16]],
                          "street_address": _address(data),
                          "role_descriptions": [{"lang": "en", "text": "Incoming exchange students and partners"}]}],
            "root_ounit_id": "root",
        },
        "ounits": _ounits(data, domain),
        "courses": _courses(data, domain),
        "factsheet": _factsheet(data, domain),
        "files": [{"file_id": guide_file_id(dataset), "media_type": "application/pdf", "public": True,
                   "name": "incoming-guide.pdf", "content_base64": base64.b64encode(
                       pdf_page(f"Guide for incoming students - {data.NAME['en']}")).decode("ascii")}],
    }
