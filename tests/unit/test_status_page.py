"""The status page for the international office: access rule, indicators, activity chart."""

from __future__ import annotations

import dataclasses
from datetime import date

from ewp_node.web.status import CHART_DAYS, activity_bars


def test_status_page_shows_exchanges_from_the_audit_log(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    assert node.call("GET", "/ewp/echo", [("echo", "x")]).status_code == 200
    assert node.call("GET", "/ewp/echo", [("echo", "x")], sign=False).status_code == 401
    node.ctx.audit.flush()
    page = node.client.get("/status")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<b>2</b>exchanges, last 24 h" in html
    assert '<b class="bad">1</b>errors' in html
    assert "partner.example.eu" in html
    assert "<svg" in html and html.count("<rect") == 2 * CHART_DAYS


def test_status_page_is_loopback_only_without_token(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.client.get("/status", environ_overrides={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 403
    assert b"loopback" in response.data


def test_status_token_opens_the_page_from_anywhere(make_node):  # type: ignore[no-untyped-def]
    node = make_node()
    node.ctx.settings = dataclasses.replace(node.ctx.settings, status_token="s3cret")
    remote = {"REMOTE_ADDR": "203.0.113.7"}
    assert node.client.get("/status?token=wrong", environ_overrides=remote).status_code == 403
    assert node.client.get("/status", environ_overrides=remote).status_code == 403
    ok = node.client.get("/status", headers={"Authorization": "Bearer s3cret"}, environ_overrides=remote)
    assert ok.status_code == 200


def test_activity_bars_scale_to_the_busiest_day() -> None:
    today = date(2026, 11, 29)
    bars = activity_bars([("2026-11-29", "in", 10), ("2026-11-29", "out", 5), ("2026-11-20", "in", 2)], today)
    assert len(bars) == CHART_DAYS
    assert bars[-1].day == "2026-11-29" and bars[-1].in_height == 120.0 and bars[-1].out_height == 60.0
    assert bars[-10].incoming == 2 and bars[-10].in_height == 24.0
    assert bars[0].day == "2026-11-16" and bars[0].incoming == 0
