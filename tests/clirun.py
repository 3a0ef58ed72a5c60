"""Run the real `gitops-poc` command in a child process, as users do: exit code, stdout, stderr, crash logs.

Hostile-input tests use it because a hang can only be bounded (and a traceback only seen) from outside.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str
    crash_logs: tuple[str, ...]  # the text of every crash log the run left

    @property
    def text(self) -> str:
        return self.out + self.err

    def one_error(self, code: int, *needles: str) -> None:
        """Exit `code`, no traceback and no crash log, and an `error:` line naming every needle."""
        assert self.code == code, f"exit {self.code}, wanted {code}\nstdout: {self.out}\nstderr: {self.err}"
        assert "Traceback" not in self.text and not self.crash_logs, self.text
        lines = [line for line in self.err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1, self.err
        for needle in needles:
            assert needle in self.err, f"{needle!r} not in {self.err!r}"


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    tmpdir: Path | None = None,
    stdin: str | None = None,
) -> Run:
    """`python -m gitops_poc ARGS` with the test's environment (plus `env`); crash logs go to `tmpdir`."""
    environ = {**os.environ, **(env or {}), "COLUMNS": "200", "NO_COLOR": "1"}
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        environ["TMPDIR"] = str(tmpdir)
    result = subprocess.run(
        [sys.executable, "-m", "gitops_poc", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin if stdin is not None else "",
        check=False,
    )
    logs = (
        tuple(p.read_text(errors="replace") for p in sorted(tmpdir.glob("gitops-poc-crash-*")))
        if tmpdir
        else ()
    )
    return Run(result.returncode, result.stdout, result.stderr, logs)


def tree(*roots: Path) -> dict[str, str]:
    """Every entry under `roots` (files by content hash, links by target): equal before and after means
    nothing changed."""
    found: dict[str, str] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                path = Path(dirpath) / name
                if path.is_symlink():
                    found[str(path)] = "-> " + os.readlink(path)
                elif path.is_file():
                    found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
                elif path.is_dir():
                    found[str(path)] = "dir"
                else:
                    found[str(path)] = "special"
    return found
