"""The note's structure and its size budget, parsed with a CommonMark parser."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from gitops_poc.argocd.applications import FieldChange
from gitops_poc.render.diff import Change, ManifestChange, diff_manifests
from gitops_poc.render.helm import Helm
from gitops_poc.render.manifests import parse_manifests
from gitops_poc.review.markdown import HARD_LIMIT, MARKER, render_markdown
from gitops_poc.review.model import AppChange, AppReview, Review
from tests.review.structure import parse_note


def chart_bump_objects(
    k8app_charts: Callable[[str], Path], helm: str, generated_root: Path
) -> tuple[ManifestChange, ...]:
    """What a real 3.12.1 -> 3.13.0 bump does to one generated service's objects in production."""
    folder = generated_root / "services" / "web-http" / ".cicd"
    values = [folder / "default.yaml", folder / "prod.yaml"]
    runner = Helm(helm)
    sides = [
        parse_manifests(runner.template("web-http", k8app_charts(v), "poc-prod", values, "1.34.0"))
        for v in ("3.12.1", "3.13.0")
    ]
    changes = tuple(diff_manifests(sides[0], sides[1], "base", "head"))
    assert changes
    return changes


def bump(services: int, objects: tuple[ManifestChange, ...]) -> Review:
    field = FieldChange("spec.sources[0].targetRevision", "3.12.1", "3.13.0")
    apps = tuple(
        AppReview(
            name=f"svc-{i:04d}-{env}",
            service=f"svc-{i:04d}",
            environment=env,
            project="gitops-poc",
            namespace=f"poc-{env}",
            change=AppChange.CHANGED,
            auto_sync=env != "prod",
            production=env == "prod",
            fields=(field,),
            objects=objects,
        )
        for i in range(services)
        for env in ("dev", "staging", "prod")
    )
    return Review("platform", "abc123", "head", apps)


def test_chart_bump_over_2000_services_stays_under_the_budget_with_every_header(
    k8app_charts: Callable[[str], Path], helm: str, generated_root: Path
) -> None:
    review = bump(2000, chart_bump_objects(k8app_charts, helm, generated_root))
    budget = 500_000
    text = render_markdown(
        review,
        "https://argocd.example",
        budget=budget,
        full_report="https://gitlab.example/job/1/artifacts/review.md",
    )
    assert len(text) <= budget < 1_000_000
    note = parse_note(text)
    assert "Applications: 6000 changed, 0 added, 0 deleted" in note.summary
    assert "Deployment 6000 changed" in note.summary
    shown = {s.split("</code>")[0].split("<code>")[1] for s in note.sections}
    compact = {item.split("`")[1] for item in note.list_items if item.startswith("~ `")}
    assert shown and compact and not shown & compact
    assert shown | compact == {app.name for app in review.applications}
    assert len(note.fences) == len(note.sections)  # every kept section keeps its whole diff
    assert "https://gitlab.example/job/1/artifacts/review.md" in text
    assert text.endswith(MARKER + "\n")
    # Deterministic: the same review, the same bytes.
    assert (
        render_markdown(
            review,
            "https://argocd.example",
            budget=budget,
            full_report="https://gitlab.example/job/1/artifacts/review.md",
        )
        == text
    )


def test_small_review_is_whole_and_fences_survive_backticks() -> None:
    diff = "--- a/ConfigMap/x\n+++ b/ConfigMap/x\n@@ -1 +1 @@\n-  script: echo ```\n+  script: echo ````\n"
    app = AppReview(
        "web-dev",
        "web",
        "dev",
        "p",
        "poc-dev",
        AppChange.CHANGED,
        True,
        False,
        objects=(ManifestChange("ConfigMap/x", Change.CHANGED, diff),),
    )
    text = render_markdown(Review("platform", "main", "head", (app,)))
    note = parse_note(text)
    assert note.fence_bodies == [diff]
    assert len(note.sections) == 1 and "1 object differs" in note.sections[0]


def test_headers_alone_past_the_hard_limit_are_cut_with_a_pointer() -> None:
    review = bump(6000, ())
    text = render_markdown(review, budget=100_000)
    assert len(text) <= HARD_LIMIT
    assert "Cut at" in text and text.endswith(MARKER + "\n")
    parse_note(text)


def test_the_report_page_is_linked_on_one_line_under_the_summary() -> None:
    review = Review("platform", "main", "head", ())
    url = "https://acme.pages.example/gitops-config"
    linked = render_markdown(review, report_url=url)
    assert linked == render_markdown(review, report_url=url)  # deterministic
    lines = linked.splitlines()
    assert lines[0] == render_markdown(review).splitlines()[0]  # the summary stays first
    assert lines[1:3] == ["", f"What runs where: [the platform report]({url})"]
    assert parse_note(linked).summary == parse_note(render_markdown(review)).summary
    assert "What runs where" not in render_markdown(review)  # no page, no line


def test_each_application_names_the_chart_version_it_deploys() -> None:
    """A chart staged per environment: the reviewer sees each Application's own version."""
    apps = tuple(
        AppReview(
            f"web-{env}", "web", env, "p", f"poc-{env}", AppChange.CHANGED, True, False, chart_version=v
        )
        for env, v in (("dev", "3.13.0"), ("prod", "3.12.1"))
    )
    text = render_markdown(Review("platform", "main", "head", apps))
    bodies = [line for line in text.splitlines() if line.startswith("Project ")]
    assert bodies == [
        f"Project `p`, namespace `poc-{env}`, service `web`, chart version `{v}`."
        for env, v in (("dev", "3.13.0"), ("prod", "3.12.1"))
    ]
    assert [a.as_dict()["chartVersion"] for a in apps] == ["3.13.0", "3.12.1"]
