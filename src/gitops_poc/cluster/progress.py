"""Which `up` stages are done, kept in ROOT/.gitops-poc-up.json so a re-run resumes where it stopped.

A stage counts as done only for the configuration it ran with: changing .env runs everything again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from gitops_poc import fileio
from gitops_poc.config import Config
from gitops_poc.errors import UsageError
from gitops_poc.layout import LOCAL_STATE

STATE_FILE = LOCAL_STATE[0]
STAGES = ("doctor", "infrastructure", "registry", "delivery", "verify")
ALWAYS = frozenset({"doctor", "verify"})  # cheap, and their answer may change: never skipped


def fingerprint(config: Config) -> str:
    data = config.model_dump(
        mode="json", exclude={"gitlab_deploy_token", "gitlab_agent_token", "cluster_agent_tokens"}
    )
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class UpState:
    path: Path
    config: str
    done: dict[str, float]

    @classmethod
    def load(cls, root: Path, config: Config) -> UpState:
        path = root / STATE_FILE
        current = fingerprint(config)
        try:
            data = json.loads(fileio.read_bytes(path, fileio.JSON_STATE))
        except (UsageError, ValueError):  # absent, not a file or damaged: start over
            data = {}
        done = data.get("done", {}) if isinstance(data, dict) and data.get("config") == current else {}
        return cls(path, current, {k: float(v) for k, v in done.items() if k in STAGES})

    def skip(self, stage: str) -> bool:
        return stage not in ALWAYS and stage in self.done

    def mark(self, stage: str) -> None:
        self.done[stage] = time.time()
        fileio.write_atomic(self.path, json.dumps({"config": self.config, "done": self.done}))

    def forget(self) -> None:
        self.done.clear()
        self.path.unlink(missing_ok=True)
