"""Every rule `lint` knows: id, default severity, what it means and how to fix it (docs/lint.md lists
them)."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_poc.lint.findings import Finding, Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    fix: str

    def at(
        self,
        file: str,
        line: int | None,
        message: str,
        hint: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        return Finding(
            self.id, severity or self.severity, file, line, message, self.fix if hint is None else hint
        )


_RULES = [
    # --- files -----------------------------------------------------------------------------------------
    Rule("yaml-syntax", E, "the file is not valid YAML", "fix the YAML at the line shown"),
    Rule(
        "values-not-mapping",
        E,
        "a values file must hold a mapping of Helm values",
        "put key: value pairs at the top level",
    ),
    Rule(
        "default-file-missing",
        E,
        "the service has no .cicd/default.yaml",
        "create .cicd/default.yaml (gitops-poc init does)",
    ),
    Rule(
        "env-file-missing",
        E,
        "a configured environment has no .cicd/<env>.yaml (ArgoCD fails to render)",
        "create the file (gitops-poc init does) or remove the environment from ENVIRONMENTS",
    ),
    Rule(
        "env-file-unknown",
        W,
        "a .cicd/<name>.yaml whose environment is not in ENVIRONMENTS is never used",
        "delete it, or add the environment to ENVIRONMENTS",
    ),
    Rule("service-missing", E, "a service in SERVICES has no folder under services/", "run gitops-poc init"),
    Rule(
        "service-unknown",
        W,
        "a folder under services/ is not in SERVICES, so nothing deploys it",
        "add it to SERVICES (gitops-poc new-service) or delete the folder",
    ),
    # --- chart contract (k8app app 3.13) -------------------------------------------------------------------
    Rule(
        "chart-unknown-key",
        E,
        "a key the chart does not know is silently ignored",
        "remove it or use the key the chart reads",
    ),
    Rule(
        "chart-dead-key",
        W,
        "a key the chart knows but never renders (nodeSelector)",
        "remove it: it has no effect",
    ),
    Rule(
        "chart-required-key",
        E,
        "a key the pinned chart version fails to render without (3.13.0: service.type)",
        "add it to .cicd/default.yaml (gitops-poc init does)",
    ),
    Rule(
        "chart-hpa-behavior",
        E,
        "hpa.behavior with the HPA on: the pinned chart version (3.12.1, 3.13.0) renders it as invalid YAML",
        "remove hpa.behavior (Kubernetes' default scaling behaviour applies) or pin a chart without the"
        " defect",
    ),
    Rule(
        "chart-rbac-no-resources",
        E,
        "rbac.create without rbac.resources: the pinned chart version (3.12.1, 3.13.0) renders invalid YAML",
        "remove rbac.create and run as the ServiceAccount gitops-poc init creates (with rbac.resources the"
        " chart renders a ClusterRole in rbac.authorization.k8s.io/v1beta1, not served since Kubernetes"
        " 1.22)",
    ),
    Rule(
        "labels-unsupported",
        E,
        "top-level labels/annotations are silently ignored by the chart (sync waves too)",
        "remove it: the chart renders only its own labels and annotations, with no way to add others",
    ),
    Rule(
        "hpa-ignored-key",
        E,
        "hpa.minReplicas / hpa.targetCPUUtilizationPercentage are ignored by the chart",
        "set replicas (the HPA minimum) and hpa.cpu",
    ),
    Rule(
        "app-name-missing",
        E,
        "appName is not set: every object would be named `app`",
        "set appName in .cicd/default.yaml",
    ),
    Rule(
        "app-name-mismatch",
        E,
        "appName differs from the service name, so its Service is not <service>-sv",
        "set appName to the service name (gitops-poc init does)",
    ),
    Rule(
        "probe-mode-invalid",
        E,
        "an enabled probe's mode is not httpGet, tcpSocket, execCommand or grpc (API server rejects it)",
        "set mode to httpGet, tcpSocket, execCommand or grpc",
    ),
    Rule("probe-incomplete", E, "an enabled probe lacks what its mode needs", "add the missing field"),
    Rule(
        "shutdown-setting-invalid",
        E,
        "SHUTDOWN_DRAIN / SHUTDOWN_GRACE (configmap) or --shutdown-drain / --shutdown-grace (args) is not a"
        " number of seconds >= 0: the service exits 2 at start",
        'write the seconds as a number, e.g. SHUTDOWN_DRAIN: "5"',
    ),
    Rule(
        "shutdown-over-termination-grace",
        E,
        "drain + grace + 2 s to exit exceed the pod's terminationGracePeriodSeconds (30 s, Kubernetes'"
        " default: the chart renders none), so the kubelet kills the container with calls in flight",
        "keep SHUTDOWN_DRAIN + SHUTDOWN_GRACE at 28 s or less (the defaults are 5 + 5)",
    ),
    Rule(
        "pdb-both-limits",
        E,
        "the PDB renders minAvailable and maxUnavailable together (chart default maxUnavailable: 1); the API"
        " server rejects it",
        "add `maxUnavailable: null` under pdb, or drop minAvailable",
    ),
    Rule(
        "chart-pdb-enabled",
        E,
        "pdb.enabled renders the chart's PodDisruptionBudget, which has no selector and so protects no pods",
        "set pdb.enabled: false; production PDBs come from gitops-config/platform/<env> (gitops-poc init)",
    ),
    Rule(
        "pdb-blocks-eviction",
        E,
        "a production disruption budget that allows no eviction (minAvailable >= replicas, maxUnavailable:"
        " 0)",
        "leave at least one pod evictable, e.g. maxUnavailable: 1",
    ),
    Rule(
        "pdb-budget-invalid",
        E,
        "the production PDB budget in the values is not one limit (a number or a percentage)",
        "set one of pdb.minAvailable / pdb.maxUnavailable (the other null), e.g. minAvailable: 2",
    ),
    Rule(
        "crd-invalid",
        E,
        "a custom resource in gitops-config/ (Application, ApplicationSet, AppProject, VaultAuth, ...) that"
        " its CRD in the pinned Argo CD or Vault Secrets Operator chart rejects: unknown field, wrong type,"
        " value not allowed, required field missing, API version not served",
        "fix the field named (generated files: gitops-poc init)",
    ),
    Rule(
        "crd-schema-unavailable",
        W,
        "the CRDs of a pinned chart could not be had (no helm, chart repository unreachable): its custom"
        " resources are not checked",
        "install helm (make tools) and make ARGO_HELM_REPO / HASHICORP_HELM_REPO reachable once (cached)",
    ),
    Rule(
        "platform-object-invalid",
        E,
        "an object in gitops-config/platform/<env>/ that KUBERNETES_VERSION's API server would reject",
        "regenerate it with gitops-poc init, or fix the field named",
    ),
    Rule(
        "platform-service-account-missing",
        E,
        "the ServiceAccount a service runs as is not created by gitops-config/platform/<env>/ (or none is"
        " set)",
        "set serviceAccountName to the service's own account and run gitops-poc init",
    ),
    Rule(
        "platform-vault-auth-missing",
        E,
        "the VaultAuth the service's secrets name is not in gitops-config/platform/<env>/, or logs in as"
        " another ServiceAccount",
        "keep secretsProvider.vault.authRef and serviceAccountName as gitops-poc init writes them",
    ),
    Rule(
        "pdb-api-version",
        E,
        "policy/v1beta1 PodDisruptionBudgets do not exist on Kubernetes >= 1.25",
        "set pdb.apiVersion: policy/v1",
    ),
    Rule(
        "hpa-range",
        E,
        "hpa.maxReplicas is below replicas (the HPA minimum); the API server rejects it",
        "raise hpa.maxReplicas or lower replicas",
    ),
    Rule(
        "replicas-zero",
        W,
        "replicas: 0 renders 3 (the chart uses `| default 3`)",
        "set the number you want (at least 1)",
    ),
    Rule(
        "service-no-ports",
        E,
        "service.enabled without service.ports renders a Service with no ports (invalid)",
        "add service.ports.<name>.{externalPort,internalPort,protocol} or set service.enabled: false",
    ),
    Rule(
        "configmap-nested",
        E,
        "configmap values must be scalars: the chart quotes each value into an env var",
        "flatten it, or move structured data to configfiles",
    ),
    Rule(
        "configmap-yaml11-bool",
        W,
        'an unquoted y/n/yes/no/on/off is a boolean for Helm and renders as "true"/"false"',
        "quote the value",
    ),
    Rule(
        "yaml11-value",
        W,
        "an unquoted value Helm (YAML 1.1) reads differently from YAML 1.2 tools: off is false, 0755 is 493",
        "write true/false or the number meant, or quote the text",
    ),
    Rule(
        "secret-path-outside-policy",
        E,
        "a secrets path lies outside the service's own Vault folder, which is all its policy may read (VSO"
        " gets 403)",
        "use <VAULT_PATH_PREFIX>/<service>/{env}/<name> (gitops-poc init keeps the prefix in line)",
    ),
    Rule(
        "image-tag-number",
        E,
        "an unquoted image.tag that YAML reads as a number (1.10 becomes 1.1; the chart fails to render it)",
        'quote the tag: tag: "1.10"',
    ),
    Rule(
        "image-tag-invalid",
        E,
        "image.tag is not an OCI tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or"
        " '-'), optionally followed by @<algorithm>:<hex digest>",
        'write the tag CI pushed, e.g. tag: "1.4.2" or tag: "1.4.2@sha256:<64 hex digits>"',
    ),
    Rule(
        "image-repository-invalid",
        E,
        "image.repository is not an image repository by the distribution reference grammar "
        "([registry[:port]/]path; path parts lowercase; a port from 1 to 65535)",
        "write the repository CI pushes to, e.g. repository: registry.gitlab.com/<group>/<service>",
    ),
    Rule(
        "text-key-not-text",
        E,
        "a key the chart uses as text (image.tag, image.repository, appName, environment, version, ...) holds"
        " what Helm (YAML 1.1) reads as a boolean or a number: tag: yes is true, version: 1.10 is 1.1",
        'quote the value as it is meant: tag: "yes", version: "1.10"',
    ),
    Rule(
        "configfiles-template",
        W,
        "configfiles contents go through Helm's tpl, so {{ ... }} is evaluated",
        'escape it as {{ "{{" }} or avoid {{ in config files',
    ),
    Rule(
        "image-tag-latest",
        W,
        "image tag `latest` (or none) deploys whatever was pushed last and is not rolled by a change",
        "use an immutable tag (CI writes it)",
    ),
    # --- environment files ---------------------------------------------------------------------------------
    Rule(
        "env-missing-key",
        E,
        "an environment file must set environment, image.repository, image.tag, replicas and resources",
        "add the key to the environment file",
    ),
    Rule(
        "env-mismatch",
        E,
        "`environment` differs from the environment the file is named after",
        "set environment to the file's environment (gitops-poc init does)",
    ),
    Rule(
        "env-repeats-default",
        W,
        "an environment file repeats a value of default.yaml (configmap overrides aside)",
        "delete it from the environment file",
    ),
    Rule(
        "env-scaling-not-allowed",
        E,
        "HPA/PDB are enabled in an environment of the development tier",
        "enable hpa/pdb only in staging and production environment files",
    ),
    Rule(
        "env-service-reference",
        E,
        "an environment file names another service; references belong in default.yaml",
        "move the value to default.yaml",
    ),
    Rule(
        "env-image-repository",
        W,
        "image.repository differs from the one derived from .env (<registry>/<group>/<service>)",
        "run gitops-poc init",
    ),
    Rule(
        "env-pinned",
        W,
        "the environment is pinned: `ci bump` and `ci promote` leave its values file alone",
        "run `gitops-poc ci unpin --env <env>` once the reason is resolved",
    ),
    Rule(
        "pin-expired",
        W,
        "the environment's pin has expired and is ignored; the marker is still in the file",
        "run `gitops-poc ci unpin --env <env>`, or pin again with a new --until",
    ),
    Rule(
        "pin-unreadable",
        E,
        "a pin marker line cannot be read, so `ci bump` and `ci promote` refuse the file",
        "run `gitops-poc ci unpin --env <env>` (and pin again if still needed)",
    ),
    Rule(
        "push-agent-mismatch",
        E,
        "a push-mode deploy job goes through another cluster's GitLab agent than ENVIRONMENT_CLUSTERS says",
        "run gitops-poc init",
    ),
    Rule(
        "window-schedule",
        E,
        "a freeze window's schedule is not a cron expression Argo CD accepts (its syncs then fail)",
        'five fields: minute hour day-of-month month day-of-week (0-6), e.g. "0 18 * * 5"',
    ),
    Rule(
        "window-duration",
        E,
        "a freeze window's duration is invalid, zero or negative",
        "a Go duration such as 1h, 90m or 62h (no days)",
    ),
    Rule(
        "window-time-zone",
        E,
        "a freeze window's timeZone is unknown (Argo CD silently uses UTC)",
        "an IANA name such as Europe/Berlin, or leave it out for UTC",
    ),
    Rule(
        "window-never-opens",
        E,
        "a freeze window's schedule never fires: Argo CD holds every sync it matches for ever",
        "fix the day and month (e.g. no 30 February)",
    ),
    Rule(
        "gates-production-none",
        W,
        "release.yaml lets a promotion into production go without evidence (no health gate)",
        "set health: true (and a soak time) for the pair, or remove it to get the default",
    ),
    Rule(
        "window-invalid",
        E,
        "gitops-config/release.yaml cannot be read as Argo CD sync windows",
        "keys: kind (allow/deny), schedule, duration, applications, namespaces, clusters, manualSync, "
        "timeZone, andOperator, description, syncOverrun",
    ),
    Rule(
        "push-pull-conflict",
        W,
        "push-mode pipelines deploy to an environment ArgoCD also syncs automatically: they fight",
        "use GITOPS_MODE=pull, or leave those environments out of AUTO_SYNC_ENVIRONMENTS",
    ),
    Rule(
        "namespace-dependent",
        E,
        "a value names one environment's namespace, so the same config cannot work elsewhere",
        "use the short Service name (<service>-sv); Kubernetes resolves it in the pod's own namespace",
    ),
    Rule(
        "env-fqdn",
        E,
        "a cluster FQDN (.svc.cluster.local) in an environment file is namespace-dependent",
        "use the short Service name, or move a cross-namespace address to default.yaml",
    ),
    Rule(
        "default-fqdn",
        W,
        "a cluster FQDN (.svc.cluster.local) ties the config to a namespace",
        "use the short Service name (<service>-sv) for services of the platform",
    ),
    # --- references to other services ----------------------------------------------------------------------
    Rule(
        "reference-missing-sv",
        E,
        "a reference names a service, but the chart's Service is <appName>-sv",
        "use <service>-sv",
    ),
    Rule(
        "reference-unknown-service",
        E,
        "a *-sv reference names no Service the chart creates for a known service",
        "use <service>-sv of a service in SERVICES",
    ),
    Rule(
        "reference-wrong-port",
        E,
        "a reference uses a port the target Service does not expose",
        "use one of the target's service.ports.*.externalPort",
    ),
    Rule(
        "reference-no-service",
        E,
        "a reference names a service whose chart Service is disabled",
        "set service.enabled: true (with ports) in the target's default.yaml",
    ),
    # --- ArgoCD --------------------------------------------------------------------------------------------
    Rule(
        "argocd-file-missing",
        E,
        "gitops-config/argocd/applicationset.yaml or project.yaml is missing",
        "run gitops-poc init",
    ),
    Rule("argocd-invalid", E, "the file does not hold the expected ArgoCD object", "run gitops-poc init"),
    Rule(
        "argocd-generator-unsupported",
        W,
        "generators other than list/matrix are not checked",
        "check it by hand",
    ),
    Rule(
        "argocd-env-missing",
        E,
        "an environment of ENVIRONMENTS has no ApplicationSet generator element",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-env-unknown",
        E,
        "the ApplicationSet deploys an environment that is not in ENVIRONMENTS",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-service-missing",
        E,
        "a service of SERVICES has no ApplicationSet generator element",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-service-unknown",
        E,
        "the ApplicationSet deploys a service that is not in SERVICES",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-namespace-mismatch",
        E,
        "a generator element's namespace differs from <NAMESPACE_PREFIX>-<env>",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-cluster-mismatch",
        E,
        "an environment's Applications go to another cluster than ENVIRONMENT_CLUSTERS says",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-destination-not-allowed",
        E,
        "an Application's destination namespace is not allowed by the AppProject",
        "add it to spec.destinations of the AppProject (gitops-poc init does)",
    ),
    Rule(
        "argocd-repo-not-allowed",
        E,
        "a source repository is not allowed by the AppProject's sourceRepos",
        "add it to spec.sourceRepos (gitops-poc init does)",
    ),
    Rule(
        "argocd-repo-mismatch",
        E,
        "a service's repoURL differs from the one derived from .env",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-project-mismatch",
        E,
        "the ApplicationSet template names another project than the AppProject",
        "use the AppProject's metadata.name as spec.project",
    ),
    Rule(
        "argocd-chart-unpinned",
        E,
        "the chart targetRevision is a range or '*', so a new chart version deploys unreviewed",
        "pin an exact version (CHART_VERSION)",
    ),
    Rule(
        "argocd-chart-version",
        W,
        "the chart version differs from CHART_VERSION, which lint checks against",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-prod-auto-sync",
        E,
        "a production environment syncs automatically",
        "remove automated sync for production (gitops-poc init does)",
    ),
    Rule(
        "argocd-auto-sync-mismatch",
        W,
        "an environment's auto-sync differs from AUTO_SYNC_ENVIRONMENTS",
        "run gitops-poc init",
    ),
    Rule(
        "argocd-ignore-differences",
        W,
        "ignoreDifferences without RespectIgnoreDifferences=true is undone by every sync",
        "add RespectIgnoreDifferences=true to syncPolicy.syncOptions",
    ),
    Rule(
        "argocd-values-ref",
        E,
        "valueFiles use $values but no source has `ref: values`",
        "add the service repository source with ref: values",
    ),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
