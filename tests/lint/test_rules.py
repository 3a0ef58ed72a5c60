"""One case per values/file rule: a minimal bad file in an otherwise clean generated platform.

Each case names the rule, the files it writes (None deletes) and where the finding must be: a file and a
marker text on the expected line (None: the finding is about a missing file and has no line).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gitops_poc.lint import RULES, Finding, Severity
from gitops_poc.platform import Platform
from gitops_poc.render.manifests import Manifest

from .helpers import line_of, lint, of_rule, write

SVC = "services/web-http/.cicd"
DEFAULT = f"{SVC}/default.yaml"

BASE_DEFAULT = """\
appName: web-http
serviceAccountName: web-http
service:
  enabled: true
  type: ClusterIP
  ports:
    http:
      externalPort: 9092
      internalPort: 9092
      protocol: TCP
"""


def env_file(env: str, extra: str = "", *, replicas: int = 1) -> str:
    return f"""\
environment: {env}
image:
  repository: registry.gitlab.com/gitops-poc/web-http
  tag: "1.0.0"
replicas: {replicas}
resources:
  requests:
    cpu: 50m
{extra}"""


PIN = '# gitops-poc:pin {"reason": "hold for the audit", "by": "jane", "at": "2026-11-30T08:00:00Z"}'


@dataclass(frozen=True)
class Case:
    rule_id: str
    files: dict[str, str | None]
    file: str
    marker: str | None  # text on the expected line; None = no line (a missing file)
    message: str = ""  # a fragment the message must contain
    hint: str = ""  # a fragment the hint must contain
    extra: dict[str, str | None] = field(default_factory=dict)


CASES = [
    Case(
        "yaml-syntax",
        {f"{SVC}/dev.yaml": "environment: dev\nimage:\n  tag: [1, 2\nreplicas: 1\n"},
        f"{SVC}/dev.yaml",
        "replicas: 1",
        "invalid YAML",
    ),
    Case(
        "values-not-mapping",
        {f"{SVC}/dev.yaml": "- environment\n- dev\n"},
        f"{SVC}/dev.yaml",
        "- environment",
        "list",
    ),
    Case("default-file-missing", {DEFAULT: None}, DEFAULT, None),
    Case("env-file-missing", {f"{SVC}/staging.yaml": None}, f"{SVC}/staging.yaml", None, "staging"),
    Case("env-file-unknown", {f"{SVC}/qa.yaml": env_file("qa")}, f"{SVC}/qa.yaml", None, "'qa'"),
    Case("service-missing", {"services/web-http": None}, "services/web-http", None, "web-http"),
    Case(
        "service-unknown",
        {"services/extra/.cicd/default.yaml": "appName: extra\n"},
        "services/extra",
        None,
        "extra",
    ),
    Case(
        "chart-unknown-key",
        {DEFAULT: BASE_DEFAULT + "imagePullSecret:\n  - name: regsecret\n"},
        DEFAULT,
        "imagePullSecret:",
        "imagePullSecret",
        "did you mean imagePullSecrets?",
    ),
    Case(
        "chart-unknown-key",
        {DEFAULT: BASE_DEFAULT + "hpa:\n  maxReplica: 4\n"},
        DEFAULT,
        "maxReplica:",
        "hpa.maxReplica",
        "did you mean maxReplicas?",
    ),
    Case(
        "chart-unknown-key",
        {DEFAULT: BASE_DEFAULT.replace("      protocol", "      proto: TCP\n      protocol")},
        DEFAULT,
        "proto: TCP",
        "service.ports.http.proto",
    ),
    Case(
        "chart-hpa-behavior",
        {
            f"{SVC}/prod.yaml": env_file(
                "prod",
                "hpa:\n  enabled: true\n  behavior:\n    scaleDown: {stabilizationWindowSeconds: 300}\n",
            )
        },
        f"{SVC}/prod.yaml",
        "behavior:",
        "chart app 3.13.0 writes it onto the `behavior:` line",
        "remove hpa.behavior",
    ),
    Case(
        "chart-rbac-no-resources",
        {DEFAULT: BASE_DEFAULT + "rbac:\n  create: true\n"},
        DEFAULT,
        "create: true",
        "rbac.create in dev with rbac.resources None",
        "v1beta1",
    ),
    Case(
        "chart-dead-key", {DEFAULT: BASE_DEFAULT + "nodeSelector:\n  disk: ssd\n"}, DEFAULT, "nodeSelector:"
    ),
    Case(
        "chart-required-key",
        {DEFAULT: BASE_DEFAULT.replace("  type: ClusterIP\n", "")},
        DEFAULT,
        "service:",
        "service.type is not set in dev: chart app 3.13.0 fails to render without it",
        "service.type: ClusterIP",
    ),
    Case(
        "chart-required-key",
        {DEFAULT: BASE_DEFAULT.replace("type: ClusterIP", "type: LoadBalancer")},
        DEFAULT,
        "type: LoadBalancer",
        "indexes the service.ports map as a list",
    ),
    Case("labels-unsupported", {DEFAULT: BASE_DEFAULT + "labels:\n  team: a\n"}, DEFAULT, "labels:"),
    Case(
        "labels-unsupported",
        {f"{SVC}/prod.yaml": env_file("prod", "annotations:\n  argocd.argoproj.io/sync-wave: '1'\n")},
        f"{SVC}/prod.yaml",
        "annotations:",
    ),
    Case(
        "hpa-ignored-key",
        {f"{SVC}/prod.yaml": env_file("prod", "hpa:\n  enabled: true\n  minReplicas: 3\n")},
        f"{SVC}/prod.yaml",
        "minReplicas",
        "hpa.minReplicas",
        "replicas",
    ),
    Case(
        "hpa-ignored-key",
        {f"{SVC}/prod.yaml": env_file("prod", "hpa:\n  targetCPUUtilizationPercentage: 60\n")},
        f"{SVC}/prod.yaml",
        "targetCPU",
        hint="hpa.cpu",
    ),
    Case(
        "app-name-missing",
        {DEFAULT: BASE_DEFAULT.replace("appName: web-http\n", "")},
        DEFAULT,
        "serviceAccountName: web-http",
        hint="appName: web-http",
    ),
    Case(
        "app-name-missing",
        {DEFAULT: BASE_DEFAULT.replace("appName: web-http", "appName: ''")},
        DEFAULT,
        "appName:",
    ),
    Case(
        "app-name-mismatch",
        {DEFAULT: BASE_DEFAULT.replace("appName: web-http", "appName: webhttp")},
        DEFAULT,
        "appName:",
        "webhttp-sv",
    ),
    Case(
        "probe-mode-invalid",
        {DEFAULT: BASE_DEFAULT + "livenessProbe:\n  enabled: true\n  mode: http\n"},
        DEFAULT,
        "mode: http",
        "'http'",
        "httpGet",
    ),
    Case(
        "probe-incomplete",
        {DEFAULT: BASE_DEFAULT + "readinessProbe:\n  enabled: true\n  mode: tcpSocket\n"},
        DEFAULT,
        "mode: tcpSocket",
        "tcpSocket.port",
    ),
    Case(
        "probe-incomplete",
        {
            DEFAULT: BASE_DEFAULT
            + "livenessProbe:\n  enabled: true\n  mode: execCommand\n  execCommand:\n    command: cat /ok\n"
        },
        DEFAULT,
        "command: cat",
        "non-empty list",
    ),
    Case(
        "shutdown-setting-invalid",
        {DEFAULT: BASE_DEFAULT + 'configmap:\n  SHUTDOWN_DRAIN: "5s"\n'},
        DEFAULT,
        "SHUTDOWN_DRAIN",
        "configmap.SHUTDOWN_DRAIN is '5s'",
        "as a number",
    ),
    Case(
        "shutdown-setting-invalid",
        {DEFAULT: BASE_DEFAULT + "args:\n  - -port=9092\n  - --shutdown-grace\n  - inf\n"},
        DEFAULT,
        "--shutdown-grace",
        "args --shutdown-grace is 'inf'",
    ),
    Case(
        "shutdown-over-termination-grace",
        {DEFAULT: BASE_DEFAULT + 'configmap:\n  SHUTDOWN_DRAIN: "20"\n  SHUTDOWN_GRACE: "9"\n'},
        DEFAULT,
        "SHUTDOWN_DRAIN",
        "drain 20 s + grace 9 s + 2 s to exit is 31 s",
        "28 s or less",
    ),
    Case(
        # The flag wins over the variable, as in the service; the default drain (5 s) counts.
        "shutdown-over-termination-grace",
        {DEFAULT: BASE_DEFAULT + 'configmap:\n  SHUTDOWN_GRACE: "1"\nargs:\n  - --shutdown-grace=24\n'},
        DEFAULT,
        "--shutdown-grace=24",
        "drain 5 s + grace 24 s",
    ),
    Case(
        "pdb-both-limits",
        {f"{SVC}/prod.yaml": env_file("prod", "pdb:\n  enabled: true\n  minAvailable: 2\n", replicas=3)},
        f"{SVC}/prod.yaml",
        "minAvailable",
        "maxUnavailable: 1 (the chart default)",
        "maxUnavailable: null",
    ),
    Case(
        "pdb-both-limits",
        {
            f"{SVC}/prod.yaml": env_file(
                "prod", "pdb:\n  enabled: true\n  minAvailable: 1\n  maxUnavailable: 1\n", replicas=3
            )
        },
        f"{SVC}/prod.yaml",
        "minAvailable",
        hint="only one",
    ),
    Case(
        "chart-pdb-enabled",
        {f"{SVC}/prod.yaml": env_file("prod", "pdb:\n  enabled: true\n  maxUnavailable: 1\n", replicas=3)},
        f"{SVC}/prod.yaml",
        "enabled: true",
        "it has no selector, so it protects no pods",
        "gitops-config/platform/prod holds one that does",
    ),
    Case(
        "chart-pdb-enabled",
        {f"{SVC}/staging.yaml": env_file("staging", "pdb:\n  enabled: true\n", replicas=2)},
        f"{SVC}/staging.yaml",
        "enabled: true",
        "in staging",
        "production PDBs come from gitops-config/platform/<env>",
    ),
    Case(
        "pdb-blocks-eviction",
        {f"{SVC}/prod.yaml": env_file("prod", "pdb:\n  enabled: false\n  minAvailable: 2\n", replicas=2)},
        f"{SVC}/prod.yaml",
        "minAvailable: 2",
        "pdb.minAvailable: 2 with replicas 2 in prod",
        "lower minAvailable",
    ),
    Case(
        "pdb-blocks-eviction",
        {f"{SVC}/prod.yaml": env_file("prod", "pdb:\n  enabled: false\n  maxUnavailable: 0\n", replicas=3)},
        f"{SVC}/prod.yaml",
        "maxUnavailable: 0",
        "allows no eviction",
        "maxUnavailable: 1",
    ),
    Case(
        "pdb-budget-invalid",
        {
            f"{SVC}/prod.yaml": env_file(
                "prod", "pdb:\n  enabled: false\n  minAvailable: 2\n  maxUnavailable: 1\n", replicas=3
            )
        },
        f"{SVC}/prod.yaml",
        "pdb:",
        "takes one of minAvailable and maxUnavailable",
    ),
    Case(
        "pdb-budget-invalid",
        {f"{SVC}/prod.yaml": env_file("prod", "pdb:\n  enabled: false\n  minAvailable: most\n", replicas=3)},
        f"{SVC}/prod.yaml",
        "pdb:",
        "pdb.minAvailable is 'most'",
    ),
    Case(
        "platform-service-account-missing",
        {DEFAULT: BASE_DEFAULT.replace("serviceAccountName: web-http", "serviceAccountName: shared")},
        DEFAULT,
        "serviceAccountName: shared",
        "serviceAccountName shared in dev: gitops-config/platform/dev/ creates no such ServiceAccount",
    ),
    Case(
        "platform-service-account-missing",
        {DEFAULT: BASE_DEFAULT.replace("serviceAccountName: web-http\n", "")},
        DEFAULT,
        "appName: web-http",
        "runs as the namespace's default ServiceAccount",
        "serviceAccountName: web-http",
    ),
    Case(
        "platform-vault-auth-missing",
        {
            DEFAULT: BASE_DEFAULT
            + "secretsProvider:\n  provider: vault\n  vault:\n    authRef: nobody\n"
            + "secrets:\n  KEY: gitops-poc/web-http/{env}/config\n"
        },
        DEFAULT,
        "authRef: nobody",
        "gitops-config/platform/dev/ has no such VaultAuth",
    ),
    Case(
        "platform-vault-auth-missing",
        {
            DEFAULT: BASE_DEFAULT
            + "secretsProvider:\n  provider: vault\n  vault:\n    authRef: web-grpc-vault-auth\n"
            + "secrets:\n  KEY: gitops-poc/web-http/{env}/config\n"
        },
        DEFAULT,
        "authRef: web-grpc-vault-auth",
        "logs in as web-grpc, but the service runs as web-http",
    ),
    Case(
        "platform-object-invalid",
        {
            "gitops-config/platform/prod/extra.yaml": "# by hand\n---\napiVersion: v1\nkind: ServiceAccount\n"
            "metadata:\n  name: Bad_Name\n  namespace: poc-prod\n"
        },
        "gitops-config/platform/prod/extra.yaml",
        "apiVersion: v1",
        "ServiceAccount/Bad_Name: metadata.name 'Bad_Name' is not a valid",
    ),
    Case(
        "pdb-api-version",
        {
            f"{SVC}/prod.yaml": env_file(
                "prod",
                "pdb:\n  enabled: true\n  apiVersion: policy/v1beta1\n  minAvailable: 1\n"
                "  maxUnavailable: null\n",
            )
        },
        f"{SVC}/prod.yaml",
        "apiVersion",
        "1.25",
    ),
    Case(
        "hpa-range",
        {f"{SVC}/prod.yaml": env_file("prod", "hpa:\n  enabled: true\n  maxReplicas: 2\n", replicas=3)},
        f"{SVC}/prod.yaml",
        "maxReplicas",
        "below replicas 3",
    ),
    Case(
        "replicas-zero",
        {f"{SVC}/staging.yaml": env_file("staging", replicas=0)},
        f"{SVC}/staging.yaml",
        "replicas: 0",
    ),
    Case(
        "service-no-ports",
        {DEFAULT: "appName: web-http\nservice:\n  enabled: true\n"},
        DEFAULT,
        "enabled: true",
        "web-http-sv",
    ),
    Case(
        "configmap-nested",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  LIMITS:\n    cpu: 1\n"},
        DEFAULT,
        "LIMITS:",
        "map",
    ),
    Case(
        "configmap-yaml11-bool",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  A: 'on'\n  FEATURE_X: on\n"},
        DEFAULT,
        "FEATURE_X",
        '"true"',
        'FEATURE_X: "on"',
    ),
    Case(
        "yaml11-value",
        {DEFAULT: BASE_DEFAULT.replace("  enabled: true\n", "  enabled: yes\n")},
        DEFAULT,
        "enabled: yes",
        "service.enabled: yes is true for Helm (YAML 1.1)",
        "write true",
    ),
    Case(
        "secret-path-outside-policy",
        {
            DEFAULT: BASE_DEFAULT
            + "secretsProvider:\n  provider: vault\nsecrets:\n  OK: gitops-poc/web-http/{env}/config\n"
            "  STOLEN: gitops-poc/auth-adapter/{env}/config\n"
        },
        DEFAULT,
        "STOLEN:",
        "gitops-poc/auth-adapter/dev/config",
        "gitops-poc/web-http/{env}/config",
    ),
    Case(
        "configfiles-template",
        {
            DEFAULT: BASE_DEFAULT + "configfiles:\n  mountPath: /etc/app\n  data:\n    app.conf: |\n"
            "      a: 1\n      b: {{ .Values.x }}\n"
        },
        DEFAULT,
        "b: {{",
        "tpl",
    ),
    Case(
        "image-tag-invalid",
        {f"{SVC}/dev.yaml": env_file("dev").replace('"1.0.0"', '"latest; rm -rf /"')},
        f"{SVC}/dev.yaml",
        'tag: "latest; rm -rf /"',
        "'latest; rm -rf /' is not an OCI tag",
    ),
    Case(
        "text-key-not-text",
        {f"{SVC}/dev.yaml": env_file("dev").replace('"1.0.0"', "yes")},
        f"{SVC}/dev.yaml",
        "tag: yes",
        "image.tag is the boolean true",
    ),
    Case(
        "text-key-not-text",
        {f"{SVC}/dev.yaml": env_file("dev", "version: 1.10\n")},
        f"{SVC}/dev.yaml",
        "version: 1.10",
        "version is the number 1.1",
    ),
    Case(
        "image-repository-invalid",
        {f"{SVC}/dev.yaml": env_file("dev").replace("registry.gitlab.com/gitops-poc", "Gitops-Poc")},
        f"{SVC}/dev.yaml",
        "repository: Gitops-Poc/web-http",
        "'Gitops-Poc' is not a path part",
    ),
    Case(
        "image-repository-invalid",
        {f"{SVC}/dev.yaml": env_file("dev").replace("registry.gitlab.com", "registry.gitlab.com:99999")},
        f"{SVC}/dev.yaml",
        "repository: registry.gitlab.com:99999/",
        "port '99999' is not a port from 1 to 65535",
    ),
    Case(
        "image-tag-number",
        {f"{SVC}/dev.yaml": env_file("dev").replace('"1.0.0"', "1.10")},
        f"{SVC}/dev.yaml",
        "tag: 1.10",
        "number 1.1",
    ),
    Case(
        "image-tag-latest",
        {f"{SVC}/dev.yaml": env_file("dev").replace('"1.0.0"', "latest")},
        f"{SVC}/dev.yaml",
        "tag: latest",
    ),
    Case(
        "env-missing-key",
        {f"{SVC}/dev.yaml": env_file("dev").replace("replicas: 1\n", "")},
        f"{SVC}/dev.yaml",
        "environment:",
        "replicas",
    ),
    Case(
        "env-missing-key",
        {f"{SVC}/dev.yaml": env_file("dev").replace('  tag: "1.0.0"\n', "")},
        f"{SVC}/dev.yaml",
        "image:",
        "image.tag",
    ),
    Case(
        "env-mismatch",
        {f"{SVC}/staging.yaml": env_file("prod")},
        f"{SVC}/staging.yaml",
        "environment: prod",
        "'prod' in the file of environment 'staging'",
        "environment: staging",
    ),
    Case(
        "env-repeats-default",
        {
            DEFAULT: BASE_DEFAULT + "livenessProbe:\n  enabled: true\n",
            f"{SVC}/dev.yaml": env_file("dev", "livenessProbe:\n  enabled: true\n"),
        },
        f"{SVC}/dev.yaml",
        "  enabled: true",
        "livenessProbe.enabled",
    ),
    Case(
        "env-scaling-not-allowed",
        {f"{SVC}/dev.yaml": env_file("dev", "hpa:\n  enabled: true\n")},
        f"{SVC}/dev.yaml",
        "  enabled: true",
        "development",
    ),
    Case(
        "env-scaling-not-allowed",
        {DEFAULT: BASE_DEFAULT + "pdb:\n  enabled: True\n  maxUnavailable: 1\n"},
        DEFAULT,
        "enabled: True",
        "a PDB in dev",
    ),
    Case(
        "env-service-reference",
        {f"{SVC}/dev.yaml": env_file("dev", "configmap:\n  UPSTREAM_URIS: http://web-grpc-sv:9091\n")},
        f"{SVC}/dev.yaml",
        "UPSTREAM_URIS",
        "web-grpc",
        "default.yaml",
    ),
    Case(
        "env-image-repository",
        {f"{SVC}/dev.yaml": env_file("dev").replace("gitops-poc/", "gitops-poc-dzha/")},
        f"{SVC}/dev.yaml",
        "repository:",
        "gitops-poc-dzha",
    ),
    Case(
        "namespace-dependent",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  AUTH: auth-adapter-sv.poc-dev.svc.cluster.local:9000\n"},
        DEFAULT,
        "AUTH:",
        "'poc-dev'",
    ),
    Case(
        "namespace-dependent",
        {f"{SVC}/prod.yaml": env_file("prod", "configmap:\n  NAMESPACE: poc-prod\n")},
        f"{SVC}/prod.yaml",
        "NAMESPACE:",
    ),
    Case(
        "env-fqdn",
        {
            f"{SVC}/prod.yaml": env_file(
                "prod", "configmap:\n  OTEL: http://otel.observability.svc.cluster.local:4317\n"
            )
        },
        f"{SVC}/prod.yaml",
        "OTEL:",
        "prod file",
    ),
    Case(
        "env-pinned",
        {f"{SVC}/staging.yaml": PIN + "\n" + env_file("staging")},
        f"{SVC}/staging.yaml",
        "gitops-poc:pin",
        "pinned by jane",
        "ci unpin --env staging",
    ),
    Case(
        "pin-expired",
        {f"{SVC}/prod.yaml": PIN.replace('"}', '", "until": "2025-01-02"}') + "\n" + env_file("prod")},
        f"{SVC}/prod.yaml",
        "gitops-poc:pin",
        "has expired",
    ),
    Case(
        "pin-unreadable",
        {f"{SVC}/dev.yaml": env_file("dev") + "# gitops-poc:pin {not json\n"},
        f"{SVC}/dev.yaml",
        "gitops-poc:pin",
        "cannot be read",
        "ci unpin --env dev",
    ),
    Case(
        "push-agent-mismatch",
        {
            "gitops-config/ci/service.gitlab-ci.yml": "variables:\n"
            "  KUBE_CONTEXT: gitops-poc/gitops-config:minikube-agent\n"
            "deploy:prod:\n  variables:\n    KUBE_CONTEXT: gitops-poc/gitops-config:prod-eu\n"
        },
        "gitops-config/ci/service.gitlab-ci.yml",
        "deploy:prod:",
        "job deploy:prod deploys through kube context 'gitops-poc/gitops-config:prod-eu'; "
        "ENVIRONMENT_CLUSTERS says 'gitops-poc/gitops-config:minikube-agent'",
        "gitops-poc init",
    ),
    Case(
        "push-pull-conflict",
        {"gitops-config/ci/service.gitlab-ci.yml": "variables:\n  GITOPS_MODE: push\nstages: [build]\n"},
        "gitops-config/ci/service.gitlab-ci.yml",
        "GITOPS_MODE:",
        "ArgoCD syncs dev, staging automatically",
        "AUTO_SYNC_ENVIRONMENTS",
    ),
    Case(
        "push-pull-conflict",
        {"services/web-grpc/.gitlab-ci.yml": "include: []\nvariables:\n  GITOPS_MODE: push\n"},
        "services/web-grpc/.gitlab-ci.yml",
        "GITOPS_MODE:",
        "GITOPS_MODE is push for web-grpc",
    ),
    Case(
        "default-fqdn",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  VAULT_ADDR: http://vault.vault.svc.cluster.local:8200\n"},
        DEFAULT,
        "VAULT_ADDR",
    ),
    Case(
        "reference-missing-sv",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  AUTH_ADAPTER_HOST: auth-adapter\n"},
        DEFAULT,
        "AUTH_ADAPTER_HOST",
        "auth-adapter-sv",
        "use auth-adapter-sv",
    ),
    Case(
        "reference-missing-sv",
        {
            DEFAULT: BASE_DEFAULT + "configfiles:\n  mountPath: /etc/app\n  data:\n    up.yaml: |\n"
            "      name: web-grpc\n      addr: web-grpc:9091\n"
        },
        DEFAULT,
        "addr: web-grpc:9091",
        hint="use web-grpc-sv:9091",
    ),
    Case(
        "reference-unknown-service",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  UP: web-grcp-sv:9091\n"},
        DEFAULT,
        "UP:",
        "web-grcp-sv",
        "did you mean web-grpc-sv?",
    ),
    Case(
        "reference-wrong-port",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  UP: grpc://web-grpc-sv:9000\n"},
        DEFAULT,
        "UP:",
        "exposes port(s) 9091, not 9000",
        "web-grpc-sv:9091",
    ),
    Case(
        "reference-wrong-port",
        {DEFAULT: BASE_DEFAULT + "configmap:\n  UP: http://api-gateway-sv/api/\n"},
        DEFAULT,
        "UP:",
        "not 80",
    ),
    Case(
        "reference-no-service",
        {
            DEFAULT: BASE_DEFAULT + "configmap:\n  UP: health-demo-sv:8081\n",
            "services/health-demo/.cicd/default.yaml": "appName: health-demo\nservice:\n  enabled: false\n",
        },
        DEFAULT,
        "UP:",
        "service.enabled false",
    ),
]


@pytest.fixture
def root(generated_root: Path) -> Path:
    """The generated platform with web-http reduced to minimal clean files."""
    write(generated_root, DEFAULT, BASE_DEFAULT)
    for env in ("dev", "staging", "prod"):
        write(generated_root, f"{SVC}/{env}.yaml", env_file(env))
    return generated_root


def test_the_minimal_files_are_clean(root: Path, default_platform: Platform) -> None:
    assert lint(default_platform, root) == []


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule_id}-{i}" for i, c in enumerate(CASES)])
def test_rule(case: Case, root: Path, default_platform: Platform) -> None:
    for relative, text in case.files.items():
        write(root, relative, text)
    findings = of_rule(lint(default_platform, root), case.rule_id)
    expected_line = None if case.marker is None else line_of(case.files.get(case.file) or "", case.marker)
    at = [f for f in findings if f.file == case.file and f.line == expected_line]
    assert at, (
        f"expected {case.rule_id} at {case.file}:{expected_line}, got {[(f.file, f.line) for f in findings]}"
    )
    finding = at[0]
    assert case.message in finding.message
    assert case.hint in finding.hint
    assert finding.severity is RULES[case.rule_id].severity
    assert finding.hint, "every finding carries a fix"


def test_every_values_rule_has_a_case() -> None:
    from .test_argocd_rules import ARGOCD_RULES

    # The CRD rules need the pinned charts served: tests/cli/test_lint.py covers them end to end.
    crd_rules = {"crd-invalid", "crd-schema-unavailable"}
    # tests/release/test_generated_windows.py::test_lint_window_rules covers release.yaml's rules.
    window_rules = {
        "window-schedule",
        "window-duration",
        "window-time-zone",
        "window-never-opens",
        "window-invalid",
        "gates-production-none",
    }
    covered = {c.rule_id for c in CASES} | ARGOCD_RULES | crd_rules | window_rules
    assert covered == set(RULES)


def test_errors_and_warnings_are_the_documented_severities(root: Path, default_platform: Platform) -> None:
    write(root, DEFAULT, BASE_DEFAULT + "nodeSelector: {}\nlabels: {}\n")
    findings = lint(default_platform, root)
    assert {(f.rule_id, f.severity) for f in findings} == {
        ("chart-dead-key", Severity.WARNING),
        ("labels-unsupported", Severity.ERROR),
    }


def test_every_rule_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "lint.md").read_text()
    assert [r for r in RULES if f"| `{r}` |" not in docs] == []


def test_required_keys_follow_the_pinned_chart_version(root: Path) -> None:
    from gitops_poc.config import load_config

    write(root, DEFAULT, BASE_DEFAULT.replace("  type: ClusterIP\n", ""))
    pinned = of_rule(lint(Platform(load_config(None, {})), root), "chart-required-key")
    assert {f.message.split(":")[0] for f in pinned} == {
        f"service.type is not set in {env}" for env in ("dev", "staging", "prod")
    }
    # 3.12.1 has no NOTES.txt reading service.type: nothing is required.
    older = Platform(load_config(None, {"CHART_VERSION": "3.12.1"}))
    assert of_rule(lint(older, root), "chart-required-key") == []
    # Each environment against its own chart version: only staging stays on 3.13.0.
    staged = Platform(load_config(None, {"CHART_VERSION": "3.12.1", "CHART_VERSIONS": "staging=3.13.0"}))
    assert [f.message.split(":")[0] for f in of_rule(lint(staged, root), "chart-required-key")] == [
        "service.type is not set in staging"
    ]


def test_render_defects_fire_only_for_the_chart_versions_that_have_them(root: Path) -> None:
    from gitops_poc.config import load_config

    write(root, DEFAULT, BASE_DEFAULT + "rbac:\n  create: true\n  resources: []\n")
    behavior = "hpa:\n  enabled: true\n  behavior:\n    scaleUp: {stabilizationWindowSeconds: 0}\n"
    write(root, f"{SVC}/prod.yaml", env_file("prod", behavior))
    rules = ("chart-hpa-behavior", "chart-rbac-no-resources")
    for version in ("3.12.1", "3.13.0"):  # both published versions render these values as invalid YAML
        pinned = Platform(load_config(None, {"CHART_VERSION": version}))
        found = [(f.rule_id, f.file) for f in lint(pinned, root) if f.rule_id in rules]
        assert sorted(found) == [
            ("chart-hpa-behavior", f"{SVC}/prod.yaml"),
            *[("chart-rbac-no-resources", DEFAULT)] * 3,  # once per environment, at the one line
        ], version
    # A version without the known defect (a later release) gets neither.
    later = Platform(load_config(None, {"CHART_VERSION": "3.14.0"}))
    assert [f for f in lint(later, root) if f.rule_id in rules] == []
    # The HPA off, or resources listed: nothing to flag.
    write(root, DEFAULT, BASE_DEFAULT + "rbac:\n  create: true\n  resources: [pods]\n")
    write(root, f"{SVC}/prod.yaml", env_file("prod", behavior.replace("enabled: true", "enabled: false")))
    pinned = Platform(load_config(None, {}))
    assert [f for f in lint(pinned, root) if f.rule_id in rules] == []


def test_two_cluster_files_lint_clean_and_their_agents_follow_environment_clusters(tmp_path: Path) -> None:
    from gitops_poc.changes import apply_changes
    from gitops_poc.config import load_config
    from gitops_poc.generate import plan_init

    two = Platform(load_config(None, {"ENVIRONMENT_CLUSTERS": "prod=prod-eu"}))
    apply_changes(tmp_path, plan_init(two, tmp_path))
    assert of_rule(lint(two, tmp_path), "push-agent-mismatch") == []
    # The same files against a configuration that keeps prod in ArgoCD's cluster: prod's job is wrong.
    one = Platform(load_config(None, {}))
    (finding,) = of_rule(lint(one, tmp_path), "push-agent-mismatch")
    assert "deploy:prod" in finding.message and "gitops-config:prod-eu" in finding.message
    assert finding.file == "gitops-config/ci/service.gitlab-ci.yml" and finding.line is not None


def test_a_shutdown_budget_that_fits_is_clean(root: Path, default_platform: Platform) -> None:
    write(root, DEFAULT, BASE_DEFAULT + 'configmap:\n  SHUTDOWN_DRAIN: "20"\n  SHUTDOWN_GRACE: "8"\n')
    assert lint(default_platform, root) == []


def test_the_shutdown_defaults_are_the_service_runtimes() -> None:
    from service_runtime import flags

    from gitops_poc.lint import shutdown_rules

    assert shutdown_rules.DEFAULTS == {
        "SHUTDOWN_DRAIN": flags.DEFAULT_DRAIN_SECONDS,
        "SHUTDOWN_GRACE": flags.DEFAULT_GRACE_SECONDS,
    }


BAD_ACCOUNT = (
    "# by hand\n---\napiVersion: v1\nkind: ServiceAccount\n"
    "metadata:\n  name: Bad_Name\n  namespace: poc-prod\n"
)
EXTRA = "gitops-config/platform/prod/extra.yaml"


def _objects(findings: list[Finding]) -> list[tuple[str, int | None, str]]:
    return [(f.file, f.line, f.message) for f in of_rule(findings, "platform-object-invalid")]


def test_platform_files_are_judged_by_their_content_not_their_path(
    root: Path, default_platform: Platform, tmp_path: Path
) -> None:
    # Files are remembered by content across lints (a review lints both sides): a file edited in place, or
    # another tree holding it, is judged on what it holds now.
    write(root, EXTRA, BAD_ACCOUNT)
    first = _objects(lint(default_platform, root))
    assert [(file, line) for file, line, _ in first] == [(EXTRA, 3)]
    assert "Bad_Name" in first[0][2]
    write(root, EXTRA, BAD_ACCOUNT.replace("Bad_Name", "good-name"))
    assert _objects(lint(default_platform, root)) == []
    write(root, EXTRA, "# two lines\n# of comments\n---\n" + BAD_ACCOUNT.replace("Bad_Name", "Other_Bad"))
    moved = _objects(lint(default_platform, root))
    assert [(file, line) for file, line, _ in moved] == [(EXTRA, 6)]
    assert "Other_Bad" in moved[0][2]
    other = tmp_path / "other"
    shutil.copytree(root, other)
    assert _objects(lint(default_platform, other)) == moved


def test_an_object_in_two_platform_files_is_a_duplicate(root: Path, default_platform: Platform) -> None:
    account = BAD_ACCOUNT.replace("Bad_Name", "twice")
    write(root, EXTRA, account)
    write(root, EXTRA.replace("extra", "extra-copy"), account)
    messages = [message for _, _, message in _objects(lint(default_platform, root))]
    assert any("ServiceAccount/twice" in m and "rendered 2 times" in m for m in messages), messages


def test_a_second_lint_of_the_same_platform_files_validates_nothing_again(
    root: Path, default_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gitops_poc.lint.platform_rules as platform_rules

    calls: list[str] = []
    validate = platform_rules.object_findings

    def counted(manifest: Manifest, *args: Any) -> Any:
        calls.append(manifest.key)
        return validate(manifest, *args)

    monkeypatch.setattr(platform_rules, "object_findings", counted)
    write(root, EXTRA, BAD_ACCOUNT.replace("Bad_Name", "only-here"))
    first = lint(default_platform, root)
    assert "ServiceAccount/only-here" in calls
    calls.clear()
    assert lint(default_platform, root) == first
    assert calls == []
