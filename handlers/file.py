"""File API v1.0.0 (ewp-specs-api-file, stable-v1): a stored file's bytes with their real media type.

``file_id`` required once. The spec asks clients for GET; we also accept POST like every read API. A file
is served only by the URL of the HEI that owns it: public files to every authenticated caller, others to
callers speaking for a HEI it is shared with (403 otherwise); an unknown id is a 404. Responses are signed
like XML responses when the caller asks (the security layer signs any body).
"""

from __future__ import annotations

from ewp_node.api import ApiSpec, Endpoint, EwpRequest, FileBody
from ewp_node.errors import Forbidden, NotFound
from ewp_node.params import required_one
from ewp_node.publish import repository as repo
from ewp_node.xml.ns import FILE_ENTRY

API = ApiSpec(
    name="file",
    version="1.0.0",
    namespace=FILE_ENTRY,
    items=(Endpoint("url", "file"),),
)


@API.endpoint("url")
def file(request: EwpRequest) -> FileBody:
    file_id = required_one(request.params, "file_id")
    with request.services.sessions() as session:
        stored = repo.file_for(session, file_id, request.served_heis())
    if stored is None:
        raise NotFound(f"no file with id {file_id!r}")
    if not stored.public and not request.caller.intersection(set(stored.shared_with)):
        raise Forbidden(f"file {file_id!r} is not shared with the calling HEI(s)")
    return FileBody(stored.content, stored.media_type)
