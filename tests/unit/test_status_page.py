"""The status page for the international office: access rule (issue 7 finding 10), indicators, activity chart,
and the same summary on the command line."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from ewp_node.web.charts import bar_chart
from ewp_node.web.status import CHART_DAYS, GUESS_BURST, activity_bars, summarize, summary_text

TOKEN = "status-token-0123456789"
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def _with_token(node):  # type: ignore[no-untyped-def]
    node.ctx.settings = dataclasses.replace(node.ctx.settings, status_token=TOKEN)
    return node


def test_status_page_shows_exchanges_from_the_audit_log(make_node):  # type: ignore[no-untyped-def]
    node = _with_token(make_node())
    assert node.call("GET", "/ewp/echo", [("echo", "x")]).status_code == 200
    assert node.call("GET", "/ewp/echo", [("echo", "x")], sign=False).status_code == 401
    node.ctx.audit.flush()
    page = node.client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "<b>2</b>exchanges, last 24 h" in html
    assert '<b class="bad">1</b>errors' in html
    assert "partner.example.eu" in html
    assert "<svg" in html and html.count("<rect") == 2 * CHART_DAYS + 2  # two legend squares


def test_without_a_token_the_page_is_closed_even_to_loopback(make_node):  # type: ignore[no-untyped-def]
    """Behind a reverse proxy on the same host every client is loopback: the address opens nothing."""
    node = make_node()
    response = node.client.get("/status", environ_overrides=LOOPBACK)
    assert response.status_code == 403 and b"status_token" in response.data
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("remote", ["127.0.0.1", "::1", "203.0.113.7"])
def test_the_token_is_needed_in_the_header_whatever_the_address(make_node, remote):  # type: ignore[no-untyped-def]
    node = _with_token(make_node())
    where = {"REMOTE_ADDR": remote}
    for headers, query in [({}, ""), ({}, f"?token={TOKEN}"), ({"Authorization": f"Basic {TOKEN}"}, ""),
                           ({"Authorization": "Bearer wrong"}, ""), ({"Authorization": f"Bearer {TOKEN}x"}, "")]:
        refused = node.client.get(f"/status{query}", headers=headers, environ_overrides=where)
        assert refused.status_code == 401, (headers, query)
        assert refused.headers["WWW-Authenticate"].startswith("Bearer") and b"<error-response" in refused.data
        assert refused.headers["Cache-Control"] == "no-store"
    ok = node.client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"}, environ_overrides=where)
    assert ok.status_code == 200 and ok.headers["Cache-Control"] == "no-store"


def test_token_guesses_are_bounded(make_node):  # type: ignore[no-untyped-def]
    node = _with_token(make_node())
    statuses = [node.client.get("/status", headers={"Authorization": f"Bearer guess-{i}"}).status_code
                for i in range(GUESS_BURST + 5)]
    assert statuses[:GUESS_BURST] == [401] * GUESS_BURST and statuses[-1] == 429
    limited = node.client.get("/status", headers={"Authorization": f"Bearer {TOKEN}"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_the_summary_as_text_for_the_command_line(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    assert node.call("GET", "/ewp/echo", [("echo", "x")]).status_code == 200
    node.ctx.audit.flush()
    text = summary_text(node.ctx, summarize(node.ctx, datetime.now(UTC)))
    assert "last 24 h: 1 exchanges, 0 errors" in text
    assert "echo in 200: 1" in text and "partner.example.eu" in text


def test_activity_bars_scale_to_the_busiest_day() -> None:
    today = date(2026, 11, 29)
    chart = activity_bars([("2026-11-29", "in", 10), ("2026-11-29", "out", 5), ("2026-11-20", "in", 2)], today)
    bars = chart.bars
    assert len(bars) == CHART_DAYS and chart.bar_width == 24.0 and chart.width == CHART_DAYS * 56
    assert bars[-1].label == "2026-11-29" and bars[-1].first_height == 120.0 and bars[-1].second_height == 60.0
    assert bars[-10].first == 2 and bars[-10].first_height == 24.0
    assert bars[0].label == "2026-11-16" and bars[0].first == 0 and bars[0].tick == "11-16"


def test_long_bar_charts_share_the_width_and_label_every_nth_slot() -> None:
    days = [f"2026-10-{d:02d}" for d in range(1, 29)]
    chart = bar_chart(days, {"2026-10-03": 4}, {"2026-10-03": 1})
    assert chart.bar_width < 24.0 and chart.width == 800.0 + 15.0 - chart.bar_width  # a margin for the first tick
    assert [b.tick for b in chart.bars[:3]] == ["10-01", "", "10-03"] and chart.bars[2].second_height == 30.0


def test_init_keeps_a_status_token_and_the_cli_prints_the_summary(tmp_path, capsys):  # type: ignore[no-untyped-def]
    from ewp_node.cli import main
    from ewp_node.config import MIN_STATUS_TOKEN, load_settings

    home = tmp_path / "home"
    assert main(["init", str(home), "--hei-id", "uni-cli.example.eu", "--hei-name", "CLI University",
                 "--base-url", "https://ewp.uni-cli.example.eu"]) == 0
    token = load_settings(home, environ={}).status_token
    assert token is not None and len(token) >= MIN_STATUS_TOKEN
    capsys.readouterr()
    assert main(["status", str(home)]) == 0
    out = capsys.readouterr().out
    assert "ewp-node uni-cli.example.eu at https://ewp.uni-cli.example.eu" in out
    assert "last 24 h: 0 exchanges, 0 errors" in out and "no exchanges yet" in out
