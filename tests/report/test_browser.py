"""The report page in a real browser: loaded from file://, no console error, no request but the page, one row
per service, filters and keyboard navigation work, axe-core finds no serious violation; screenshots at
1280x800 are kept (GITOPS_POC_TEST_ARTIFACTS, else the test's tmp folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.report.browser import artifacts, axe_script, browser_page

SERVICES = ["api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo"]


def _visible_rows(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all(
            "#matrix tbody tr", "rows => rows.filter(r => !r.hidden).map(r => r.dataset.service)"
        )
    )


def test_report_page_in_chromium(report_page: Path, tmp_path: Path) -> None:
    shots = artifacts(tmp_path)
    axe = axe_script()
    url = report_page.resolve().as_uri()
    with browser_page() as page:
        problems: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(url)
        page.wait_for_selector("#matrix tbody tr")
        assert page.title() == "gitops-poc report"
        assert _visible_rows(page) == SERVICES
        page.screenshot(path=str(shots / "report-1280x800.png"))

        # Keyboard: Tab from the top reaches the skip link, the filters, then the service buttons; Enter on
        # one shows its timeline and moves the focus there.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.service || ''") == "api-gateway":
                break
        else:
            raise AssertionError("Tab never reached the first service's button")
        page.keyboard.press("Enter")
        page.wait_for_selector("#timeline-body h3")
        assert page.text_content("#timeline-body h3").startswith("api-gateway: ")
        assert page.evaluate("document.activeElement.id") == "timeline"
        assert page.locator("#timeline-chart circle").count() >= 4
        page.screenshot(path=str(shots / "report-timeline-1280x800.png"))

        # Filters: by service name, by state, by environment (the other columns hidden).
        page.fill("#filter-service", "web")
        assert _visible_rows(page) == ["web-grpc", "web-http"]
        assert page.text_content("#shown") == "2 of 5 services shown"
        page.fill("#filter-service", "")
        page.select_option("#filter-state", "pinned")
        assert _visible_rows(page) == ["api-gateway"]
        page.select_option("#filter-state", "")
        page.select_option("#filter-env", "prod")
        hidden = page.eval_on_selector_all(
            "#matrix [data-env]", "cells => cells.filter(c => c.hidden).length"
        )
        assert hidden == 2 * (1 + len(SERVICES))  # dev and staging: header and every row's cell
        page.select_option("#filter-env", "")

        # Least privilege: search and drill-down to one identity.
        page.fill("#identity-search", "web-http/prod")
        page.click("#identity-results button")
        assert "api-gateway/prod" in page.text_content("#identity-detail")
        page.locator("#access").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "report-access-1280x800.png"))

        # axe-core, injected from its npm package (inline: still no request).
        page.add_script_tag(path=str(axe))
        result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == []
        assert problems == []
        assert requests == [url]
    for name in ("report-1280x800.png", "report-timeline-1280x800.png", "report-access-1280x800.png"):
        assert (shots / name).stat().st_size > 10_000
