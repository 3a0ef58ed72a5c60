"""Many renders at once: they run in the background while the caller works, results come back in the jobs'
order, and a caller that gives up starts no more of them. Real helm, the offline k8app chart."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from gitops_poc.render.cache import RenderCache
from gitops_poc.render.helm import Helm
from gitops_poc.render.manifests import Manifest
from gitops_poc.render.model import ChartRef
from gitops_poc.review.rendering import Job, rendering, workers
from gitops_poc.review.sources import RenderInput

pytestmark = pytest.mark.helm


def jobs(folder: Path, repo: str, count: int) -> list[Job]:
    made = []
    for index in range(count):
        path = folder / f"web-{index}.yaml"
        text = f"appName: web-{index}\nservice: {{type: ClusterIP}}\nreplicas: {index + 1}\n"
        path.write_text(text, encoding="utf-8")
        inputs = RenderInput(ChartRef(repo, "app", "3.13.0"), f"web-{index}", "poc-dev", ((path, text),))
        made.append(Job(f"web-{index}", "dev", inputs))
    return made


def deployment(result: object) -> Manifest:
    assert isinstance(result, tuple), result
    return next(m for m in result if m.kind == "Deployment")


def test_renders_run_while_the_caller_works_and_come_back_in_order(
    k8app_repo: str, helm: str, tmp_path: Path
) -> None:
    todo = jobs(tmp_path, k8app_repo, 5)
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    seen: list[tuple[int, int]] = []
    all_done = threading.Event()

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done == total:
            all_done.set()

    with rendering(todo, Helm(helm), "1.34.0", None, environ, progress) as results:
        # Not one result asked for yet: every render still finishes (and is told) in the background.
        assert all_done.wait(timeout=120), seen
        rendered = list(results)
    assert seen == [(n, 5) for n in range(1, 6)]
    assert [deployment(r).name for r in rendered] == [f"web-{i}" for i in range(5)]
    assert [deployment(r).body["spec"]["replicas"] for r in rendered] == [1, 2, 3, 4, 5]
    cache = RenderCache(tmp_path / "renders")
    with rendering(todo, Helm(helm), "1.34.0", cache, environ) as from_cache:
        again = list(from_cache)
    assert (cache.hits, cache.misses) == (0, 5)
    assert [deployment(r).text for r in again] == [deployment(r).text for r in rendered]


def test_a_caller_that_gives_up_starts_no_more_renders(k8app_repo: str, helm: str, tmp_path: Path) -> None:
    todo = jobs(tmp_path, k8app_repo, 12)
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    finished: list[int] = []
    with (
        pytest.raises(KeyboardInterrupt),
        rendering(todo, Helm(helm), "1.34.0", None, environ, lambda done, _: finished.append(done)),
    ):
        raise KeyboardInterrupt
    # Only the renders already running when the caller gave up ran to their end.
    assert len(finished) <= workers() < len(todo)


def test_the_caller_parses_and_caches_each_output_as_it_takes_it(
    k8app_repo: str, helm: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The workers only run helm: parsing and storing an output on their thread would keep a core waiting
    # for its next render.
    import gitops_poc.render.service as service

    parsed_on: list[int] = []
    parse = service.parse_manifests

    def spy(output: str, origin: str = "helm template") -> list[Manifest]:
        parsed_on.append(threading.get_ident())
        return parse(output, origin)

    monkeypatch.setattr(service, "parse_manifests", spy)
    todo = jobs(tmp_path, k8app_repo, 3)
    environ = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    cache = RenderCache(tmp_path / "renders")
    all_done = threading.Event()
    with rendering(
        todo, Helm(helm), "1.34.0", cache, environ, lambda d, t: d == t and all_done.set()
    ) as results:
        assert all_done.wait(timeout=120)
        assert parsed_on == [] and not list((tmp_path / "renders").rglob("*"))
        first = next(results)
        assert parsed_on == [threading.get_ident()]
        assert len([p for p in (tmp_path / "renders").rglob("*") if p.is_file()]) == 1
        rest = list(results)
    assert [deployment(r).name for r in (first, *rest)] == ["web-0", "web-1", "web-2"]
    assert parsed_on == [threading.get_ident()] * 3
