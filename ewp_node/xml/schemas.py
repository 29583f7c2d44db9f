"""Schema validation against the official EWP XSDs (a local copy with its OASIS ``catalog.xml``).

The official schemas import each other through absolute GitHub URLs; the catalog maps every one of them to
a local file. Nothing is ever fetched from the network: a URL missing from the catalog is an error.
Compiled schemas are cached per root element, so validation costs one compile per document type.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

_XS = "http://www.w3.org/2001/XMLSchema"
_CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
#: Folders holding newer or branch copies: used only when nothing else declares the element.
_LOW_PRIORITY = ("_newer-from-registry-service", "_branches")
#: Top-level folders that hold schemas (anything else beside them is ignored).
_SCHEMA_DIRS = ("ewp-specs-", "elmo-schemas", "w3c", "_newer-from-registry-service", "_branches")
#: Roots whose children are "foreign" API entries: their entry schemas are compiled in as well.
_ENTRY_HOSTS = {"manifest", "catalogue"}


class SchemaUnavailable(RuntimeError):
    """No official schema declares this root element, or the specs folder is missing."""


class SchemaViolation(ValueError):
    """The document does not validate; ``errors`` lists the first messages with line numbers."""

    def __init__(self, root_tag: str, errors: list[str]) -> None:
        super().__init__(f"{root_tag} does not validate: " + "; ".join(errors))
        self.errors = errors


class _OfflineResolver(etree.Resolver):
    def __init__(self, url_map: dict[str, str]) -> None:
        super().__init__()
        self._map = url_map

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        if system_url is None:
            return None
        if system_url in self._map:
            return self.resolve_filename(self._map[system_url], context)
        scheme = urlparse(system_url).scheme.lower()
        if scheme in ("http", "https", "ftp"):
            raise SchemaUnavailable(f"schema URL not in catalog.xml, refusing the network: {system_url}")
        if scheme == "file":
            return self.resolve_filename(unquote(urlparse(system_url).path), context)
        return None


class OfficialSchemas:
    """Validates documents against the official EWP XSDs found in ``specs_dir``."""

    def __init__(self, specs_dir: str | os.PathLike[str]) -> None:
        self.root = Path(specs_dir).resolve()
        catalog = self.root / "catalog.xml"
        if not catalog.is_file():
            raise SchemaUnavailable(f"no catalog.xml in {self.root}")
        self._url_map = self._read_catalog(catalog)
        self._index = self._build_index()
        self._compiled: dict[tuple[str, ...], etree.XMLSchema] = {}
        self._lock = threading.Lock()

    def _parser(self) -> etree.XMLParser:
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        parser.resolvers.add(_OfflineResolver(self._url_map))
        return parser

    def _read_catalog(self, catalog: Path) -> dict[str, str]:
        tree = etree.parse(str(catalog), etree.XMLParser(no_network=True, resolve_entities=False))
        table: dict[str, str] = {}
        for el in tree.getroot():
            if not isinstance(el.tag, str):
                continue
            key = el.get("systemId") if etree.QName(el).localname == "system" else el.get("name")
            if key and el.get("uri"):
                table[key] = str((catalog.parent / el.get("uri")).resolve())
        return table

    def _xsd_files(self) -> list[Path]:
        files: list[Path] = []
        for top in sorted(self.root.iterdir()):
            if top.is_dir() and top.name.startswith(_SCHEMA_DIRS):
                files.extend(p for p in top.rglob("*.xsd") if p.is_file())
        return sorted(files)

    def _is_low_priority(self, path: Path) -> bool:
        return path.relative_to(self.root).parts[0] in _LOW_PRIORITY

    def _build_index(self) -> dict[tuple[str | None, str], list[Path]]:
        index: dict[tuple[str | None, str], list[Path]] = {}
        for xsd in self._xsd_files():
            try:
                root = etree.parse(str(xsd), self._parser()).getroot()
            except etree.XMLSyntaxError:
                continue
            tns = root.get("targetNamespace")
            for el in root.findall(f"{{{_XS}}}element"):
                index.setdefault((tns, el.get("name")), []).append(xsd)
        for paths in index.values():
            paths.sort(key=lambda p: (self._is_low_priority(p), str(p)))
        return index

    def _entry_schemas(self) -> list[Path]:
        entries = [p for p in self._xsd_files() if p.name in ("manifest-entry.xsd", "security-entries.xsd")]
        return sorted(entries, key=lambda p: (self._is_low_priority(p), str(p)))

    def has_schema(self, namespace: str, local_name: str) -> bool:
        return (namespace, local_name) in self._index

    def schema_for(self, namespace: str, local_name: str) -> etree.XMLSchema:
        """The compiled schema declaring ``{namespace}local_name`` (cached)."""
        candidates = self._index.get((namespace, local_name))
        if not candidates:
            raise SchemaUnavailable(f"no official XSD declares {{{namespace}}}{local_name}")
        paths = [candidates[0]]
        if local_name in _ENTRY_HOSTS:
            paths += [p for p in self._entry_schemas() if p != candidates[0]]
        key = tuple(str(p) for p in paths)
        with self._lock:
            if key not in self._compiled:
                self._compiled[key] = self._compile(paths)
            return self._compiled[key]

    def _compile(self, paths: list[Path]) -> etree.XMLSchema:
        if len(paths) == 1:
            return etree.XMLSchema(etree.parse(str(paths[0]), self._parser()))
        imports, seen = [], set()
        for path in paths:
            tns = etree.parse(str(path), self._parser()).getroot().get("targetNamespace")
            if tns not in seen:
                seen.add(tns)
                imports.append(f'<xs:import namespace="{tns}" schemaLocation="{path.as_uri()}"/>')
        wrapper = f'<xs:schema xmlns:xs="{_XS}">{"".join(imports)}</xs:schema>'
        doc = etree.fromstring(wrapper.encode(), self._parser(), base_url=(self.root / "_wrapper.xsd").as_uri())
        return etree.XMLSchema(doc.getroottree())

    def validate(self, document: etree._Element | bytes) -> None:
        """Validate a document (element or bytes) against the schema its root element names.

        :raises SchemaUnavailable: no official schema for that root.
        :raises SchemaViolation: the document is invalid.
        """
        if isinstance(document, (bytes, bytearray)):
            document = etree.fromstring(bytes(document), etree.XMLParser(no_network=True, resolve_entities=False))
        # Re-parse a serialised copy: validation must see exactly what goes on the wire.
        root = etree.fromstring(etree.tostring(document), etree.XMLParser(no_network=True))
        qname = etree.QName(root)
        if qname.namespace is None:
            raise SchemaUnavailable(f"root <{qname.localname}> has no namespace")
        schema = self.schema_for(qname.namespace, qname.localname)
        if not schema.validate(root):
            errors = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:8]]
            raise SchemaViolation(qname.localname, errors)
