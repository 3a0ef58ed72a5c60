"""`load_k8s` reads values files as Helm does (go-yaml v2: YAML 1.1 scalars, then JSON's string keys).

The claims are checked against the real `helm template` on the published k8app chart: its ConfigMap quotes
every `configmap` value with `toString`, so the rendered data shows the value and the key Helm holds.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.argocd import goyaml
from gitops_poc.argocd.gofmt import format_float
from gitops_poc.yamlio import (
    YamlSyntaxError,
    compose_k8s,
    dump_all_k8s,
    json_key,
    load_all_k8s,
    load_k8s,
    load_plain,
    may_differ,
    yaml11_differences,
    yaml12_value,
)

# configmap entries as written -> what Helm holds (checked against helm below, and spelled out here).
WRITTEN: dict[str, tuple[str, Any]] = {
    "BOOL_ON": ("on", True),
    "BOOL_Y": ("y", True),
    "BOOL_NO": ("NO", False),
    "BOOL_OFF": ("Off", False),
    "OCTAL": ("0755", 493),
    "NEG_OCTAL": ("-0755", -493),
    "UNDERSCORE": ("1_000", 1000),
    "BINARY": ("0b101", 5),
    "HEX": ("0x1F", 31),
    "OCT_PREFIX": ("0o17", 15),
    "LEADING_ZERO": ("08", 8.0),
    "EXP": ("1e3", 1000.0),
    "DOT": (".5", 0.5),
    "PLUS": ("+12", 12),
    "FLOAT": ("1_000.5", 1000.5),
    "HUGE_EXP": ("1e400", "1e400"),
    "SEXAGESIMAL": ("1:20", "1:20"),
    "DATE": ("2024-01-02", "2024-01-02"),
    "MIXED_CASE": ("yES", "yES"),
    "QUOTED": ('"on"', "on"),
    "TAGGED_STR": ("!!str off", "off"),
    "TAGGED_INT": ('!!int "0755"', 493),
    "BIG": ("12345678901234567890", 12345678901234567890),
}
KEYS = {
    "on": "true",
    "N": "false",
    "0755": "493",
    "1e3": "1000",
    "1.5": "1.5",
    "123456789.5": "1.2345679e+08",
    "1e21": "1e+21",
    ".inf": ".inf",
    "0x10": "16",
    "12345678901": "12345678901",
}


def values_text() -> str:
    lines = [
        "appName: probe",
        "service:",
        "  enabled: off",
        "  type: ClusterIP",
        "  ports:",
        "    http: {externalPort: 80, internalPort: 8080, protocol: TCP}",
        "configmap:",
    ]
    lines += [f"  {key}: {text}" for key, (text, _) in WRITTEN.items()]
    lines += [f"  {key}: key-{key}" for key in KEYS]
    return "\n".join(lines) + "\n"


def helm_template(helm: str, chart: Path, values: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [helm, "template", "rel", str(chart), "-n", "ns", "-f", str(values)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def rendered(helm: str, chart: Path, values: Path) -> dict[str, dict[str, Any]]:
    result = helm_template(helm, chart, values)
    assert result.returncode == 0, result.stderr
    # kubectl reads helm's output by the same rules: `true: "x"` in the ConfigMap is the key "true".
    return {doc["kind"]: doc for doc in load_all_k8s(result.stdout)}


def go_text(value: Any) -> str:
    """`toString` of a value Helm holds (every number a float64)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_float(float(value))
    return str(value)


def test_what_we_read_is_what_helm_renders(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(values_text())
    values = load_k8s(path.read_text(), str(path))
    objects = rendered(helm, k8app_chart, path)

    # service.enabled: off is false for Helm: no Service. YAML 1.2 reads the truthy string "off".
    assert values["service"]["enabled"] is False and "Service" not in objects
    assert load_plain(path.read_text())["service"]["enabled"] == "off"

    configmap = values["configmap"]
    assert {key: configmap[key] for key in WRITTEN} == {key: value for key, (_, value) in WRITTEN.items()}
    assert {helm_key: configmap[helm_key] for helm_key in KEYS.values()} == {
        helm_key: f"key-{key}" for key, helm_key in KEYS.items()
    }
    assert objects["ConfigMap"]["data"] == {key: go_text(value) for key, value in configmap.items()}


def test_merge_keys_and_anchors_as_helm_merges_them(helm: str, k8app_chart: Path, tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text(
        "appName: probe\nservice: {type: ClusterIP}\n"
        "base: &b {X: 1, Y: on}\nconfigmap:\n  <<: *b\n  X: 2\n  Z: *b\n"
    )
    configmap = load_k8s(path.read_text())["configmap"]
    assert configmap == {"X": 2, "true": True, "Z": {"X": 1, "true": True}}  # key Y is the boolean true
    assert rendered(helm, k8app_chart, path)["ConfigMap"]["data"] == {
        "X": "2",
        "true": "true",
        "Z": "map[X:1 true:true]",
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("a: .nan\n", "NaN or infinite"),
        ("a: -.inf\n", "NaN or infinite"),
        ("~: 1\n", "unsupported map key '~'"),
        ("12345678901234567890: x\n", "unsupported map key"),
    ],
)
def test_what_helm_cannot_read_we_refuse_with_the_line(
    text: str, problem: str, helm: str, k8app_chart: Path, tmp_path: Path
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("appName: probe\nconfigmap:\n  " + text)
    result = helm_template(helm, k8app_chart, path)
    assert result.returncode != 0 and "error converting YAML to JSON" in result.stderr
    with pytest.raises(YamlSyntaxError, match=problem) as caught:
        load_k8s(path.read_text(), "values.yaml")
    assert caught.value.line == 3


def test_duplicate_keys_are_refused_although_helm_keeps_the_last(
    helm: str, k8app_chart: Path, tmp_path: Path
) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("appName: probe\nservice: {type: ClusterIP}\nconfigmap:\n  A: one\n  A: two\n")
    assert rendered(helm, k8app_chart, path)["ConfigMap"]["data"] == {"A": "two"}
    with pytest.raises(YamlSyntaxError, match='duplicate key "A"') as caught:
        load_k8s(path.read_text(), "values.yaml")
    assert (caught.value.path, caught.value.line) == ("values.yaml", 5)
    # `on` and "true" are the same key once Helm has read them
    with pytest.raises(YamlSyntaxError, match='duplicate key "true"'):
        load_k8s('on: 1\n"true": 2\n')


def test_syntax_errors_carry_path_and_line() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_all_k8s("a: 1\n---\nb: [1, 2\nc: 3\n", "multi.yaml")
    assert (caught.value.path, caught.value.line) == ("multi.yaml", 4)  # counted in the whole stream
    with pytest.raises(YamlSyntaxError, match="cannot read 'x'"):
        load_k8s("a: !!int x\n")


def test_applicationsets_are_read_by_the_same_rules() -> None:
    text = "kind: ApplicationSet\nspec:\n  elements:\n    - autoSync: yes\n      mode: 0755\n      on: key\n"
    assert goyaml.load_all(text) == load_all_k8s(text)
    element = goyaml.load_json_like(text)["spec"]["elements"][0]
    assert element == {"autoSync": True, "mode": 493.0, "true": "key"}


def test_json_keys() -> None:
    assert [json_key(k) for k in ("a", True, False, 80, 1.5, 1e3, 0.1, -0.0, float("inf"), 2**64, None)] == [
        "a",
        "true",
        "false",
        "80",
        "1.5",
        "1000",
        "0.1",
        "-0",
        ".inf",
        None,
        None,
    ]


def test_yaml12_core_schema() -> None:
    assert [
        yaml12_value(t) for t in ("on", "0755", "0o17", "0x1F", "1_000", "1e3", "True", "~", "-.inf", "0b1")
    ] == ["on", 755, 15, 31, "1_000", 1000.0, True, None, float("-inf"), "0b1"]


def test_yaml11_differences_cover_keys_values_and_lists() -> None:
    text = "a: 0755\nb: [on, 'off', 0o17]\nyes: 1\nc:\n  - 1_000\n  - 08\nd: &x n\ne: *x\n"
    found = [
        (d.keys, d.line, d.text, d.value, d.yaml12, d.is_key) for d in yaml11_differences(compose_k8s(text))
    ]
    assert found == [
        (("a",), 1, "0755", 493, 755, False),
        (("b", 0), 2, "on", True, "on", False),  # 'off' is quoted; 0o17 is 15 for both; 08 is 8 for both
        (("true",), 3, "yes", True, "yes", True),
        (("c", 0), 5, "1_000", 1000, "1_000", False),
        (("d",), 7, "n", False, "n", False),  # the alias in e is the same node: reported once, at the anchor
    ]


def _differs_as_value(text: str) -> bool:
    try:
        return bool(yaml11_differences(compose_k8s(f"v: {text}\n")))
    except YamlSyntaxError:  # `-`, `- 1`: not a scalar
        return False


def test_may_differ_never_misses_a_difference() -> None:
    """The cheap pre-check lint relies on: every scalar that differs is caught, wherever it stands."""
    alphabet = "0172_.eExXoObB+-"
    longer = [
        "0755",
        "-0755",
        "1_000",
        "0b101",
        "+0o17",
        "0X1F",
        "1__0",
        "1_0e2",
        "12_34.5_6",
        ".5_5",
        "1e400",
    ]
    words = ["y", "Y", "n", "N", "yes", "No", "ON", "off", "Off", *longer]
    candidates = [*words, *("".join(p) for n in range(1, 4) for p in itertools.product(alphabet, repeat=n))]
    differing = [t for t in candidates if _differs_as_value(t)]
    assert len(differing) > 100 and set(longer) <= set(differing)
    for text in differing:
        for doc in (
            f"a: {text}\n",
            f"{text}: x\n",
            f"a: [{text}, b]\n",
            f"- {text}\n",
            f"a: {text}  # c\n",
            f"{{a: {text}}}\n",
        ):
            assert may_differ(doc), doc
    assert not may_differ(
        "# No namespace\npolicy: no-need\nip: 10.0.0.1\nday: 2024-01-02\nq: 'on'\nv: 1.10\n"
    )


def test_manifests_we_write_read_back_unchanged_in_helm_and_kubectl() -> None:
    docs = [
        {
            "text": "on",
            "octal": "0755",
            "n": 493,
            "y": "Y",
            "zero": "08",
            "flag": False,
            "ver": "1.10",
            "list": ["off", "1_000", 1],
            "multi": "a\nb",
        },
        {"b": 1, "a": 2},
    ]
    text = dump_all_k8s(docs)
    assert load_all_k8s(text) == docs
    assert "text: 'on'" in text and "'n': 493" in text and text.index("a: 2") < text.index("b: 1")
    assert goyaml.dump_documents(docs) == text


# --- the fast path of load_k8s (documents without aliases) against the constructor it stands in for ------
ANY_SPELLINGS = [
    *("a", "x y", "on", "Off", "y", "N", "yes", "true", "FALSE", "0755", "-0755", "08", "0o17", "0x1F"),
    *("0b101", "1_000", "+1", "-0", "1e3", "1E400", "3.14", ".5", ".nan", ".inf", "-.inf", "~", "null"),
    *("NULL", "<<", "=", "2024-01-02", "-x", "'on'", "'0755'", '"1e3"', "''", '""'),
    *('"a\\tb"', "!!str 0755", "!!str on", "!!int 0755", "!!int 0x1F", "!!int x", "!!int 1.5", "!!float 1"),
    *("!!float .nan", "!!bool yes", "!!bool 1", "!!null ''", "!!null x", "!!timestamp 2024-01-02"),
    *("!!binary aGk=", "!custom x", "&anchor a", "&anchor on"),
]
ANY_KEYS = [
    *("a", "b", "c", "on", "80", "0755", "1.5", "1e3", ".nan", "~", "null", "''", "'on'", "<<", "!!str 1"),
    *("!!int 80", "y", "1_000", "[x]"),
]


# What most documents hold: the fast path's own ground (string keys, each once; untagged values).
PLAIN_SPELLINGS = [s for s in ANY_SPELLINGS if not s.startswith("!") and "nan" not in s and "inf" not in s]
PLAIN_KEYS = ["a", "b", "c", "x y", "'on'", "'80'", "!!str 1", '"0755"', "&key k"]


def _random_node(rng: Any, depth: int, plain: bool) -> str:
    """A value in flow style: a scalar, a [sequence] or a {mapping}, tagged now and then; unless `plain`,
    keys may repeat, merge or be numbers, and scalars have tags too."""
    roll = rng.random()
    if depth > 3 or roll < 0.55:
        return str(rng.choice(PLAIN_SPELLINGS if plain else ANY_SPELLINGS))
    tags = ["!!map ", "!!seq ", "!!set ", "!!omap ", "!custom "]
    tag = rng.choice(["&node ", *tags, *[""] * (20 if plain else 3)])
    if roll < 0.75:
        items = (_random_node(rng, depth + 1, plain) for _ in range(rng.randrange(4)))
        return tag + "[" + ", ".join(items) + "]"
    keys = rng.sample(PLAIN_KEYS, rng.randrange(5)) if plain else [rng.choice(ANY_KEYS) for _ in range(4)]
    pairs = [f"{key}: {_random_node(rng, depth + 1, plain)}" for key in keys]
    if not plain and rng.random() < 0.1:
        pairs.append(f"<<: {{merged: 1, {rng.choice(ANY_KEYS)}: 2}}")
    return tag + "{" + ", ".join(pairs) + "}"


def _random_document(rng: Any) -> str:
    """A block mapping of flow values, sometimes with an anchor's alias (`*node`, the constructor's path)."""
    plain = rng.random() < 0.6
    keys = rng.sample(PLAIN_KEYS, rng.randrange(1, 6)) if plain else [rng.choice(ANY_KEYS) for _ in range(3)]
    lines = [f"{key}: {_random_node(rng, 0, plain)}" for key in keys]
    if rng.random() < 0.2:
        lines = ["items:", *(f"  - {_random_node(rng, 1, plain)}" for _ in range(3)), *lines]
    numbers = itertools.count()
    text = re.sub(r"&(anchor|key|node)\b", lambda m: f"&{m[1]}{next(numbers)}", "\n".join(lines) + "\n")
    if rng.random() < 0.1:
        text = f"base: &base {{a: 1, b: [on, 2]}}\n{text}again: *base\n"
    return text


def _typed(data: Any) -> Any:
    """The data with every value's type spelled out: True and 1, 1 and 1.0 differ."""
    if isinstance(data, dict):
        return ("dict", [(key, _typed(value)) for key, value in data.items()])
    if isinstance(data, list):
        return ("list", [_typed(item) for item in data])
    return (type(data).__name__, repr(data))


def _outcome(load: Any, text: str) -> Any:
    try:
        return _typed(load(text))
    except Exception as exc:  # the same error, as the same type and message
        return (type(exc).__name__, str(exc))


def _constructed(text: str) -> Any:
    """load_k8s as it was before the fast path: every document through _K8sConstructor."""
    from gitops_poc import yamlio

    with yamlio.syntax_errors("<string>"):
        yamlio._checked_documents(text, "<string>")
        loader = yamlio._K8sLoader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()


def test_random_documents_load_as_the_constructor_loads_them() -> None:
    import random

    rng = random.Random(19)
    outcomes: set[str] = set()
    for _ in range(3000):
        text = _random_document(rng)
        expected = _outcome(_constructed, text)
        assert _outcome(load_k8s, text) == expected, text
        outcomes.add(expected[0] if isinstance(expected, tuple) and expected[0] != "dict" else "data")
    # The documents reach both paths: data, and the errors the constructor reports.
    assert {"data", "YamlSyntaxError"} <= outcomes, outcomes


def test_a_shared_node_stays_one_object() -> None:
    data = load_k8s("base: &b {a: [1, on]}\nagain: *b\n")
    assert data == {"base": {"a": [1, True]}, "again": {"a": [1, True]}}
    assert data["base"] is data["again"]
