"""`report --html`: the page's content, checked by parsing the HTML the real command wrote."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.report.conftest import Published, write_report


class Page(HTMLParser):
    """Rows of the status matrix, every URL-bearing attribute, the embedded data."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.data_text = ""
        self._in_data = False
        self._in_body = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag == "tbody" and not self.rows:
            self._in_body = True
        if tag == "tr" and "data-service" in found:
            self.rows.append(str(found["data-service"]))
        for key in ("src", "href", "action", "xlink:href"):
            if found.get(key):
                self.urls.append(str(found[key]))
        self._in_data = tag == "script" and found.get("id") == "report-data"

    def handle_data(self, data: str) -> None:
        if self._in_data:
            self.data_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_data = False


def test_page_has_one_row_per_service_and_nothing_to_fetch(report_page: Path) -> None:
    text = report_page.read_text(encoding="utf-8")
    page = Page(text)
    assert page.rows == ["api-gateway", "auth-adapter", "web-grpc", "web-http", "health-demo"]
    # Only in-page anchors: no stylesheet, script, image or font from anywhere.
    assert all(url.startswith("#") for url in page.urls), page.urls
    assert "link" not in page.tags and not re.search(
        r"https?://", text.split("<script", 1)[0].split("</style>")[1]
    )
    assert "default-src 'none'" in text
    data = json.loads(page.data_text)
    events = data["timelines"]["api-gateway"]
    assert [e[2] for e in events[:4]] == ["pin", "bump", "promotion", "bump"]
    assert events[2][1] == "staging" and "promoted from dev" in events[2][3] and events[2][5] == "5"
    # A value from a values file is escaped, never markup.
    assert (
        "audit &lt;freeze&gt;" in text
        and "audit <freeze>" not in text.replace("\\u003c", "<").split("<script")[0]
    )


def test_least_privilege_aggregated_with_the_leak_and_the_failure(report_page: Path) -> None:
    text = report_page.read_text(encoding="utf-8")
    data = json.loads(Page(text).data_text)
    outcomes = {(a[0], a[1]): (a[3], a[4]) for a in data["access"]}
    assert len(outcomes) == 15
    assert outcomes[("web-http", "prod")] == ("leak", ["api-gateway/prod"])
    assert outcomes[("auth-adapter", "dev")][0] == "failure"
    assert sum(1 for o, _ in outcomes.values() if o == "ok") == 13
    # One square per identity in each environment's picture, coloured by outcome.
    assert text.count('class="a-leak"') == 1 and text.count('class="a-failure"') == 1
    assert text.count('class="a-ok"') == 13
    assert 'aria-label="prod: 1 leak, 0 failure, 0 unchecked, 4 ok"' in text


@pytest.mark.usefixtures("cached_platform_charts")
def test_lint_findings_are_on_the_page(published: Published, tmp_path: Path) -> None:
    values = published.root / "services" / "web-grpc" / ".cicd" / "dev.yaml"
    values.write_text(
        values.read_text() + "replicaCount: 2\nresources: {limits: {memory: 1Gi}}\nimage: [broken\n"
    )
    page = write_report(published.root, tmp_path / "site")
    text = page.read_text(encoding="utf-8")
    assert "Lint findings" in text and "sev-error" in text and "web-grpc/.cicd/dev.yaml" in text
    assert "Not included: pass <code>--vault-json FILE</code>" in text


def test_bad_vault_json_and_a_file_in_the_way(published: Published, tmp_path: Path) -> None:
    bad = tmp_path / "vault.json"
    bad.write_text(json.dumps({"matrix": [{"role": 3}]}))
    run = run_cli(
        "report",
        "--html",
        str(tmp_path / "site"),
        "-C",
        str(published.root),
        "--no-cluster",
        "--vault-json",
        str(bad),
        tmpdir=tmp_path / "t",
    )
    run.one_error(2, str(bad), "matrix[0]")
    assert not (tmp_path / "site").exists()  # nothing written
    (tmp_path / "file").write_text("x")
    run = run_cli(
        "report",
        "--html",
        str(tmp_path / "file"),
        "-C",
        str(published.root),
        "--no-cluster",
        "--no-lint",
        tmpdir=tmp_path / "t",
    )
    assert run.code == 2, run.err
    assert (tmp_path / "file").read_text() == "x"


def test_rewriting_is_idempotent_apart_from_the_time(published: Published, tmp_path: Path) -> None:
    first = write_report(published.root, tmp_path / "site", "--no-lint").read_text()
    second = write_report(published.root, tmp_path / "site", "--no-lint").read_text()
    strip = lambda t: re.sub(r"Generated \S+", "", t)  # noqa: E731
    assert strip(first) == strip(second)
    assert [p.name for p in (tmp_path / "site").iterdir()] == ["index.html"]


@pytest.mark.parametrize("args", [["--help"]])
def test_help(args: list[str]) -> None:
    run = run_cli("report", *args)
    assert run.code == 0 and "--html" in run.out and "--vault-json" in run.out
