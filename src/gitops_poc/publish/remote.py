"""Where each repository goes: `<remote base>/<group>/<repo>.git`, a URL or a local folder of bare repos."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gitops_poc.errors import UsageError

# A folder of bare repositories inside the platform root, created on demand: the embedded default.
DEFAULT_LOCAL_BASE = Path(".remotes")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:")


@dataclass(frozen=True)
class RemoteBase:
    """A URL (`https://gitlab.example.com`, `ssh://...`, `git@host:`) or a local folder."""

    url: str | None = None
    folder: Path | None = None

    @property
    def is_local(self) -> bool:
        return self.folder is not None

    @property
    def is_http(self) -> bool:
        return self.url is not None and self.url.startswith(("http://", "https://"))

    def location(self, repo_path: str) -> str:
        """The remote of `<group>/<repo>`: a path for a local base, a URL otherwise."""
        if self.folder is not None:
            return str(self.folder / f"{repo_path}.git")
        assert self.url is not None
        if _SCP_LIKE.match(self.url):
            return f"{self.url.rstrip('/')}{'' if self.url.endswith(':') else '/'}{repo_path}.git"
        return f"{self.url.rstrip('/')}/{repo_path}.git"

    def shown(self) -> str:
        return str(self.folder) if self.folder is not None else str(self.url)


def parse_remote_base(value: str | None, root: Path) -> RemoteBase:
    """`--remote-base`: None = ROOT/.remotes; a URL must not carry credentials (they would land in logs)."""
    if value is None or not value.strip():
        return RemoteBase(folder=(root / DEFAULT_LOCAL_BASE).absolute())
    value = value.strip()
    if "://" in value:
        parts = urlsplit(value)
        if parts.scheme == "file":
            return _folder_base(Path(parts.path).absolute(), value)
        if parts.scheme not in ("http", "https", "ssh", "git"):
            raise UsageError(
                f"--remote-base {value!r}: unsupported scheme {parts.scheme!r} (https, ssh, file or a folder)"
            )
        if parts.password or (parts.username and parts.scheme in ("http", "https")):
            # Never repeat the value itself: it holds the credential.
            raise UsageError(
                "--remote-base: the URL carries credentials; give the token through GITLAB_TOKEN "
                "(or --token-file), "
                "never on the command line"
            )
        if not parts.hostname:
            raise UsageError(f"--remote-base {value!r}: no host name")
        return RemoteBase(url=urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", "")))
    if _SCP_LIKE.match(value):
        return RemoteBase(url=value)
    return _folder_base(Path(value).expanduser().absolute(), value)


def _folder_base(folder: Path, value: str) -> RemoteBase:
    """A local base is a folder (made on demand): a file at it or on the way to it is bad input."""
    for part in (folder, *folder.parents):
        if part.exists() and not part.is_dir():  # a link to a folder is a folder
            raise UsageError(
                f"--remote-base {value}: {part} is a file, not a folder (the base holds a folder of bare "
                "repositories per group)"
            )
    return RemoteBase(folder=folder)
