"""Client side (catalogue replication from a running partner node) and the import/export/replicate commands."""

from __future__ import annotations

import argparse
import json
from urllib.parse import urlsplit

import pytest
from lxml import etree

from ewp_node.publish.repository import COURSE, Change, existing

PARTNER = "uni-b.example.eu"


class NodeClient:
    """An ``EwpClient`` stand-in that reaches a test node through its real security chain."""

    def __init__(self, partner_node, *, route_as: str | None = None) -> None:  # type: ignore[no-untyped-def]
        self.node, self.route_as = partner_node, route_as
        self.calls: list[tuple[str, int]] = []

    def find(self, hei_id: str, api: str, *, major: int | None = None):  # type: ignore[no-untyped-def]
        return self.node.ctx.registry.index.lookup(self.route_as or hei_id, api, major)

    def call(self, hei_id, api, endpoint="url", params=(), *, major=None, method="POST"):  # type: ignore[no-untyped-def]
        from ewp_node.client import ClientResponse

        entry = self.find(hei_id, api)
        url = entry.urls[endpoint]
        response = self.node.call(method, urlsplit(url).path, list(params))
        self.calls.append((api, len(params)))
        root = etree.fromstring(response.data) if b"<?xml" in response.data[:10] else None
        return ClientResponse(status=response.status_code, body=response.data,
                              content_type=response.headers["Content-Type"], root=root, signature_verified=True,
                              entry=entry, url=url)


@pytest.fixture
def partner(make_node):  # type: ignore[no-untyped-def]
    from ewp_node.publish.cli import load_demo_data

    node = make_node(heis=(PARTNER,), limits={"max-los-ids": 40})
    load_demo_data(node.ctx.sessions, PARTNER, "pl")
    return node


def test_replicate_partner_catalogue(make_node, partner):  # type: ignore[no-untyped-def]
    from ewp_node.publish.replicate import replicate_catalogue

    ours = make_node()
    client = NodeClient(partner)
    report = replicate_catalogue(ours.ctx, PARTNER, client=client)  # type: ignore[arg-type]
    assert report.listed == 177 and report.counts[Change.CREATED] == 177 and not report.skipped
    assert [api for api, _ in client.calls] == ["simple-course-replication"] + ["courses"] * 5  # batches of 40
    assert max(n for api, n in client.calls if api == "courses") == 41  # hei_id + 40 ids
    with ours.ctx.sessions() as session:
        stored = existing(session, COURSE, PARTNER)
        with partner.ctx.sessions() as theirs:
            assert {k: COURSE.record(v) for k, v in stored.items()} == {
                k: COURSE.record(v) for k, v in existing(theirs, COURSE, PARTNER).items()}
    again = replicate_catalogue(ours.ctx, PARTNER, client=NodeClient(partner))  # type: ignore[arg-type]
    assert again.counts == {Change.UNCHANGED: 177}
    # the partner withdraws a course: a full replication removes it
    from ewp_node.publish.importer import import_document

    import_document(partner.ctx.sessions, {"format": "ewp-node-publish/1", "hei_id": PARTNER,
                                           "delete": {"courses": ["CR/pl-alg0"]}}, {PARTNER}, source="withdraw")
    third = replicate_catalogue(ours.ctx, PARTNER, client=NodeClient(partner))  # type: ignore[arg-type]
    assert third.counts[Change.DELETED] == 1 and third.listed == 176


def test_replicate_refuses_own_hei_and_bad_answers(make_node, partner):  # type: ignore[no-untyped-def]
    from ewp_node.publish.replicate import ReplicationFailed, replicate_catalogue

    ours = make_node()
    with pytest.raises(ReplicationFailed, match="covered by this node"):
        replicate_catalogue(ours.ctx, "uni-a.example.eu", client=NodeClient(partner))  # type: ignore[arg-type]
    with pytest.raises(ReplicationFailed, match="answered HTTP 400"):
        replicate_catalogue(ours.ctx, "unknown.example.eu",  # a URL that does not serve that HEI
                            client=NodeClient(partner, route_as=PARTNER))  # type: ignore[arg-type]


def _parser() -> argparse.ArgumentParser:
    from ewp_node.publish.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    return parser


@pytest.fixture
def home(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A node home with its config file; ``build_context`` is swapped for one without key files."""
    from ewp_node import context
    from ewp_node.store.db import make_engine, session_factory, upgrade_database

    (tmp_path / "ewp-node.toml").write_text(
        'base_url = "https://node.example.eu"\n[[heis]]\nid = "uni-a.example.eu"\nnames = "University A"\n')
    engine = make_engine(f"sqlite:///{tmp_path / 'ewp-node.sqlite3'}")
    upgrade_database(engine)

    class Ctx:
        """The parts of a node context the commands use (store and settings), and its lifecycle."""

        def __init__(self, settings) -> None:  # type: ignore[no-untyped-def]
            self.settings, self.sessions = settings, session_factory(engine)

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *_) -> None:  # type: ignore[no-untyped-def]
            pass

    monkeypatch.setattr(context, "build_context", Ctx)
    return tmp_path


def test_import_export_commands(home, small_document, capsys):  # type: ignore[no-untyped-def]
    path = home / "small.json"
    path.write_text(json.dumps(small_document))
    args = _parser().parse_args(["import", str(home), str(path)])
    assert args.func(args) == 0
    assert "courses created: 3" in capsys.readouterr().out
    assert args.func(args) == 0
    assert "courses unchanged: 3" in capsys.readouterr().out
    args = _parser().parse_args(["export", str(home), "-o", str(home / "out.json")])
    assert args.func(args) == 0
    exported = json.loads((home / "out.json").read_text())
    assert exported["hei_id"] == "uni-a.example.eu" and len(exported["courses"]) == 3
    small_document["ounits"][1]["names"] = []
    path.write_text(json.dumps(small_document))
    args = _parser().parse_args(["import", str(home), str(path)])
    assert args.func(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("ewp-node: error: ") and "(nothing imported)" in err
    assert "ounits[1], field 'names': at least 1 value(s) required" in err
    args = _parser().parse_args(["export", str(home), "--format", "csv", "--delimiter", ";"])
    assert args.func(args) == 0
    sheet = capsys.readouterr().out.splitlines()
    assert sheet[0].startswith("hei_id;los_id;") and len(sheet) >= 4
