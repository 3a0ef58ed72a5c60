"""The review as a merge-request note: a one-line summary, then one collapsed section per Application with
its diff and a link to it in Argo CD. Deterministic (the same review gives the same bytes), and within a size
budget: past it, diffs are left out (first the last ones) but the summary and every header stay."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Any

from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.render.diff import ManifestChange
from gitops_poc.review.model import AppChange, AppReview, ObjectsReview, Review

MARKER = "<!-- gitops-poc-review -->"  # finds the note to update in place
DEFAULT_BUDGET = 400_000  # characters; GitLab refuses notes over 1,000,000
HARD_LIMIT = 950_000  # even headers alone are cut (with a count) past this
MARK = {AppChange.ADDED: "+", AppChange.CHANGED: "~", AppChange.DELETED: "-"}
_TICKS = re.compile(r"`+")


def _code(text: str) -> str:
    """Inline code that survives any backticks inside."""
    longest = max((len(m) for m in _TICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(body: str, info: str = "diff") -> str:
    longest = max((len(m) for m in _TICKS.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body if body.endswith(chr(10)) or not body else body + chr(10)}{ticks}\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(review: Review) -> str:
    apps = (
        f"Applications: {review.count(AppChange.CHANGED)} changed, {review.count(AppChange.ADDED)} added, "
        f"{review.count(AppChange.DELETED)} deleted"
    )
    kinds = review.objects_by_kind()
    objects = (
        "objects: "
        + ", ".join(
            f"{kind} " + " ".join(f"{counts[c]} {c}" for c in ("added", "changed", "removed") if counts[c])
            for kind, counts in kinds.items()
        )
        if kinds
        else "objects: none changed"
    )
    lint = f"lint: {_plural(review.lint_errors, 'new error')}, {len(review.lint_fixed)} fixed"
    parts = [apps, objects, lint, _plural(len(review.errors), "render error")]
    if review.guard.tripped:
        parts.append("deletion guard tripped")
    verdict = ":x:" if review.failed else ":white_check_mark:"
    return f"{verdict} **gitops-poc review** {_code(review.base)} → {_code(review.head)}: " + " · ".join(
        parts
    )


def _app_title(app: AppReview, argocd_url: str | None) -> str:
    bits = [f"{MARK[app.change]} <code>{html.escape(app.name)}</code>"]
    if app.production:
        bits.append("<b>production</b>")
    bits.append("auto-sync" if app.auto_sync else "manual sync")
    if app.change is AppChange.DELETED:
        bits.append("deleted with its resources" if app.cascades else "deleted, resources kept")
    if app.objects is None:
        bits.append("not rendered")
    else:
        bits.append(
            _plural(len(app.objects), "object") + " " + ("differ" if len(app.objects) != 1 else "differs")
        )
    if argocd_url:
        link = f"{argocd_url.rstrip('/')}/applications/{app.name}"
        bits.append(f'<a href="{html.escape(link, quote=True)}">Argo CD</a>')
    return " · ".join(bits)


def _value(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True)


def _app_body(app: AppReview) -> str:
    lines = [f"Project {_code(app.project)}, namespace {_code(app.namespace)}, service {_code(app.service)}"]
    lines[0] += f", chart version {_code(app.chart_version)}." if app.chart_version else "."
    if app.note:
        lines.append(f"\n> {app.note}")
    if app.fields:
        lines.append("\nApplication fields:\n")
        lines += [
            f"- {_code(f.path)}: {_code(_value(f.before))} → {_code(_value(f.after))}" for f in app.fields
        ]
    text = "\n".join(lines) + "\n"
    if app.objects:
        text += "\n" + _fence("".join(o.diff for o in app.objects))
    return text


def _details(title: str, body: str) -> str:
    # Blank lines around the body: GFM reads Markdown (and fences) inside an HTML block only after one.
    return f"<details>\n<summary>{title}</summary>\n\n{body}\n</details>\n"


def _objects_body(objects: Iterable[ManifestChange]) -> str:
    return _fence("".join(o.diff for o in objects))


def _objects_title(review: ObjectsReview) -> str:
    counts = ", ".join(f"{c.change.value} {html.escape(c.key)}" for c in review.objects)
    return f"<code>{html.escape(review.file)}</code> · {counts}"


def _finding(finding: Finding) -> str:
    mark = "**error**" if finding.severity is Severity.ERROR else "warning"
    return f"- {mark} {_code(finding.location)} {_code(finding.rule_id)}: {finding.message}"


def _tail(review: Review) -> list[str]:
    parts = []
    if review.triggers:
        lines = "\n".join(f"- {html.escape(t)}" for t in review.triggers)
        parts.append(f"#### What merging does\n\n{lines}\n")
    if review.vault:
        parts.append(
            "#### Vault\n\n" + "\n".join(f"- {v.change} {_code(v.what)}" for v in review.vault) + "\n"
        )
    if review.lint_introduced or review.lint_fixed:
        text = "#### Lint\n"
        if review.lint_introduced:
            text += (
                "\nIntroduced by this change:\n\n" + "\n".join(map(_finding, review.lint_introduced)) + "\n"
            )
        if review.lint_fixed:
            text += "\nFixed by this change:\n\n" + "\n".join(map(_finding, review.lint_fixed)) + "\n"
        parts.append(text)
    if review.errors:
        parts.append(
            "#### Render errors\n\n" + "\n".join(f"- {html.escape(e)}" for e in review.errors) + "\n"
        )
    if review.notes:
        parts.append("#### Notes\n\n" + "\n".join(f"- {html.escape(n)}" for n in review.notes) + "\n")
    return parts


def _head(review: Review, report_url: str | None) -> list[str]:
    parts = [summary_line(review) + "\n"]
    if report_url:
        parts.append(f"What runs where: [the platform report]({report_url})\n")
    if review.guard.tripped:
        parts.append(
            f"> **Deletion guard:** this change deletes {review.guard.deletions} Application(s), more than "
            f"the {review.guard.max_deletions} allowed. A rename is a deletion too.\n"
        )
    return parts


def _compact(app: AppReview) -> str:
    """An Application's header as one list line, for a note over its budget."""
    what = [] if app.objects is None else [_plural(len(app.objects), "object") + " differ"]
    tags = ["production"] if app.production else []
    tags.append("auto-sync" if app.auto_sync else "manual sync")
    return f"- {MARK[app.change]} {_code(app.name)} ({', '.join(tags)})" + (f": {what[0]}" if what else "")


def render_markdown(
    review: Review,
    argocd_url: str | None = None,
    budget: int = DEFAULT_BUDGET,
    full_report: str | None = None,
    report_url: str | None = None,
) -> str:
    """The note. `full_report` says where the whole report is when the note has to leave diffs out;
    `report_url` is the published report page (`report --html`), linked under the summary."""
    head, tail = _head(review, report_url), _tail(review)
    apps = [_details(_app_title(a, argocd_url), _app_body(a)) for a in review.applications]
    objects = [_details(_objects_title(r), _objects_body(r.objects)) for r in review.platform_objects]
    full = _assemble(head, apps, [], objects, tail)
    if len(full) <= budget:
        return full
    # Over budget: the summary and every Application's header stay (one line each); whole sections are
    # kept in order while they fit, platform files after the Applications.
    head.append(
        f"> This note leaves sections out to stay under {budget:,} characters. The full report: "
        f"{full_report or 'the review job artifact review.md'}.\n"
    )
    compact = [_compact(a) for a in review.applications]
    room = budget - len(_assemble(head, [], compact, [], tail))
    kept = 0
    for section, line in zip(apps, compact, strict=True):
        if len(section) - len(line) > room:
            break
        room -= len(section) - len(line)
        kept += 1
    kept_objects = []
    if kept == len(apps):
        for section in objects:
            if len(section) > room:
                break
            room -= len(section)
            kept_objects.append(section)
    text = _assemble(head, apps[:kept], compact[kept:], kept_objects, tail)
    if len(text) > HARD_LIMIT:
        cut = text[: HARD_LIMIT - 300].rsplit("\n- ", 1)[0]
        text = f"{cut}\n\n> Cut at {HARD_LIMIT:,} characters: the rest is in the full report.\n\n{MARKER}\n"
    return text


def _assemble(
    head: list[str], apps: list[str], compact: list[str], objects: list[str], tail: list[str]
) -> str:
    parts = list(head)
    if apps:
        parts.append("#### Applications\n\n" + "\n".join(apps))
    if compact:
        parts.append("#### Applications left out of this note\n\n" + "\n".join(compact) + "\n")
    if objects:
        parts.append("#### Platform objects\n\n" + "\n".join(objects))
    parts += tail
    parts.append(MARKER + "\n")
    return "\n".join(parts)
