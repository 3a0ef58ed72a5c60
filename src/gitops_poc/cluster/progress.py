"""Which `up` stages are done, kept in ROOT/.gitops-poc-up.json so a re-run resumes where it stopped.

A stage counts as done only for the configuration it ran with: changing .env runs everything again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from gitops_poc.config import Config
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
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        done = data.get("done", {}) if isinstance(data, dict) and data.get("config") == current else {}
        return cls(path, current, {k: float(v) for k, v in done.items() if k in STAGES})

    def skip(self, stage: str) -> bool:
        return stage not in ALWAYS and stage in self.done

    def mark(self, stage: str) -> None:
        self.done[stage] = time.time()
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"config": self.config, "done": self.done}, handle)
        os.replace(temp, self.path)

    def forget(self) -> None:
        self.done.clear()
        self.path.unlink(missing_ok=True)
