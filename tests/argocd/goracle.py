"""Real Go text/template + Sprig, as an oracle for gotemplate.py (the py-go-template wheel wraps a compiled
Go library). Its renderer uses missingkey=error and exits the process on any template error, so cases run in a
child process that reports each result as one JSON line and is restarted after a failure.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

_RUNNER = r"""
import json, pathlib, sys, tempfile
import go_template
cases = json.load(sys.stdin)
start = int(sys.argv[1])
for i in range(start, len(cases)):
    tmpl, data = cases[i]
    path = pathlib.Path(tempfile.mkdtemp()) / "t"
    path.write_text(tmpl)
    sys.stdout.write(json.dumps([i, "begin"]) + "\n"); sys.stdout.flush()
    out = go_template.render(path, data).decode()
    sys.stdout.write(json.dumps([i, "ok", out]) + "\n"); sys.stdout.flush()
"""


def available() -> bool:
    try:
        import go_template  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def run(cases: list[tuple[str, Any]]) -> list[tuple[bool, str]]:
    """(succeeded, output or error text) for each (template, data) pair, rendered by Go."""
    results: list[tuple[bool, str] | None] = [None] * len(cases)
    payload = json.dumps(cases)
    start = 0
    while start < len(cases):
        proc = subprocess.run(
            [sys.executable, "-c", _RUNNER, str(start)],
            input=payload,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        last_begun = start
        for line in proc.stdout.splitlines():
            item = json.loads(line)
            if item[1] == "begin":
                last_begun = item[0]
            else:
                results[item[0]] = (True, item[2])
        if proc.returncode == 0:
            break
        results[last_begun] = (False, (proc.stderr + proc.stdout.split("\n")[-1]).strip())
        start = last_begun + 1
    return [r if r is not None else (False, "not run") for r in results]
