"""YAML as Kubernetes and ArgoCD read and write it (sigs.k8s.io/yaml over go-yaml v2).

Reading is `yamlio.load_all_k8s` (YAML 1.1 resolution: `yes`, `on`, `y` are booleans; `0755` is octal; keys
become strings), which is what the API server sees when `kubectl apply` sends an ApplicationSet.
`load_json_like` then gives the values ArgoCD's code holds after its YAML -> JSON -> interface{} round trip:
every number a float64. Writing (`toYaml`) produces block YAML with sorted keys that reads back to the same
data.
"""

from __future__ import annotations

import re
from typing import Any

from gitops_poc.argocd import gofmt
from gitops_poc.yamlio import dump_all_k8s, json_key, load_all_k8s


def load_all(text: str, path: str = "<string>") -> list[Any]:
    """Every non-empty document of a multi-document YAML text, as kubectl and ArgoCD read it."""
    return load_all_k8s(text, path)


def json_like(value: Any) -> Any:
    """What Go holds after json.Unmarshal into interface{}: float64 numbers, string keys."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {_key(k): json_like(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_like(v) for v in value]
    return str(value)  # dates and other YAML types become their text, as in YAMLToJSON


def _key(key: Any) -> str:
    text = json_key(key)
    return text if text is not None else gofmt.sprint_value(key)


def load_json_like(text: str, path: str = "<string>") -> Any:
    docs = load_all(text, path)
    return json_like(docs[0]) if docs else None


# --- writing ---------------------------------------------------------------------------------------------
_PLAIN = re.compile(r"^[A-Za-z0-9_/.$][A-Za-z0-9_/.$ @=+,()-]*$")
_RESERVED = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~"
    r"|[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|0[xXoObB][0-9a-fA-F_]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|=|<<)$"
)


def _string(text: str) -> str:
    if text and _PLAIN.match(text) and not _RESERVED.match(text) and not text.endswith(" "):
        return text
    return gofmt.to_json(text, escape_html=False)


def _yaml_float(value: float) -> str:
    # sigs.k8s.io/yaml goes through JSON: a whole float64 below 1e21 comes back as an integer.
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return gofmt.format_float(value)


def _scalar(value: Any) -> str:
    text = gofmt.basic_text(value, "null", _yaml_float)
    if text is not None:
        return text
    if isinstance(value, str):
        return _string(value)
    return _string(gofmt.sprint_value(value))


def _block(value: Any, pad: str) -> list[str]:
    lines: list[str] = []
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            child = value[key]
            head = f"{pad}{_string(str(key))}:"
            if isinstance(child, dict) and child:
                lines.append(head)
                lines.extend(_block(child, pad + "  "))
            elif isinstance(child, (list, tuple)) and child:
                lines.append(head)
                lines.extend(_block(child, pad))
            else:
                lines.append(f"{head} {_inline(child)}")
    else:
        for item in value:
            if isinstance(item, (dict, list, tuple)) and item:
                nested = _block(item, pad + "  ")
                lines.append(f"{pad}- {nested[0][len(pad) + 2 :]}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_inline(item)}")
    return lines


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    return _scalar(value)


def dump(value: Any) -> str:
    """YAML text for `value`, ending in a newline (toYaml trims it)."""
    if isinstance(value, (dict, list, tuple)) and value:
        return "\n".join(_block(value, "")) + "\n"
    return _inline(value) + "\n"


def dump_documents(docs: list[Any]) -> str:
    """Several manifests as one multi-document YAML text (libyaml: fast for thousands of documents); strings
    kubectl would read as booleans or numbers (`on`, `y`, `0755`) are quoted."""
    return dump_all_k8s(docs)
