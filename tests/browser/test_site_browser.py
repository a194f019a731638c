"""The API reference and the demo page in Chromium, under their real CSP."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def _csp_violations(page) -> list[str]:
    found: list[str] = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def test_api_reference_renders_every_operation_within_its_csp(live, page, client):
    violations = _csp_violations(page)
    page.goto(live.url + "/docs")
    page.wait_for_selector(".opblock")
    operations = sum(len(ops) for ops in client.get("/openapi.json").json["paths"].values())
    assert page.locator(".opblock").count() == operations
    # an operation opens on its description and its curl example
    page.locator(".opblock-summary", has_text="/api/v1/user/reward").first.click()
    page.wait_for_selector("text=duplicate: true")
    assert page.locator(".opblock-description-wrapper code", has_text="curl -s").count() >= 1
    assert violations == [] and page.js_errors == []


def test_demo_page_shows_the_embedded_widget_of_the_demo_player(live, page, runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    violations = _csp_violations(page)
    page.goto(live.url + "/demo")
    frame = page.frame_locator("iframe")
    frame.locator("#qk-balance").wait_for()
    assert "Demo Player" in frame.locator("body").inner_text()
    assert violations == [] and page.js_errors == []
