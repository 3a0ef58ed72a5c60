"""Writes the page: the Jinja2 template with its CSS, JavaScript and SVG inline, and the data the scripts
need as JSON inside the page. One file, written whole (temporary file + rename), opened from file://."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gitops_poc.changes import write_atomic
from gitops_poc.errors import UsageError
from gitops_poc.report.model import ACCESS_ORDER, Page

INDEX = "index.html"
SQUARE, GAP, PER_LINE = 8, 2, 50  # the least-privilege picture: one square per identity, 50 to a line


def _script_json(data: Any) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _data(page: Page) -> dict[str, Any]:
    return {
        "environments": list(page.environments),
        "timelines": {
            service: [
                [e["when"], e["env"], e["kind"], e["text"], e["author"], e["pipeline"], e["commit"][:8]]
                for e in events
            ]
            for service, events in page.timelines.items()
        },
        "access": [
            [a.service, a.env, a.role, a.outcome, list(a.reads), list(a.problems)] for a in page.access or ()
        ],
    }


def render(page: Page) -> str:
    environment = Environment(
        loader=PackageLoader("gitops_poc.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    by_env: dict[str, list[Any]] = {env: [] for env in page.environments}
    for access in page.access or ():
        by_env.setdefault(access.env, []).append(access)
    return environment.get_template("index.html.j2").render(
        page=page,
        access_by_env=by_env,
        access_order=ACCESS_ORDER,
        square=SQUARE,
        gap=GAP,
        per_line=PER_LINE,
        data=_script_json(_data(page)),
    )


def write_site(folder: Path, page: Page) -> Path:
    """`folder`/index.html (the folder is created); an existing index.html is replaced whole."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--html {folder}: exists and is not a folder")
    target = folder / INDEX
    write_atomic(target, render(page))
    return target
