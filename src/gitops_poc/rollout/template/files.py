"""The team-owned files a template version makes for one service, as `new-service` would have written them."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from gitops_poc.generate.catalog import template_files
from gitops_poc.generate.services import TemplateRenderer, render_template_files
from gitops_poc.layout import SERVICE_PIPELINE, SERVICES_DIR, VENDOR_DIR
from gitops_poc.platform import Platform
from gitops_poc.templatestamp import STAMP_FILE

# (content, executable) by path inside the service repository
Files = dict[str, tuple[bytes, bool]]


def owned_by_init(relative: str) -> bool:
    """Files of a service repository that `init` writes whole (or the stamp this command writes): a template
    version never brings them."""
    parts = PurePosixPath(relative).parts
    return relative in (SERVICE_PIPELINE, STAMP_FILE) or (bool(parts) and parts[0] == VENDOR_DIR)


def service_files(platform: Platform, service: str, template: Path, renderer: TemplateRenderer) -> Files:
    """The files the template folder `template` makes for `service` (names and contents rendered, the keys
    that follow .env set as `init` sets them), without the ones `init` owns."""
    folder = Path(SERVICES_DIR) / service
    files: Files = {}
    for target, content, _, mode in render_template_files(
        platform, service, renderer, template_files(template)
    ):
        relative = target.relative_to(folder).as_posix()
        if not owned_by_init(relative):
            files[relative] = (content.encode(), mode is not None)
    return files
