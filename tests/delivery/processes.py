"""Record the argument list of every process the commands start: a `git` (and `helm`) shim first on PATH
writes its argv to a file of its own, and GIT_TRACE logs every process git itself starts (remote helpers,
credential helpers, receive-pack)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProcessLog:
    folder: Path
    trace: Path
    env: dict[str, str]

    def argvs(self) -> list[list[str]]:
        return [p.read_text().split("\0")[:-1] for p in sorted(self.folder.glob("argv.*"))]

    def everything(self) -> str:
        """Every recorded argument list and git's trace of the processes it started."""
        lines = ["\0".join(a) for a in self.argvs()]
        return "\n".join(lines) + "\n" + (self.trace.read_text() if self.trace.exists() else "")


def recording(tmp: Path, binaries: tuple[str, ...] = ("git",)) -> ProcessLog:
    shims, folder = tmp / "shims", tmp / "argv"
    shims.mkdir(parents=True)
    folder.mkdir()
    for binary in binaries:  # a name on PATH, or the path of a binary
        real = binary if os.sep in binary else shutil.which(binary)
        assert real is not None, f"{binary} is not installed"
        shim = shims / Path(binary).name
        shim.write_text(
            "#!/bin/sh\n"
            f'f=$(mktemp "{folder}/argv.XXXXXXXX")\n'
            f'printf "%s\\0" "$0" "$@" > "$f"\n'
            f'exec "{real}" "$@"\n'
        )
        shim.chmod(0o755)
    trace = tmp / "git-trace.log"
    env = {"PATH": f"{shims}{os.pathsep}{os.environ['PATH']}", "GIT_TRACE": str(trace)}
    return ProcessLog(folder, trace, env)
