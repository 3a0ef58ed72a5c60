"""Service repositories: files created from blueprints when missing, then only managed keys kept in line.

The service team owns `.cicd/*.yaml`; the generator edits the few keys derived from `.env` in place
(comments and order kept) and never touches `image.tag`, which CI owns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2
from ruamel.yaml.comments import CommentedMap

from gitops_poc import fileio
from gitops_poc.changes import FileChange, change_if_different
from gitops_poc.errors import UsageError
from gitops_poc.generate.catalog import SIZING, blueprint_files, template_files
from gitops_poc.k8app import SERVICE_TYPE
from gitops_poc.layout import SERVICES_DIR
from gitops_poc.platform import Platform
from gitops_poc.templatestamp import STAMP_FILE, stamp_text, tree_id
from gitops_poc.yamlio import edit_round_trip, load_k8s, unshared

INITIAL_TAG = "0.1.0"  # only for a values file created before CI has built anything
Reader = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class ManagedKey:
    path: tuple[str, ...]
    value: str | bool


def managed_keys(
    platform: Platform, service: str, env: str | None, data: Mapping[str, Any] | None = None
) -> list[ManagedKey]:
    """The keys of `.cicd/default.yaml` (env None) or `.cicd/<env>.yaml` that follow `.env`.

    `data` (the file's current values) adds the Vault paths under `secrets`: their prefix follows
    VAULT_PATH_PREFIX, because the service's Vault policy only grants its own folder under that prefix.
    """
    if env is None:
        # The Deployment runs as the service's own ServiceAccount, whose VaultAuth the chart's
        # VaultStaticSecrets name: both are created by gitops-config/platform/<env>.
        keys = [
            ManagedKey(("appName",), platform.app_name(service)),
            ManagedKey(("serviceAccountName",), platform.service_account(service)),
            ManagedKey(("secretsProvider", "vault", "authRef"), platform.vault_auth_name(service)),
            # Not from .env: the pinned chart (3.13.0) cannot render without it.
            ManagedKey(("service", "type"), SERVICE_TYPE),
        ]
    else:
        keys = [
            ManagedKey(("environment",), env),
            ManagedKey(("image", "repository"), platform.image_repository(service)),
        ]
        if platform.owns_disruption_budget(env):
            # The chart's PDB selects no pods; gitops-config/platform/<env> holds one that does.
            keys.append(ManagedKey(("pdb", "enabled"), False))
    secrets = (data or {}).get("secrets")
    if isinstance(secrets, Mapping):
        envs = "|".join(re.escape(e) for e in ("{env}", *platform.environments))
        pattern = re.compile(rf"^(/?)(.+?)/{re.escape(service)}/({envs})/(.+)$")
        for name, path in secrets.items():
            if isinstance(name, str) and isinstance(path, str) and (m := pattern.match(path)):
                lead, _, path_env, rest = m.groups()
                wanted = f"{lead}{platform.vault_secret_folder(service, path_env)}/{rest}"
                keys.append(ManagedKey(("secrets", name), wanted))
    return keys


class TemplateRenderer:
    """Jinja2 with strict undefined variables; compiled templates are cached per file."""

    def __init__(self) -> None:
        self._jinja = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self._cache: dict[Path, jinja2.Template] = {}
        self._names: dict[str, jinja2.Template] = {}

    def render_file(self, template: Path, context: Mapping[str, Any]) -> str:
        try:
            compiled = self._cache.get(template)
            if compiled is None:
                compiled = self._cache[template] = self._jinja.from_string(
                    fileio.read_text(template, fileio.TEMPLATE)
                )
            return compiled.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise UsageError(f"{template}:{exc.lineno}: template error: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise UsageError(f"{template}: template error: {exc.message}") from None

    def render_name(self, pattern: str, context: Mapping[str, Any]) -> str:
        if "{" not in pattern:
            return pattern
        try:
            compiled = self._names.get(pattern)
            if compiled is None:
                compiled = self._names[pattern] = self._jinja.from_string(pattern)
            return compiled.render(context)
        except jinja2.TemplateError as exc:
            raise UsageError(f"template file name {pattern!r}: {exc}") from None


def service_context(platform: Platform, service: str) -> dict[str, Any]:
    return {
        "service": service,
        "group": platform.config.gitlab_group,
        "environments": platform.environments,
        "service_host": platform.service_host,
        "chart_version": platform.config.chart_version,
        "initial_tag": INITIAL_TAG,
        "service_account": platform.service_account(service),
        "vault_auth": platform.vault_auth_name(service),
        "vault_secret_path": platform.vault_secret_path_template(service),
    }


def environment_context(platform: Platform, service: str, env: str) -> dict[str, Any]:
    tier = platform.tier(env)
    context = service_context(platform, service)
    context.update(
        environment=env,
        tier=tier.value,
        scaled=platform.allows_scaling(env),
        image_repository=platform.image_repository(service),
    )
    if service in SIZING:
        context["sizing"] = SIZING[service][tier]
    return context


def _targets(
    platform: Platform, service: str, pattern: str, renderer: TemplateRenderer
) -> Iterator[tuple[str | None, dict[str, Any], str]]:
    """Expand a file-name pattern: one file per environment when it names `environment`."""
    if "environment" in pattern and "{" in pattern:
        for env in platform.environments:
            context = environment_context(platform, service, env)
            yield env, context, renderer.render_name(pattern, context)
    else:
        context = service_context(platform, service)
        yield None, context, renderer.render_name(pattern, context)


def _values_env(relative: str, platform: Platform) -> tuple[bool, str | None]:
    """Is `relative` a values file, and for which environment (None = default.yaml)."""
    path = PurePosixPath(relative)
    if path.parent != PurePosixPath(".cicd") or path.suffix != ".yaml":
        return False, None
    if path.stem == "default":
        return True, None
    return (True, path.stem) if path.stem in platform.environments else (False, None)


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def keep_managed(
    text: str, keys: list[ManagedKey] | Callable[[dict[str, Any]], list[ManagedKey]], where: str
) -> str:
    """Return `text` with the managed keys set; unchanged text when they already hold their values.

    `keys` may be a function of the file's current values."""
    data = load_k8s(text, where) if text.strip() else None  # as Helm reads it (YAML 1.1), like every reader
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(
            f"{where}: expected a mapping of Helm values at the top level, found {type(data).__name__}"
        )
    if callable(keys):
        keys = keys(data)
    # A key under something that is not a map (e.g. `image: repo:tag`) is left alone: replacing the
    # team's value would lose it; lint reports the shape instead.
    keys = [key for key in keys if _settable(data, key.path)]
    if all(_get(data, key.path) == key.value for key in keys):
        return text

    def edit(doc: CommentedMap) -> None:
        for key in keys:
            _set(doc, key)

    return edit_round_trip(text, where, edit)


def _settable(data: Any, path: tuple[str, ...]) -> bool:
    for part in path[:-1]:
        data = data.get(part) if isinstance(data, dict) else None
        if data is None:
            return True
        if not isinstance(data, dict):
            return False
    return True


def _set(doc: CommentedMap, key: ManagedKey) -> None:
    node = doc
    for part in key.path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = CommentedMap()
        node = unshared(doc, node, part)  # a block shared through an anchor: only this key's copy changes
    name = key.path[-1]
    if node is not doc and name not in node and len(node) > 0 and isinstance(node, CommentedMap):
        # A new key in a block the team wrote goes after its first key: at the end it would land below
        # the comments and blank lines that introduce whatever follows the block.
        node.insert(1, name, key.value)
    else:
        node[name] = key.value


def file_mode(template: Path) -> int | None:
    """The template's permissions when they matter (an executable script), else the default."""
    mode = template.stat().st_mode & 0o777
    return mode if mode & 0o111 else None


def render_template_files(
    platform: Platform,
    service: str,
    renderer: TemplateRenderer,
    files: list[tuple[str, Path]],
    read: Reader | None = None,
) -> Iterator[tuple[Path, str, str | None, int | None]]:
    """(path under services/, content, previous content, mode) of each file the template makes for `service`:
    rendered when `read` has no file there (or no `read`: as a new service gets it), managed keys kept."""
    for pattern, template in files:
        for env, context, relative in _targets(platform, service, pattern, renderer):
            target = Path(SERVICES_DIR) / service / relative
            previous = read(target) if read is not None else None
            content = renderer.render_file(template, context) if previous is None else previous
            is_values, values_env = _values_env(relative, platform)
            if is_values and (env is None or values_env == env):
                content = keep_managed(
                    content, partial(managed_keys, platform, service, values_env), str(target)
                )
            yield target, content, previous, file_mode(template)


def template_version(template_dir: Path) -> str:
    """The template folder's version as `rollout template` knows it: its git tree id (templatestamp)."""
    return tree_id(
        (relative, fileio.read_bytes(path, fileio.TEMPLATE), file_mode(path) is not None)
        for relative, path in template_files(template_dir)
    )


def plan_service(
    platform: Platform,
    service: str,
    read: Reader,
    renderer: TemplateRenderer,
    template_dir: Path,
) -> list[FileChange]:
    """Files of `services/<service>/`: created when missing, managed keys kept in line. A service made from
    the template (not a built-in blueprint) that is new gets the stamp of the template version it took."""
    from_template = service not in SIZING
    files = template_files(template_dir) if from_template else blueprint_files(service)
    changes: list[FileChange] = []
    new_service = True
    for target, content, previous, mode in render_template_files(platform, service, renderer, files, read):
        if previous is None:
            changes.append(FileChange(target, content, None, "new file", mode))
        else:
            new_service = False
            if change := change_if_different(target, content, previous, "keys that follow .env"):
                changes.append(change)
    stamp = Path(SERVICES_DIR) / service / STAMP_FILE
    if from_template and new_service and read(stamp) is None:
        changes.append(FileChange(stamp, stamp_text(template_version(template_dir)), None, "new file"))
    return changes
