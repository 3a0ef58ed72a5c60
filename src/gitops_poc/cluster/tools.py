"""Where the helper binaries are: the checkout's .tools/bin (what `make tools` installs) first, then PATH."""

from __future__ import annotations

import shutil

from gitops_poc.render.helm import CHECKOUT, TOOLS_BIN


def find_tool(name: str) -> str | None:
    candidate = CHECKOUT / TOOLS_BIN / name
    if candidate.is_file():
        return str(candidate)
    return shutil.which(name)
