"""Rollback targets from the history of `.cicd/<env>.yaml`: every image the environment held, newest
first, read exactly (repository, tag, digest, pipeline record) from the file at each commit that changed it,
the repository from `.cicd/default.yaml` at that commit where the environment file does not set one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gitops_poc.delivery.decide import values_path
from gitops_poc.delivery.image import Image
from gitops_poc.delivery.values import read_image
from gitops_poc.errors import UsageError

# Reads the file at a commit: (commit, path) -> text or None
ReadAt = Callable[[str, str], "str | None"]
MAX_COMMITS = 2000  # how far back the history is read


@dataclass(frozen=True)
class Entry:
    """The image an environment held from `commit` on."""

    commit: str
    image: Image  # the repository filled in from default.yaml where the environment file has none
    pipeline: int | None

    @property
    def reference(self) -> str:
        return self.image.reference


def image_at(read: ReadAt, commit: str, env: str) -> Entry | None:
    path = values_path(env)
    text = read(commit, path)
    if text is None:
        return None
    state = read_image(text, f"{path} at {commit[:12]}")
    image = state.image()
    if image is None:
        return None
    repository = image.repository
    if repository is None:
        default = read(commit, values_path("default"))
        repository = (
            read_image(default, f"{values_path('default')} at {commit[:12]}").repository if default else None
        )
    return Entry(commit, Image(repository, image.tag, image.digest), state.pipeline)


def image_history(commits: list[str], read: ReadAt, env: str) -> list[Entry]:
    """`commits` (newest first: those that changed the environment's file) as the distinct images held,
    newest first; each entry names the commit that brought its image in (a pin alone is no new entry)."""
    entries: list[Entry] = []
    for commit in commits[:MAX_COMMITS]:
        entry = image_at(read, commit, env)
        if entry is None:
            continue
        if entries and _same(entries[-1].image, entry.image):
            entries[-1] = Entry(entry.commit, entries[-1].image, entries[-1].pipeline)  # brought in earlier
        else:
            entries.append(entry)
    return entries


def _same(a: Image, b: Image) -> bool:
    return (a.repository, a.tag, a.digest) == (b.repository, b.tag, b.digest)


def choose(
    history: list[Entry], env: str, *, steps: int | None, to: str | None, at_ref: Entry | None
) -> tuple[Entry, Entry]:
    """(what the environment holds now, what to roll back to): `steps` images back (default 1), the image
    the file held at commit `to` (`at_ref`), or the newest earlier image whose tag is `to`."""
    path = values_path(env)
    if not history:
        raise UsageError(f"{path} has no image in its history: there is nothing to roll back")
    current, earlier = history[0], history[1:]
    if to is not None:
        if at_ref is not None:
            return current, at_ref
        for entry in earlier:
            if to in (entry.image.tag, entry.image.tag_field):
                return current, entry
        tags = ", ".join(dict.fromkeys(e.image.tag for e in earlier)) or "none"
        raise UsageError(
            f"--to {to!r} is neither a commit nor an earlier tag of {path} (earlier tags: {tags})"
        )
    count = steps or 1
    if not earlier:
        raise UsageError(
            f"{path} has no earlier image than {current.reference}: there is nothing to roll back to"
        )
    if count > len(earlier):
        raise UsageError(f"--steps {count}: {path} holds only {len(earlier)} earlier image(s)")
    return current, earlier[count - 1]
