"""The image in an environment's values file: read it, and set it as a key-level edit.

Only `image.tag` (and `image.repository` when asked) change; comments, order, quoting and indentation of
everything else stay as the service team wrote them (ruamel.yaml round trip). The pipeline that wrote the
tag is recorded in the tag line's trailing comment (`# gitops-poc: pipeline 42`), beside the value it
vouches for, invisible to Helm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from gitops_poc.delivery.image import Image, split_tag_field
from gitops_poc.errors import UsageError
from gitops_poc.values import parse_values
from gitops_poc.yamlio import edit_round_trip, load_round_trip, unshared

RECORD = re.compile(r"\s*;?\s*gitops-poc: pipeline ([0-9]+)\b")


@dataclass(frozen=True)
class ImageState:
    """What a values file says about the image: None where it says nothing."""

    repository: str | None
    tag: str | None
    digest: str | None
    pipeline: int | None  # the pipeline recorded beside the tag

    def image(self) -> Image | None:
        return Image(self.repository, self.tag, self.digest) if self.tag else None


def _image_map(data: Any, where: str) -> dict[str, Any] | None:
    image = data.get("image") if isinstance(data, dict) else None
    if image is not None and not isinstance(image, dict):
        raise UsageError(
            f"{where}: `image` is a {type(image).__name__}, not a mapping with repository and tag"
        )
    return image


def _record_of(comment: str | None) -> int | None:
    first = (comment or "").split("\n", 1)[0]
    match = RECORD.search(first)
    return int(match.group(1)) if match else None


def _tag_comment(image: CommentedMap) -> str | None:
    slot = image.ca.items.get("tag")
    token = slot[2] if slot and len(slot) > 2 else None
    return token.value if isinstance(token, CommentToken) else None


def read_image(text: str | None, where: str, *, record: bool = True) -> ImageState:
    """The image of a values file's text, read as Helm reads it (a tag written `1.10` is the number 1.1).
    `record=False` skips the pipeline record (a round-trip parse, ten times the cost of the rest)."""
    data = parse_values(text, where)
    image = _image_map(data, where) or {}
    repository, raw_tag = image.get("repository"), image.get("tag")
    tag, digest = split_tag_field(str(raw_tag)) if raw_tag not in (None, "") else (None, None)
    pipeline = None
    if record and text and "gitops-poc: pipeline" in text:  # only then is a round-trip parse worth it
        doc = load_round_trip(text, where)
        node = doc.get("image") if isinstance(doc, CommentedMap) else None
        if isinstance(node, CommentedMap):
            pipeline = _record_of(_tag_comment(node))
    return ImageState(str(repository) if repository not in (None, "") else None, tag, digest, pipeline)


def _set_record(image: CommentedMap, pipeline: int | None) -> None:
    """Put (or remove) the pipeline record in the tag line's comment; the team's own comment text and the
    comment lines that follow the tag (ruamel keeps them in the same token) are kept."""
    slot = image.ca.items.get("tag")
    token = slot[2] if slot and len(slot) > 2 else None
    old = token.value if isinstance(token, CommentToken) else "\n"
    first, newline, rest = old.partition("\n")
    own = RECORD.sub("", first).strip()
    own = own[1:].strip() if own.startswith("#") else own
    parts = [p for p in (own, f"gitops-poc: pipeline {pipeline}" if pipeline is not None else "") if p]
    line = ("# " + "; ".join(parts)) if parts else ""
    if isinstance(token, CommentToken) or line:
        # A fresh token at column 0: one space after the value, wherever the old comment stood.
        slot = image.ca.items.setdefault("tag", [None, None, None, None])
        slot[2] = CommentToken(line + (newline or "\n") + rest, CommentMark(0))


def set_image(text: str, where: str, image: Image, pipeline: int | None) -> str:
    """`text` with image.tag (and image.repository when `image` names one) set, as a key-level edit. An
    `image` mapping shared with another key through an anchor is written out for `image` alone first."""
    parse_values(text, where)  # a values file Helm cannot read is refused before it is rewritten

    def edit(doc: CommentedMap) -> None:
        if doc.get("image") is None:
            doc["image"] = CommentedMap()
        elif not isinstance(doc["image"], CommentedMap):
            raise UsageError(
                f"{where}: `image` is a {type(doc['image']).__name__}, not a mapping with repository and tag"
            )
        node = unshared(doc, doc, "image")
        if image.repository is not None:
            if "repository" in node:
                node["repository"] = image.repository
            else:
                node.insert(0, "repository", image.repository)
        node["tag"] = DoubleQuotedScalarString(image.tag_field)
        _set_record(node, pipeline)

    return edit_round_trip(text, where, edit)
