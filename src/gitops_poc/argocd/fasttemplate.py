"""ArgoCD's default templating (`goTemplate` unset): valyala/fasttemplate with `{{` and `}}`.

Each `{{ name }}` (spaces allowed) is replaced by the string parameter `name`; nested parameters arrive
flattened (`values.x`, `path.basename`). A tag naming no string parameter is left exactly as written, so a
typo survives into the Application instead of failing. A `{{` without a closing `}}` is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gitops_poc.errors import UsageError

# Go's `.*{{.*}}.*` without (?s): only strings with a `{{...}}` on one line are templated at all.
_TEMPLATED = re.compile(r"\{\{.*\}\}")
_GO_SPACE = " \t\n\v\f\r\x85\xa0"


class FastTemplateError(UsageError):
    pass


def render(text: str, params: Mapping[str, Any]) -> str:
    if "{{" not in text or not _TEMPLATED.search(text):
        return text
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        end = text.find("}}", start + 2)
        if end < 0:
            raise FastTemplateError(
                f'cannot find end tag="}}}}" in the template={text!r} starting from {text[start + 2 :]!r}'
            )
        tag = text[start + 2 : end]
        key = tag.strip(_GO_SPACE)
        value = params.get(key)
        out.append(value if key and isinstance(value, str) else "{{" + tag + "}}")
        pos = end + 2
