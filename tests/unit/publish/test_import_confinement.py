"""An import file names only files inside its own folder (issue 7 finding 5), and a pathological JSON file is a
clear import error, not a RecursionError (finding 11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ewp_node.publish.importer import ImportFailed, import_file

HEI = "uni-a.example.eu"


def _document(path: str) -> dict:  # type: ignore[type-arg]
    return {"format": "ewp-node-publish/1", "hei_id": HEI,
            "courses": [{"los_id": "CR/x1", "titles": ["Should not be imported"]}],
            "files": [{"file_id": "x", "media_type": "text/plain", "public": True, "path": path}]}


def _write_import(folder: Path, path: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "import.json"
    target.write_text(json.dumps(_document(path)), encoding="utf-8")
    return target


def _nothing_stored(node) -> bool:  # type: ignore[no-untyped-def]
    from ewp_node.publish.export import export_document

    with node.ctx.sessions() as session:
        exported = export_document(session, HEI)
    return not exported.get("courses") and not exported.get("files")


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A private file beside (not inside) the import folder, like HOME/keys/server-key.pem."""
    path = tmp_path / "home" / "keys" / "server-key.pem"
    path.parent.mkdir(parents=True)
    path.write_text("-----BEGIN PRIVATE KEY-----\n")
    return path


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink_file", "symlink_folder"])
def test_a_path_out_of_the_import_folder_is_refused(make_node, tmp_path, secret, how):  # type: ignore[no-untyped-def]
    node = make_node()
    folder = tmp_path / "imports"
    folder.mkdir()
    if how == "dotdot":
        path = "../home/keys/server-key.pem"
    elif how == "absolute":
        path = str(secret)
    elif how == "symlink_file":
        (folder / "innocent.pem").symlink_to(secret)
        path = "innocent.pem"
    else:
        (folder / "sub").symlink_to(secret.parent)
        path = "sub/server-key.pem"
    source = _write_import(folder, path)
    with pytest.raises(ImportFailed) as failure:
        import_file(node.ctx.sessions, source, {HEI})
    message = str(failure.value)
    assert "files[0] (x), field 'path'" in message and "outside the import file's folder" in message
    assert "BEGIN PRIVATE KEY" not in message
    assert _nothing_stored(node)


def test_a_path_inside_the_folder_and_an_inner_symlink_are_imported(make_node, tmp_path):  # type: ignore[no-untyped-def]
    node = make_node()
    folder = tmp_path / "imports"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "guide.txt").write_text("the guide")
    (folder / "latest.txt").symlink_to(folder / "docs" / "guide.txt")
    for path in ("docs/guide.txt", "latest.txt", "./docs/../docs/guide.txt"):
        source = _write_import(folder, path)
        import_file(node.ctx.sessions, source, {HEI})
    with node.ctx.sessions() as session:
        from ewp_node.publish import repository as repo

        assert repo.files_by_id(session, ["x"])["x"].content == b"the guide"


def test_a_folder_or_special_file_is_refused(make_node, tmp_path):  # type: ignore[no-untyped-def]
    node = make_node()
    folder = tmp_path / "imports"
    (folder / "docs").mkdir(parents=True)
    source = _write_import(folder, "docs")
    with pytest.raises(ImportFailed, match=r"files\[0\] \(x\), field 'path': 'docs' is not a regular file"):
        import_file(node.ctx.sessions, source, {HEI})
    assert _nothing_stored(node)


def test_deeply_nested_json_is_a_clear_import_error(make_node, tmp_path):  # type: ignore[no-untyped-def]
    node = make_node()
    source = tmp_path / "nested.json"
    source.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    with pytest.raises(ImportFailed, match="nested too deeply"):
        import_file(node.ctx.sessions, source, {HEI})
    assert _nothing_stored(node)
