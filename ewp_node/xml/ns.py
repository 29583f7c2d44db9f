"""EWP namespaces, in one place. ``GH`` is the common GitHub prefix of every EWP namespace."""

from __future__ import annotations

GH = "https://github.com/erasmus-without-paper"

COMMON = f"{GH}/ewp-specs-architecture/blob/stable-v1/common-types.xsd"
SEC = f"{GH}/ewp-specs-sec-intro/tree/stable-v2"
CLIAUTH_NONE = f"{GH}/ewp-specs-sec-cliauth-none/tree/stable-v1"
CLIAUTH_HTTPSIG = f"{GH}/ewp-specs-sec-cliauth-httpsig/tree/stable-v1"
CLIAUTH_TLSCERT = f"{GH}/ewp-specs-sec-cliauth-tlscert/tree/stable-v1"
SRVAUTH_TLSCERT = f"{GH}/ewp-specs-sec-srvauth-tlscert/tree/stable-v1"
SRVAUTH_HTTPSIG = f"{GH}/ewp-specs-sec-srvauth-httpsig/tree/stable-v1"
REQENCR_TLS = f"{GH}/ewp-specs-sec-reqencr-tls/tree/stable-v1"
RESENCR_TLS = f"{GH}/ewp-specs-sec-resencr-tls/tree/stable-v1"
REQENCR_RSA_AES = f"{GH}/ewp-specs-sec-reqencr-rsa-aes128gcm/tree/stable-v1"
RESENCR_RSA_AES = f"{GH}/ewp-specs-sec-resencr-rsa-aes128gcm/tree/stable-v1"

DISCOVERY = f"{GH}/ewp-specs-api-discovery/tree/stable-v6"
DISCOVERY_ENTRY = f"{GH}/ewp-specs-api-discovery/blob/stable-v6/manifest-entry.xsd"
REGISTRY = f"{GH}/ewp-specs-api-registry/tree/stable-v1"

ECHO = f"{GH}/ewp-specs-api-echo/tree/stable-v2"
ECHO_ENTRY = f"{GH}/ewp-specs-api-echo/blob/stable-v2/manifest-entry.xsd"

# Published-data APIs (Institutions, OUnits, Courses, Course Replication, Factsheet, File) and shared types.
ADDRESS = f"{GH}/ewp-specs-types-address/tree/stable-v1"
CONTACT = f"{GH}/ewp-specs-types-contact/tree/stable-v1"
PHONE = f"{GH}/ewp-specs-types-phonenumber/tree/stable-v1"
TERM_V1 = f"{GH}/ewp-specs-types-academic-term/tree/stable-v1"

INSTITUTIONS = f"{GH}/ewp-specs-api-institutions/tree/stable-v2"
INSTITUTIONS_ENTRY = f"{GH}/ewp-specs-api-institutions/blob/stable-v2/manifest-entry.xsd"
OUNITS = f"{GH}/ewp-specs-api-ounits/tree/stable-v2"
OUNITS_ENTRY = f"{GH}/ewp-specs-api-ounits/blob/stable-v2/manifest-entry.xsd"
COURSES = f"{GH}/ewp-specs-api-courses/tree/stable-v1"
COURSES_ENTRY = f"{GH}/ewp-specs-api-courses/blob/stable-v1/manifest-entry.xsd"
COURSE_REPLICATION = f"{GH}/ewp-specs-api-course-replication/tree/stable-v1"
COURSE_REPLICATION_ENTRY = f"{GH}/ewp-specs-api-course-replication/blob/stable-v1/manifest-entry.xsd"
FACTSHEET = f"{GH}/ewp-specs-api-factsheet/tree/stable-v1"
FACTSHEET_ENTRY = f"{GH}/ewp-specs-api-factsheet/blob/stable-v1/manifest-entry.xsd"
FILE_ENTRY = f"{GH}/ewp-specs-api-file/blob/stable-v1/manifest-entry.xsd"

# Interinstitutional agreements: IIAs v7, IIAs Approval v2, IIA CNR v3, IIA Approval CNR v2.
IIAS_GET = f"{GH}/ewp-specs-api-iias/blob/stable-v7/endpoints/get-response.xsd"
IIAS_INDEX = f"{GH}/ewp-specs-api-iias/blob/stable-v7/endpoints/index-response.xsd"
IIAS_STATS = f"{GH}/ewp-specs-api-iias/blob/stable-v7/endpoints/stats-response.xsd"
IIAS_ENTRY = f"{GH}/ewp-specs-api-iias/blob/stable-v7/manifest-entry.xsd"
IIAS_APPROVAL = f"{GH}/ewp-specs-api-iias-approval/tree/stable-v2"
IIAS_APPROVAL_ENTRY = f"{GH}/ewp-specs-api-iias-approval/blob/stable-v2/manifest-entry.xsd"
IIA_CNR = f"{GH}/ewp-specs-api-iia-cnr/tree/stable-v3"
IIA_CNR_ENTRY = f"{GH}/ewp-specs-api-iia-cnr/blob/stable-v3/manifest-entry.xsd"
IIA_APPROVAL_CNR = f"{GH}/ewp-specs-api-iia-approval-cnr/tree/stable-v2"
IIA_APPROVAL_CNR_ENTRY = f"{GH}/ewp-specs-api-iia-approval-cnr/blob/stable-v2/manifest-entry.xsd"

XML = "http://www.w3.org/XML/1998/namespace"
XML_LANG = f"{{{XML}}}lang"


def q(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for lxml."""
    return f"{{{namespace}}}{local}"

# Mobility APIs: nominations (OMobilities v3, IMobilities v2), learning agreements (OMobility LAs v1) and
# their CNRs. OMobilities v3, IMobilities v2 and the v2 CNRs are the network's newer majors.
TERM_V2 = f"{GH}/ewp-specs-types-academic-term/tree/stable-v2"
OMOBILITIES = f"{GH}/ewp-specs-api-omobilities/blob/stable-v3/endpoints"
OMOBILITIES_ENTRY = f"{GH}/ewp-specs-api-omobilities/blob/stable-v3/manifest-entry.xsd"
#: OMobilities v2, read (never served) from partners still on the old major.
OMOBILITIES_V2 = f"{GH}/ewp-specs-api-omobilities/blob/stable-v2/endpoints"
OMOBILITIES_V2_ENTRY = f"{GH}/ewp-specs-api-omobilities/blob/stable-v2/manifest-entry.xsd"
IMOBILITIES = f"{GH}/ewp-specs-api-imobilities/blob/stable-v2/endpoints"
IMOBILITIES_ENTRY = f"{GH}/ewp-specs-api-imobilities/blob/stable-v2/manifest-entry.xsd"
OMOBILITY_LAS = f"{GH}/ewp-specs-api-omobility-las/blob/stable-v1/endpoints"
OMOBILITY_LAS_ENTRY = f"{GH}/ewp-specs-api-omobility-las/blob/stable-v1/manifest-entry.xsd"
OMOBILITY_CNR = f"{GH}/ewp-specs-api-omobility-cnr/tree/stable-v2"
OMOBILITY_CNR_ENTRY = f"{GH}/ewp-specs-api-omobility-cnr/blob/stable-v2/manifest-entry.xsd"
IMOBILITY_CNR = f"{GH}/ewp-specs-api-imobility-cnr/tree/stable-v2"
IMOBILITY_CNR_ENTRY = f"{GH}/ewp-specs-api-imobility-cnr/blob/stable-v2/manifest-entry.xsd"
OMOBILITY_LA_CNR = f"{GH}/ewp-specs-api-omobility-la-cnr/tree/stable-v1"
OMOBILITY_LA_CNR_ENTRY = f"{GH}/ewp-specs-api-omobility-la-cnr/blob/stable-v1/manifest-entry.xsd"


def endpoint_ns(base: str, document: str) -> str:
    """The namespace of one endpoint document of an API whose XSDs live under ``endpoints/``."""
    return f"{base}/{document}.xsd"

# Transcripts of records: IMobility ToRs v3 (ELMO 2.1.1) and its CNR v2, the network's newer majors.
IMOBILITY_TORS = f"{GH}/ewp-specs-api-imobility-tors/blob/stable-v3/endpoints"
IMOBILITY_TORS_ENTRY = f"{GH}/ewp-specs-api-imobility-tors/blob/stable-v3/manifest-entry.xsd"
#: IMobility ToRs v2 (ELMO 1.7), served as well for partners still on the old major.
IMOBILITY_TORS_V2 = f"{GH}/ewp-specs-api-imobility-tors/blob/stable-v2/endpoints"
IMOBILITY_TORS_V2_ENTRY = f"{GH}/ewp-specs-api-imobility-tors/blob/stable-v2/manifest-entry.xsd"
IMOBILITY_TOR_CNR = f"{GH}/ewp-specs-api-imobility-tor-cnr/tree/stable-v2"
IMOBILITY_TOR_CNR_ENTRY = f"{GH}/ewp-specs-api-imobility-tor-cnr/blob/stable-v2/manifest-entry.xsd"
OMOBILITY_STATS = f"{GH}/ewp-specs-api-omobility-stats/tree/stable-v1"
OMOBILITY_STATS_ENTRY = f"{GH}/ewp-specs-api-omobility-stats/blob/stable-v1/manifest-entry.xsd"
IMOBILITY_TOR_STATS = f"{GH}/ewp-specs-api-imobility-tor-stats/tree/stable-v1"
IMOBILITY_TOR_STATS_ENTRY = f"{GH}/ewp-specs-api-imobility-tor-stats/blob/stable-v1/manifest-entry.xsd"
