"""Image references as the OCI distribution spec defines them, validated before anything is written.

A CI variable reaches `ci bump` unfiltered; the original pipelines spliced it into a `yq` expression. Here a
value either matches the grammar or is refused (exit 2) with the value named, and nothing is committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitops_poc.errors import UsageError

# github.com/opencontainers/distribution-spec (spec.md, "Pulling manifests"): a tag is at most 128 characters.
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
# Only sha256 is accepted: it is what registries compute and what the chart's image line passes through.
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
# github.com/distribution/reference (reference.go): domain[:port]/path, path components lowercase.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?"
REPOSITORY = re.compile(rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
MAX_REPOSITORY = 255
SHOWN = 80  # longer values are cut in messages, with their length


def shown(value: str) -> str:
    """A value for an error message: quoted, control characters escaped, cut when very long."""
    text = value if len(value) <= SHOWN else value[:SHOWN] + "..."
    return repr(text) + (f" ({len(value)} characters)" if len(value) > SHOWN else "")


def check_tag(tag: str, option: str = "--tag") -> str:
    if not TAG.fullmatch(tag):
        if len(tag) > 128:
            why = "a tag has at most 128 characters"
        elif not tag:
            why = "a tag must not be empty"
        else:
            why = "a tag is letters, digits, '_', '.' and '-', and does not start with '.' or '-'"
        raise UsageError(f"{option} {shown(tag)} is not a valid image tag: {why} (OCI distribution spec)")
    return tag


def check_digest(digest: str, option: str = "--digest") -> str:
    if not DIGEST.fullmatch(digest):
        raise UsageError(
            f"{option} {shown(digest)} is not an image digest: expected 'sha256:' followed by 64 lowercase "
            "hexadecimal digits (as `docker buildx imagetools inspect` or the registry reports it)"
        )
    return digest


def check_repository(repository: str, option: str = "--repository") -> str:
    if "@" in repository or (":" in repository.rsplit("/", 1)[-1]):
        raise UsageError(
            f"{option} {shown(repository)} carries a tag or digest; give the repository alone "
            "(e.g. registry.gitlab.com/group/service) and the tag with --tag"
        )
    if len(repository) > MAX_REPOSITORY or not REPOSITORY.fullmatch(repository):
        raise UsageError(
            f"{option} {shown(repository)} is not an image repository: [registry[:port]/]path, path parts "
            f"lowercase letters and digits separated by '.', '_', '__' or '-', "
            f"at most {MAX_REPOSITORY} characters"
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
