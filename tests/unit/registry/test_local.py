"""The local registry: manifests -> a catalogue valid against the official XSD, invalid manifests kept out."""

from __future__ import annotations

from lxml import etree
from werkzeug.wrappers import Request, Response

from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.local import CATALOGUE_PATH, LocalRegistry, build_catalogue
from ewp_node.security.keys import fingerprint
from ewp_node.xml.ns import COMMON, DISCOVERY, REGISTRY, q


def test_two_manifests_make_a_valid_catalogue(make_manifest, rsa_keys, validate_official) -> None:  # type: ignore[no-untyped-def]
    shared_server = rsa_keys[2]
    a = make_manifest(["a.example"], "https://a.example/ewp", rsa_keys[0], shared_server,
                      other_ids=[("erasmus", "A  ONE01")])
    b = make_manifest(["b.example"], "https://b.example/ewp", rsa_keys[1], shared_server)
    validate_official(a)
    validate_official(b)
    data = build_catalogue([a, b])
    validate_official(data)

    root = etree.fromstring(data)
    assert len(root.findall(q(REGISTRY, "binaries") + "/" + q(REGISTRY, "rsa-public-key"))) == 3  # server key once
    index = CatalogueIndex.from_bytes(data)
    assert index.heis_for_client_key(fingerprint(rsa_keys[0].public_key())) == {"a.example"}
    b_echo = index.lookup("b.example", "echo")
    assert b_echo is not None and b_echo.urls["url"] == "https://b.example/ewp/echo" and b_echo.host_index == 1
    assert b_echo.server_key_ids == {fingerprint(shared_server.public_key())}
    assert index.hei_for_other_id("erasmus", "A  ONE01") == "a.example"


def test_a_hei_in_two_manifests_is_merged(make_manifest, rsa_keys, validate_official) -> None:  # type: ignore[no-untyped-def]
    a = make_manifest(["x.example"], "https://a.example/ewp", rsa_keys[0], None, other_ids=[("pic", "1")])
    b = make_manifest(["x.example"], "https://b.example/ewp", rsa_keys[1], None,
                      other_ids=[("pic", "1"), ("erasmus", "X  EX01")])
    data = build_catalogue([a, b])
    validate_official(data)
    heis = etree.fromstring(data).findall(f"{q(REGISTRY, 'institutions')}/{q(REGISTRY, 'hei')}")
    assert len(heis) == 1
    assert [(o.get("type"), o.text) for o in heis[0].findall(q(REGISTRY, "other-id"))] == [
        ("pic", "1"),
        ("erasmus", "X  EX01"),
    ]
    assert len(heis[0].findall(q(REGISTRY, "name"))) == 1


def _manifest_server(documents: dict[str, bytes]):  # type: ignore[no-untyped-def]
    def app(environ, start_response):  # type: ignore[no-untyped-def]
        body = documents.get(Request(environ).path)
        response = Response(body, mimetype="application/xml") if body else Response("missing", status=404)
        return response(environ, start_response)

    return app


def test_invalid_manifest_is_excluded_and_reported(serve, make_manifest, rsa_keys, official_schemas) -> None:  # type: ignore[no-untyped-def]
    good = make_manifest(["a.example"], "https://a.example/ewp", rsa_keys[0], rsa_keys[1])
    bad = make_manifest(["b.example"], "https://b.example/ewp", rsa_keys[2], rsa_keys[3])
    host = bad.find(q(DISCOVERY, "host"))
    host.remove(host.find(q(COMMON, "admin-provider")))  # required by manifest.xsd
    documents = {"/a.xml": etree.tostring(good), "/b.xml": etree.tostring(bad)}
    server = serve(_manifest_server(documents))
    urls = [f"{server.url}/a.xml", f"{server.url}/b.xml", f"{server.url}/c.xml"]
    registry = LocalRegistry(urls, verify=False, validator=official_schemas.validate, timeout=5)

    errors = registry.rebuild()
    assert [e.split(": ")[0] for e in errors] == urls[1:]
    assert "admin-provider" in errors[0] and "404" in errors[1]
    assert registry.catalogue is not None
    index = CatalogueIndex.from_bytes(registry.catalogue)
    assert index.hei_ids() == {"a.example"}
    assert [s.included for s in registry.manifest_status()] == [True, False, False]
    assert [s.url for s in registry.manifest_status()] == urls

    documents["/a.xml"] = b"<broken"
    errors = registry.rebuild()
    assert errors[0].startswith(urls[0])
    assert CatalogueIndex.from_bytes(registry.catalogue).hei_ids() == {"a.example"}  # last valid copy kept


def test_wsgi_app_etag_cache_control_status_and_refresh(serve, make_manifest, rsa_keys, official_schemas) -> None:  # type: ignore[no-untyped-def]
    documents = {"/a.xml": etree.tostring(make_manifest(["a.example"], "https://a.example/ewp", rsa_keys[0], None))}
    server = serve(_manifest_server(documents))
    registry = LocalRegistry([f"{server.url}/a.xml"], verify=False, validator=official_schemas.validate,
                             rebuild_interval=3600, max_age=30, timeout=5)
    client = registry.wsgi_app().test_client()

    first = client.get(CATALOGUE_PATH)
    assert first.status_code == 200 and first.mimetype == "application/xml"
    assert first.headers["Cache-Control"] == "max-age=30"
    etag = first.headers["ETag"]
    assert CatalogueIndex.from_bytes(first.data).lookup("a.example", "echo") is not None

    again = client.get(CATALOGUE_PATH, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""

    documents["/a.xml"] = etree.tostring(make_manifest(["a.example"], "https://a2.example/ewp", rsa_keys[0], None))
    assert client.get(CATALOGUE_PATH, headers={"If-None-Match": etag}).status_code == 304  # not rebuilt yet
    assert client.post("/refresh").get_json() == {"errors": []}
    changed = client.get(CATALOGUE_PATH, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag

    assert client.get("/manifest-status").get_json() == [
        {"url": f"{server.url}/a.xml", "error": None, "included": True}
    ]


def test_no_valid_manifest_means_503(serve, official_schemas) -> None:  # type: ignore[no-untyped-def]
    server = serve(_manifest_server({}))
    registry = LocalRegistry([f"{server.url}/a.xml"], verify=False, validator=official_schemas.validate, timeout=5)
    client = registry.wsgi_app().test_client()
    assert client.get(CATALOGUE_PATH).status_code == 503
    status = client.get("/manifest-status").get_json()
    assert status[0]["included"] is False and "404" in status[0]["error"]
