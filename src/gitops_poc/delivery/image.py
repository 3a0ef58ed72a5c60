"""Image references as the OCI distribution spec defines them, validated before anything is written.

A CI variable reaches `ci bump` unfiltered; the original pipelines spliced it into a `yq` expression. Here a
value either matches the grammar or is refused (exit 2) with the value named, and nothing is committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitops_poc.errors import UsageError
from gitops_poc.imageref import digest_problem, repository_problem, tag_problem

SHOWN = 80  # longer values are cut in messages, with their length


def shown(value: str) -> str:
    """A value for an error message: quoted, control characters escaped, cut when very long."""
    text = value if len(value) <= SHOWN else value[:SHOWN] + "..."
    return repr(text) + (f" ({len(value)} characters)" if len(value) > SHOWN else "")


def check_tag(tag: str, option: str = "--tag") -> str:
    if why := tag_problem(tag):
        raise UsageError(f"{option} {shown(tag)} is not a valid image tag: {why} (OCI distribution spec)")
    return tag


def check_digest(digest: str, option: str = "--digest") -> str:
    if why := digest_problem(digest):
        raise UsageError(
            f"{option} {shown(digest)} is not an image digest: {why} (as `docker buildx imagetools inspect` "
            "or the registry reports it)"
        )
    return digest


def check_repository(repository: str, option: str = "--repository") -> str:
    if "@" in repository or (":" in repository.rsplit("/", 1)[-1]):
        raise UsageError(
            f"{option} {shown(repository)} carries a tag or digest; give the repository alone "
            "(e.g. registry.gitlab.com/group/service) and the tag with --tag"
        )
    if why := repository_problem(repository):
        raise UsageError(
            f"{option} {shown(repository)} is not an image repository ([registry[:port]/]path): {why}"
        )
    return repository


@dataclass(frozen=True)
class Image:
    """What an environment runs: repository (None: the values file does not set it), tag, optional digest."""

    repository: str | None
    tag: str
    digest: str | None = None

    @property
    def tag_field(self) -> str:
        """The chart's `image.tag`: `<tag>@sha256:...` with a digest; k8app renders
        `<repository>:<tag field>`,
        so the deployed reference is immutable."""
        return f"{self.tag}@{self.digest}" if self.digest else self.tag

    @property
    def reference(self) -> str:
        return f"{self.repository or '<repository from default.yaml>'}:{self.tag_field}"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "reference": self.reference,
        }


def split_tag_field(value: str) -> tuple[str, str | None]:
    """(tag, digest) of an `image.tag` value such as `1.2.3@sha256:...`."""
    tag, _, digest = value.partition("@")
    return tag, digest or None
