"""Rules from the chart contract: keys the chart does not know or ignores, and values it renders badly."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from typing import Any

from gitops_poc import k8app
from gitops_poc.disruption import LIMITS, budget_from_values
from gitops_poc.errors import UsageError
from gitops_poc.imageref import repository_problem, tag_problem
from gitops_poc.lint import chart, shutdown_rules, yaml11_rules
from gitops_poc.lint.catalog import rule
from gitops_poc.lint.documents import KeyPath, YamlDocument
from gitops_poc.lint.findings import Finding
from gitops_poc.lint.model import ServiceFiles, get_in, has_path
from gitops_poc.platform import Platform


def _dotted(keys: KeyPath) -> str:
    return ".".join(str(k) for k in keys)


def _suggest(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else "remove it: the chart ignores it"


def _unknown(doc: YamlDocument, keys: KeyPath, known: Iterable[str], hint: str | None = None) -> Finding:
    name = _dotted(keys)
    return rule("chart-unknown-key").at(
        doc.display,
        doc.line(keys),
        f"{name}: the chart does not know this key and ignores it",
        hint or _suggest(str(keys[-1]), known),
    )


def _check_keys(doc: YamlDocument) -> Iterator[Finding]:
    data = doc.data
    for key in data:
        keys: KeyPath = (key,)
        if key in chart.UNSUPPORTED_TOP_LEVEL:
            yield rule("labels-unsupported").at(
                doc.display,
                doc.line(keys),
                f"{key}: the chart has no {key} setting; these are silently dropped",
            )
        elif key not in chart.KNOWN_TOP_LEVEL:
            yield _unknown(doc, keys, chart.KNOWN_TOP_LEVEL, chart.FOREIGN_KEY_HINTS.get(str(key)))
        elif keys in chart.DEAD_KEYS:
            yield rule("chart-dead-key").at(doc.display, doc.line(keys), f"{key}: {chart.DEAD_KEYS[keys]}")
    for block, known in chart.KNOWN_SUBKEYS.items():
        section = data.get(block)
        if not isinstance(section, dict):
            continue
        for key in section:
            keys = (block, key)
            if block == "hpa" and key in chart.IGNORED_HPA_KEYS:
                yield rule("hpa-ignored-key").at(
                    doc.display,
                    doc.line(keys),
                    f"hpa.{key} is ignored by the chart",
                    chart.IGNORED_HPA_KEYS[key],
                )
            elif keys in chart.DEAD_KEYS:
                yield rule("chart-dead-key").at(
                    doc.display, doc.line(keys), f"{_dotted(keys)}: {chart.DEAD_KEYS[keys]}"
                )
            elif key not in known:
                hint = chart.SERVICE_KEY_HINTS.get(str(key)) if block == "service" else None
                yield _unknown(doc, keys, known, hint)
    ports = get_in(data, ("service", "ports"))
    if isinstance(ports, dict):
        for name, spec in ports.items():
            for key in spec if isinstance(spec, dict) else ():
                if key not in chart.SERVICE_PORT_KEYS:
                    yield _unknown(doc, ("service", "ports", name, key), chart.SERVICE_PORT_KEYS)


def _check_configmap(doc: YamlDocument) -> Iterator[Finding]:
    configmap = doc.data.get("configmap")
    if not isinstance(configmap, dict):
        return
    for key, value in configmap.items():
        keys: KeyPath = ("configmap", key)
        if isinstance(value, (dict, list)):
            yield rule("configmap-nested").at(
                doc.display,
                doc.line(keys),
                f"configmap.{key} is a {'map' if isinstance(value, dict) else 'list'}; "
                "the chart renders each value as one quoted string",
            )
        elif (diff := doc.yaml11_difference(keys)) is not None and isinstance(value, bool):
            # Unquoted y/n/yes/no/on/off: a YAML 1.1 boolean for Helm, the text for YAML 1.2 tools.
            truth = "true" if value else "false"
            yield rule("configmap-yaml11-bool").at(
                doc.display,
                diff.line,
                f'configmap.{key}: {diff.text} is read by Helm as a boolean and renders as "{truth}"',
                f'quote it: {key}: "{diff.text}"',
            )


def _check_configfiles(doc: YamlDocument) -> Iterator[Finding]:
    files = get_in(doc.data, ("configfiles", "data"))
    if not isinstance(files, dict):
        return
    for name, content in files.items():
        if not isinstance(content, str) or "{{" not in content:
            continue
        keys: KeyPath = ("configfiles", "data", name)
        index = next(i for i, text in enumerate(content.splitlines()) if "{{" in text)
        yield rule("configfiles-template").at(
            doc.display,
            doc.text_line(keys, index),
            f"configfiles.data.{name} contains '{{{{': the chart passes config files through tpl, so Helm"
            " evaluates it",
        )


# The OCI distribution spec's digest `algorithm:encoded` (sha256/sha512 registered); the tag is imageref's.
OCI_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z")
DIGEST_LENGTH = {"sha256": 64, "sha512": 128}
SHOWN_TAG = 60


def _shown_tag(tag: str) -> str:
    """The tag as a finding quotes it: one line, not longer than SHOWN_TAG characters."""
    text = repr(tag)
    return text if len(text) <= SHOWN_TAG else f"{text[:SHOWN_TAG]}... ({len(tag)} characters)"


def image_tag_problem(value: str) -> str | None:
    """Why `value` (image.tag: a tag, `tag@digest` or `@digest`) cannot be pulled; None when it can."""
    tag, at, digest = value.partition("@")
    if tag and tag_problem(tag):
        return f"image.tag {_shown_tag(tag)} is not an OCI tag"
    if at:
        algorithm, _, encoded = digest.partition(":")
        wanted = DIGEST_LENGTH.get(algorithm)
        if not OCI_DIGEST.match(digest) or (wanted and not re.fullmatch(f"[a-f0-9]{{{wanted}}}", encoded)):
            return f"image.tag {_shown_tag(value)}: the digest after '@' is not <algorithm>:<hex digits>"
    elif not tag:
        return "image.tag is empty"
    return None


def _check_scalars(doc: YamlDocument) -> Iterator[Finding]:
    data = doc.data
    replicas = data.get("replicas")
    if replicas == 0 and not isinstance(replicas, bool):
        yield rule("replicas-zero").at(doc.display, doc.line(("replicas",)), "replicas: 0 renders 3 replicas")
    api = get_in(data, ("pdb", "apiVersion"))
    if api == chart.REMOVED_PDB_API:
        yield rule("pdb-api-version").at(
            doc.display,
            doc.line(("pdb", "apiVersion")),
            f"pdb.apiVersion {api} was removed in Kubernetes 1.25",
        )
    image = data.get("image")
    if isinstance(image, dict) and "tag" in image and str(image["tag"] or "latest") == "latest":
        yield rule("image-tag-latest").at(
            doc.display, doc.line(("image", "tag")), f"image.tag is {image['tag']!r}"
        )
    tag = image.get("tag") if isinstance(image, dict) else None
    if isinstance(tag, str) and tag and (problem := image_tag_problem(tag)):
        yield rule("image-tag-invalid").at(doc.display, doc.line(("image", "tag")), problem)
    repository = image.get("repository") if isinstance(image, dict) else None
    if isinstance(repository, str) and (problem := repository_problem(repository)):
        yield rule("image-repository-invalid").at(
            doc.display,
            doc.line(("image", "repository")),
            f"image.repository {_shown_tag(repository)} is not an image repository: {problem}",
        )
    yield from _check_text_keys(doc)
    if isinstance(tag, (int, float)) and not isinstance(tag, bool):
        # `tag: 1.10` is the number 1.1 and `tag: 1e3` is 1000. k8app 3.13 cannot render it at all: its
        # appver label truncates the tag as text.
        yield rule("image-tag-number").at(
            doc.display,
            doc.line(("image", "tag")),
            f"image.tag is the number {tag!r}, not the text that was written; the chart fails to render a "
            "numeric tag (its appver label needs text)",
            'quote the tag exactly as the image was tagged, e.g. tag: "1.10"',
        )


def text_key_value(doc: YamlDocument, keys: KeyPath) -> Any:
    """The value at `keys` when the chart needs text there and Helm reads a boolean or a number instead
    (None otherwise). `image.tag` numbers are image-tag-number's, which says why the chart fails."""
    value = get_in(doc.data, keys)
    if not isinstance(value, (bool, int, float)):
        return None
    if keys == ("image", "tag") and not isinstance(value, bool):
        return None
    return value


def _check_text_keys(doc: YamlDocument) -> Iterator[Finding]:
    for keys in chart.TEXT_KEYS:
        value = text_key_value(doc, keys)
        if value is None:
            continue
        dotted = _dotted(keys)
        what = f"the boolean {str(value).lower()}" if isinstance(value, bool) else f"the number {value!r}"
        yield rule("text-key-not-text").at(
            doc.display,
            doc.line(keys),
            f"{dotted} is {what} for Helm (YAML 1.1), not the text the chart uses it as",
        )


def check_file(doc: YamlDocument) -> list[Finding]:
    """Rules that need only one values file."""
    return [
        *_check_keys(doc),
        *_check_configmap(doc),
        *_check_configfiles(doc),
        *_check_scalars(doc),
        *yaml11_rules.check_file(doc),
    ]


# --- rules on what the chart sees in one environment (default.yaml + <env>.yaml + chart defaults) ----------


def _probe_findings(files: ServiceFiles, env: str, values: dict[str, Any]) -> Iterator[Finding]:
    for probe in chart.PROBES:
        spec = values.get(probe)
        if not isinstance(spec, dict) or not spec.get("enabled"):
            continue
        mode = spec.get("mode")
        if mode not in chart.PROBE_MODES:
            file, line = files.locate(env, (probe, "mode"))
            yield rule("probe-mode-invalid").at(
                file,
                line,
                f"{probe}.mode is {mode!r}: the chart renders a probe with no handler",
                f"use one of {', '.join(chart.PROBE_MODES)}; " + _suggest(str(mode), chart.PROBE_MODES),
            )
        elif (
            mode == "tcpSocket"
            and probe == "readinessProbe"
            and get_in(spec, ("tcpSocket", "port")) in (None, "")
        ):
            file, line = files.locate(env, (probe, "mode"))
            yield rule("probe-incomplete").at(
                file,
                line,
                "readinessProbe uses tcpSocket without tcpSocket.port (the chart has no default for it)",
                "set readinessProbe.tcpSocket.port",
            )
        elif mode == "execCommand":
            command = get_in(spec, ("execCommand", "command"))
            if not (isinstance(command, list) and command):
                file, line = files.locate(env, (probe, "execCommand", "command"))
                yield rule("probe-incomplete").at(
                    file,
                    line,
                    f"{probe}.execCommand.command must be a non-empty list (found {command!r})",
                    'write it as a list, e.g. command: ["cat", "/tmp/healthy"]',
                )


def _scaling_findings(
    files: ServiceFiles, env: str, values: dict[str, Any], platform: Platform
) -> Iterator[Finding]:
    pdb, hpa = values.get("pdb") or {}, values.get("hpa") or {}
    if isinstance(pdb, dict) and pdb.get("enabled") and pdb.get("minAvailable") and pdb.get("maxUnavailable"):
        file, line = files.locate(env, ("pdb", "minAvailable"))
        from_chart = not _sets(files, env, ("pdb", "maxUnavailable"))
        yield rule("pdb-both-limits").at(
            file,
            line,
            f"pdb renders minAvailable: {pdb['minAvailable']} and maxUnavailable: {pdb['maxUnavailable']}"
            f"{' (the chart default)' if from_chart else ''}; the API server rejects a PDB with both",
            "add `maxUnavailable: null` under pdb"
            if from_chart
            else "keep only one of minAvailable and maxUnavailable",
        )
    if isinstance(hpa, dict) and hpa.get("enabled"):
        maximum, minimum = hpa.get("maxReplicas"), values.get("replicas") or 1
        if isinstance(maximum, int) and isinstance(minimum, int) and maximum < minimum:
            file, line = files.locate(env, ("hpa", "maxReplicas"))
            yield rule("hpa-range").at(
                file, line, f"hpa.maxReplicas {maximum} is below replicas {minimum} (the HPA minimum)"
            )
    if not platform.allows_scaling(env):
        for block, thing in (("hpa", "an HPA"), ("pdb", "a PDB")):
            spec = values.get(block)
            if isinstance(spec, dict) and spec.get("enabled"):
                file, line = files.locate(env, (block, "enabled"))
                yield rule("env-scaling-not-allowed").at(
                    file,
                    line,
                    f"{block}.enabled gives {files.name} {thing} in {env}, a {platform.tier(env).value}"
                    " environment",
                    f"set {block}.enabled only in the files of staging/production environments",
                )


def _disruption_findings(
    files: ServiceFiles, env: str, values: dict[str, Any], platform: Platform
) -> Iterator[Finding]:
    pdb = values.get("pdb")
    if isinstance(pdb, dict) and pdb.get("enabled"):
        file, line = files.locate(env, ("pdb", "enabled"))
        owner = (
            f"gitops-config/platform/{env} holds one that does (gitops-poc init)"
            if platform.owns_disruption_budget(env)
            else "production PDBs come from gitops-config/platform/<env>"
        )
        yield rule("chart-pdb-enabled").at(
            file,
            line,
            f"pdb.enabled renders the chart's PodDisruptionBudget in {env}: it has no selector, "
            "so it protects no pods",
            f"set pdb.enabled: false; {owner}",
        )
    if not platform.owns_disruption_budget(env):
        return
    layers = [(doc.display, doc.data) for doc in (files.default, files.envs.get(env)) if doc is not None]
    try:
        budget = budget_from_values(layers, platform.default_disruption_budget())
    except UsageError as exc:
        file, line = files.locate(env, ("pdb",))
        yield rule("pdb-budget-invalid").at(file, line, str(exc))
        return
    [(key, limit)] = budget.items()
    replicas = values.get("replicas") or 1
    blocks = (
        limit in (0, "0%")
        if key == "maxUnavailable"
        else (limit == "100%" or (isinstance(limit, int) and isinstance(replicas, int) and limit >= replicas))
    )
    if blocks:
        keys: KeyPath = ("pdb", key)
        file, line = files.locate(env, keys if has_path(values, keys) else ("pdb",))
        minimum = (
            " (the HPA minimum)"
            if isinstance(values.get("hpa"), dict) and values["hpa"].get("enabled")
            else ""
        )
        yield rule("pdb-blocks-eviction").at(
            file,
            line,
            f"pdb.{key}: {limit} with replicas {replicas}{minimum} in {env}: the PodDisruptionBudget "
            "allows no eviction, so node drains and cluster upgrades hang",
            "lower minAvailable below replicas, or use maxUnavailable: 1"
            if key == LIMITS[0]
            else "allow at least one: maxUnavailable: 1",
        )


def _sets(files: ServiceFiles, env: str, keys: KeyPath) -> bool:
    """Does a file the team wrote set `keys` in `env`?"""
    docs = [files.default, files.envs.get(env)]
    return any(doc is not None and has_path(doc.data, keys) for doc in docs)


def _service_findings(files: ServiceFiles, env: str, values: dict[str, Any]) -> Iterator[Finding]:
    service = values.get("service")
    if isinstance(service, dict) and service.get("enabled") and not service.get("ports"):
        file, line = files.locate(env, ("service", "enabled"))
        yield rule("service-no-ports").at(
            file, line, f"service.enabled renders Service {files.name}-sv with no ports"
        )


def _app_name_findings(files: ServiceFiles, env: str, platform: Platform) -> Iterator[Finding]:
    app_name = files.written(env, "appName")
    if not app_name:
        file, line = files.locate(env, ("appName",))
        yield rule("app-name-missing").at(
            file,
            line,
            "appName is not set: the Deployment, Service (app-sv) and ConfigMaps would all be named `app`",
            f"add `appName: {platform.app_name(files.name)}` to default.yaml",
        )
    elif files.name in platform.services and app_name != platform.app_name(files.name):
        file, line = files.locate(env, ("appName",))
        expected = platform.app_name(files.name)
        yield rule("app-name-mismatch").at(
            file,
            line,
            f"appName is {app_name!r}: the chart creates Service {app_name}-sv, "
            f"but other services call {platform.service_host(files.name)}",
            f"set appName: {expected}",
        )


def _secret_findings(
    files: ServiceFiles, env: str, values: dict[str, Any], platform: Platform
) -> Iterator[Finding]:
    secrets = values.get("secrets")
    provider = values.get("secretsProvider")
    if not isinstance(secrets, dict) or not isinstance(provider, dict) or provider.get("provider") != "vault":
        return
    folder = platform.vault_secret_folder(files.name, env)
    for name, path in secrets.items():
        # The chart fills in {env} from `environment`; a leading / is kept as written and means the same path.
        resolved = str(path).replace("{env}", env).lstrip("/")
        if not resolved.startswith(folder + "/"):
            file, line = files.locate(env, ("secrets", str(name)))
            yield rule("secret-path-outside-policy").at(
                file,
                line,
                f"secrets.{name} reads {resolved!r} in {env}, but the service's Vault policy only "
                f"grants {folder}/*",
                f"use {platform.vault_secret_path_template(files.name)}",
            )


def _required_findings(
    files: ServiceFiles, env: str, values: dict[str, Any], platform: Platform
) -> Iterator[Finding]:
    version = platform.config.chart_version_of(env)
    failing = k8app.failing_values(version)
    for keys, wanted in k8app.required_keys(version).items():
        value = get_in(values, keys)
        if isinstance(value, str) and value:
            if keys not in failing or failing[keys][0] not in value:
                continue
            found = f"is {value!r} ({failing[keys][1]})"
        else:
            found = "is not set" if value is None else f"is {value!r}, not text"
        file, line = files.locate(env, keys)
        yield rule("chart-required-key").at(
            file,
            line,
            f"{_dotted(keys)} {found} in {env}: chart {platform.config.chart_name} {version} "
            "fails to render without it",
            f"add `{_dotted(keys)}: {wanted}` to .cicd/default.yaml (gitops-poc init does)",
        )


def _defect_findings(
    files: ServiceFiles, env: str, values: dict[str, Any], platform: Platform
) -> Iterator[Finding]:
    """Values that hit a known render defect of the pinned chart version (k8app.RENDER_DEFECTS)."""
    version = platform.config.chart_version_of(env)
    defects = k8app.render_defects(version)
    chart_text = f"chart {platform.config.chart_name} {version}"
    hpa, rbac = values.get("hpa"), values.get("rbac")
    if k8app.HPA_BEHAVIOR in defects and isinstance(hpa, dict) and hpa.get("enabled") and hpa.get("behavior"):
        file, line = files.locate(env, ("hpa", "behavior"))
        yield rule("chart-hpa-behavior").at(
            file,
            line,
            f"hpa.behavior in {env}: {chart_text} writes it onto the `behavior:` line of the HPA (its"
            " template trims the newline), which is not YAML: every render of the service fails",
        )
    if k8app.RBAC_NO_RESOURCES in defects and isinstance(rbac, dict) and rbac.get("create"):
        resources = rbac.get("resources")
        if not (isinstance(resources, list) and resources):
            file, line = files.locate(env, ("rbac", "create"))
            yield rule("chart-rbac-no-resources").at(
                file,
                line,
                f"rbac.create in {env} with rbac.resources {resources!r}: {chart_text} renders the"
                " ClusterRole's resources at the wrong indentation, which is not YAML: every render of the"
                " service fails",
            )


def check_environment(files: ServiceFiles, env: str, platform: Platform) -> list[Finding]:
    """Rules on the merged values of one environment, located in the file that sets the value."""
    values = files.merged(env)
    return [
        *_app_name_findings(files, env, platform),
        *_required_findings(files, env, values, platform),
        *_defect_findings(files, env, values, platform),
        *_probe_findings(files, env, values),
        *shutdown_rules.check_environment(files, env, values),
        *_scaling_findings(files, env, values, platform),
        *_disruption_findings(files, env, values, platform),
        *_service_findings(files, env, values),
        *_secret_findings(files, env, values, platform),
    ]
