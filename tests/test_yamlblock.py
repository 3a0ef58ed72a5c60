"""The fast block writer gives exactly ruamel's and libyaml's text (`dump_readable`), or declines: on real
k8app renders and on random data made of the scalars YAML readers disagree about."""

from __future__ import annotations

import random
import string
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.render.manifests import parse_manifests
from gitops_poc.yamlblock import block_yaml
from gitops_poc.yamlio import dump_readable

TRICKY = [
    "",
    "-",
    "--",
    "---",
    "---x",
    "-x",
    "--x",
    "-2",
    "+1",
    "1",
    "0",
    "08",
    "0755",
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "1e3",
    "1E400",
    "1.0",
    ".5",
    "...",
    "..x",
    ".inf",
    "-.inf",
    ".nan",
    "1:20",
    "190:20:30",
    "y",
    "Y",
    "n",
    "N",
    "yes",
    "No",
    "on",
    "OFF",
    "true",
    "False",
    "TRUE",
    "null",
    "Null",
    "~",
    "~x",
    "=",
    "<<",
    "a:",
    "a:b",
    "a::b",
    ":a",
    "a: b",
    "a #b",
    "a#b",
    "#a",
    "a,b",
    "[a]",
    "{a}",
    "a]",
    "&a",
    "*a",
    "!a",
    "%a",
    "@a",
    "a@b",
    "`a",
    "a'b",
    'a"b',
    "?a",
    "a?",
    "|a",
    ">a",
    "a b",
    " a",
    "a ",
    "a\nb",
    "a\n",
    "\n",
    "é",
    "a\tb",
    "/health",
    "^ENV$",
    "$HOME",
    "2024-01-02",
    "2024-01-02T10:00:00Z",
    "svc-000",
    "app-3.13.0",
    "registry.example.org/web:1.0",
    "x" * 129,
    "k" * 128,
    "pre-install,pre-upgrade",
    "a=b",
    "a+b",
    "a~b",
]
CHARS = string.ascii_letters[:6] + string.digits[:4] + " -_.:/@+=,^$~#'\"!&*?|>%`{}[]\n\t"


def scalar(rng: random.Random) -> Any:
    pick = rng.random()
    if pick < 0.5:
        return rng.choice(TRICKY)
    if pick < 0.7:
        return "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 6)))
    if pick < 0.8:
        return rng.choice([0, 1, -5, 8080, 10**20, True, False, None, 1.5])
    return "".join(rng.choice(string.ascii_lowercase + "-") for _ in range(rng.randint(1, 10)))


def value(rng: random.Random, depth: int) -> Any:
    pick = rng.random()
    if depth > 3 or pick < 0.5:
        return scalar(rng)
    size = rng.randint(0, 4)
    if pick < 0.75:
        keys = [k for k in (scalar(rng) for _ in range(size)) if isinstance(k, str)]
        return {k: value(rng, depth + 1) for k in keys}
    return [value(rng, depth + 1) for _ in range(size)]


def test_random_data_is_written_as_ruamel_writes_it_or_declined() -> None:
    rng = random.Random(19)
    written = 0
    for _ in range(4000):
        data = {"kind": value(rng, 1), scalar(rng) if rng.random() < 0.3 else "spec": value(rng, 0)}
        fast = block_yaml(data)
        if fast is not None:
            written += 1
            assert fast == dump_readable(data), data
    assert written > 500  # the writer is exercised, not just declining


def test_shared_objects_and_other_types_are_declined() -> None:
    shared = {"a": 1}
    assert block_yaml({"x": shared, "y": shared}) is None  # ruamel writes an anchor and an alias
    assert block_yaml({"x": 1.5}) is None
    assert block_yaml({}) is None
    assert block_yaml(["a"]) is None
    assert block_yaml({"a": [{"b": [1, [2, {}]]}, []]}) == "a:\n- b:\n  - 1\n  - - 2\n    - {}\n- []\n"


@pytest.mark.helm
def test_real_renders_are_written_byte_for_byte(
    k8app_charts: Callable[[str], Path], helm: str, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        "appName: web\nservice: {type: ClusterIP}\n"
        "image: {repository: registry.example.org/web, tag: '1.0'}\n"
        "configfiles:\n  data:\n    config.yaml: |\n      a: 1\n      b: on\n"
        "ingress: {enabled: true, host: web.example.org}\nenvironment: {MODE: prod, LIMIT: '10'}\n",
        encoding="utf-8",
    )
    fast = declined = 0
    for version in ("3.12.1", "3.13.0"):
        output = subprocess.run(
            [helm, "template", "web", str(k8app_charts(version)), "--values", str(values)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for manifest in parse_manifests(output):
            written = block_yaml(manifest.body)
            if written is None:
                declined += 1
            else:
                fast += 1
                assert written == dump_readable(manifest.body), manifest.key
    assert fast >= 4 and declined >= 1, (fast, declined)  # a multi-line config file is left to ruamel
