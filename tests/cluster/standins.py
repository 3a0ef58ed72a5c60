"""Stand-ins for binaries that need a cluster (kubectl port-forward, helm install, minikube): executables
that record their arguments and do the local part of the job. Only where no real cluster can run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

PORT_FORWARD = r"""#!{python}
import json, socket, sys, time
args = sys.argv[1:]
open({log!r}, "a").write(json.dumps(args) + "\n")
mode = {mode!r}
if args[:1] == ["version"]:
    print(json.dumps({{"clientVersion": {{"gitVersion": "v1.34.5"}}}})); sys.exit(0)
if mode == "fail":
    sys.stderr.write("error: services \"vault\" not found\n"); sys.exit(1)
local = int(args[-1].split(":")[0])
if mode == "silent":
    time.sleep(60); sys.exit(0)
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", local)); server.listen(5)
if mode == "listen":
    while True:
        conn, _ = server.accept(); conn.close()
# mode "tcp:PORT": relay every connection to 127.0.0.1:PORT (a real Vault standing in for the pod's)
import threading
target = int(mode.split(":")[1])
def pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    finally:
        try: b.shutdown(socket.SHUT_WR)
        except OSError: pass
while True:
    conn, _ = server.accept()
    upstream = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pipe, args=(conn, upstream), daemon=True).start()
    threading.Thread(target=pipe, args=(upstream, conn), daemon=True).start()
"""


def kubectl_port_forward(folder: Path, mode: str = "listen") -> tuple[Path, Path]:
    """(executable, log of argument lists): listens on the local port like a working forward."""
    exe, log = folder / "kubectl", folder / "kubectl.log"
    exe.write_text(PORT_FORWARD.format(python=sys.executable, log=str(log), mode=mode))
    exe.chmod(0o755)
    return exe, log


RECORDER = r"""#!{python}
import json, os, stat, sys
args = sys.argv[1:]
if args and args[0] in {reads!r}:  # read-only subcommands: the real binary, reading the API stand-in
    os.execv({real!r}, [{real!r}, *args])
files = {{}}
for i, a in enumerate(args):
    p = args[i + 1] if a in ("--values", "-f") and i + 1 < len(args) else a.partition("--values=")[2]
    if p and os.path.exists(p):
        files[p] = {{"mode": oct(stat.S_IMODE(os.stat(p).st_mode)), "text": open(p).read()}}
open({log!r}, "a").write(json.dumps({{"args": args, "files": files}}) + "\n")
sys.stdout.write({stdout!r})
sys.exit({code} if {fail_on!r} in (None, args[0] if args else None) else 0)
"""


def recorder(
    folder: Path,
    name: str,
    *,
    stdout: str = "",
    code: int = 0,
    fail_on: str | None = None,
    real: str = "",
    reads: tuple[str, ...] = (),
) -> tuple[Path, Path]:
    """An executable `name` that records its arguments and the values files it was given (mode and
    text), prints `stdout` and exits with `code` (only for the subcommand `fail_on`, when given). The
    subcommands in `reads` run the `real` binary instead, unrecorded (helm history/get against the API
    stand-in: the reads are real, only what would need a cluster is recorded)."""
    exe, log = folder / name, folder / f"{name}.log"
    exe.write_text(
        RECORDER.format(
            python=sys.executable,
            log=str(log),
            stdout=stdout,
            code=code,
            fail_on=fail_on,
            real=real,
            reads=set(reads) if real else set(),
        )
    )
    exe.chmod(0o755)
    return exe, log


def calls(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]
