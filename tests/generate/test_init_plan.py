from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from gitops_poc.changes import Action, apply_changes
from gitops_poc.config import parse_config
from gitops_poc.errors import UsageError
from gitops_poc.generate import plan_init
from gitops_poc.platform import Platform
from gitops_poc.secretnames import is_credential_name
from gitops_poc.yamlio import load_plain


def platform(text: str = "") -> Platform:
    return Platform(parse_config(text, ".env", {}))


def init(root: Path, p: Platform) -> int:
    changes = plan_init(p, root)
    apply_changes(root, changes)
    return len(changes)


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_first_run_creates_every_repository_file(tmp_path: Path, default_platform: Platform) -> None:
    changes = plan_init(default_platform, tmp_path)
    assert {c.action for c in changes} == {Action.CREATE}
    paths = {str(c.path) for c in changes}
    for service in default_platform.services:
        for name in ("default", "dev", "staging", "prod"):
            assert f"services/{service}/.cicd/{name}.yaml" in paths
    assert "gitops-config/argocd/applicationset.yaml" in paths
    assert "gitops-config/argocd/project.yaml" in paths
    assert "gitops-config/.gitlab/agents/minikube-agent/config.yaml" in paths
    assert "templates/service-repo/.cicd/{{ environment }}.yaml" in paths


def test_second_run_changes_nothing(tmp_path: Path, default_platform: Platform) -> None:
    assert init(tmp_path, default_platform) > 0
    before = files(tmp_path)
    assert plan_init(default_platform, tmp_path) == []
    assert files(tmp_path) == before


def test_group_and_vault_prefix_reach_every_place(tmp_path: Path) -> None:
    p = platform("GITLAB_GROUP=acme\nVAULT_PATH_PREFIX=acme-secrets\n")
    init(tmp_path, p)
    assert plan_init(p, tmp_path) == []
    # The tool's own name where it is the tool: its commands, its image (CI_TOOL_IMAGE), its comments.
    tool_phrases = re.compile(
        r"gitops-poc (init|new-service|ci |up|review|lint|plan|report)|by gitops-poc|gitops-poc: |"
        r"/gitops-poc:|"
        r"\.gitops-poc-(up|published)\.json"
    )
    for name, text in files(tmp_path).items():
        leftover = tool_phrases.sub("", text)
        assert "gitops-poc" not in leftover, name
        assert "dzha" not in text, name
    appset = load_plain((tmp_path / "gitops-config/argocd/applicationset.yaml").read_text())
    elements = appset["spec"]["generators"][0]["matrix"]["generators"][0]["list"]["elements"]
    assert elements[0]["repoURL"] == "https://gitlab.com/acme/api-gateway.git"
    dev = load_plain((tmp_path / "services/api-gateway/.cicd/dev.yaml").read_text())
    assert dev["image"]["repository"] == "registry.gitlab.com/acme/api-gateway"
    agent = load_plain((tmp_path / "gitops-config/.gitlab/agents/minikube-agent/config.yaml").read_text())
    assert {"id": "acme/api-gateway"} in agent["ci_access"]["projects"]


def test_ci_written_tag_and_comments_survive_a_group_change(
    tmp_path: Path, default_platform: Platform
) -> None:
    init(tmp_path, default_platform)
    dev = tmp_path / "services/web-http/.cicd/dev.yaml"
    text = dev.read_text().replace('tag: "0.1.0"', 'tag: "3f2a9c1"  # pipeline 4711')
    text += "# tuned by the web team, do not lower\n"
    dev.write_text(text)

    acme = platform("GITLAB_GROUP=acme\n")
    changes = plan_init(acme, tmp_path)
    assert Path("services/web-http/.cicd/dev.yaml") in {c.path for c in changes}
    apply_changes(tmp_path, changes)
    after = dev.read_text()
    assert 'tag: "3f2a9c1"  # pipeline 4711' in after
    assert "# tuned by the web team, do not lower" in after
    assert "repository: registry.gitlab.com/acme/web-http" in after
    # Only the managed line differs.
    changed = [(a, b) for a, b in zip(text.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [
        (
            "  repository: registry.gitlab.com/gitops-poc/web-http",
            "  repository: registry.gitlab.com/acme/web-http",
        )
    ]
    assert plan_init(acme, tmp_path) == []


def test_team_edits_to_values_are_kept(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    prod = tmp_path / "services/api-gateway/.cicd/prod.yaml"
    prod.write_text(prod.read_text().replace("maxReplicas: 10", "maxReplicas: 25"))
    assert plan_init(default_platform, tmp_path) == []
    assert "maxReplicas: 25" in prod.read_text()


def test_missing_managed_key_is_added_in_place(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    staging = tmp_path / "services/health-demo/.cicd/staging.yaml"
    staging.write_text("# minimal\nreplicas: 2\n")
    [change] = plan_init(default_platform, tmp_path)
    assert change.path == Path("services/health-demo/.cicd/staging.yaml")
    data = load_plain(change.content)
    assert data == {
        "replicas": 2,
        "environment": "staging",
        "image": {"repository": "registry.gitlab.com/gitops-poc/health-demo"},
    }
    assert change.content.startswith("# minimal\n")


def test_generated_files_are_rewritten_whole(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    project = tmp_path / "gitops-config/argocd/project.yaml"
    original = project.read_text()
    project.write_text(original + "extra: hand-edit\n")
    [change] = plan_init(default_platform, tmp_path)
    assert change.content == original


def test_environments_come_from_the_configuration(tmp_path: Path) -> None:
    p = platform('ENVIRONMENTS="dev qa prod"\nNAMESPACE_PREFIX=\n')
    init(tmp_path, p)
    assert (tmp_path / "services/web-grpc/.cicd/qa.yaml").exists()
    assert not (tmp_path / "services/web-grpc/.cicd/staging.yaml").exists()
    project = load_plain((tmp_path / "gitops-config/argocd/project.yaml").read_text())
    assert [d["namespace"] for d in project["spec"]["destinations"]] == ["dev", "qa", "prod"]
    appset = load_plain((tmp_path / "gitops-config/argocd/applicationset.yaml").read_text())
    envs = appset["spec"]["generators"][0]["matrix"]["generators"][1]["list"]["elements"]
    assert envs == [
        {"env": "dev", "namespace": "dev", "autoSync": "true", "chartVersion": "3.13.0"},
        {"env": "qa", "namespace": "qa", "autoSync": "true", "chartVersion": "3.13.0"},
        {"env": "prod", "namespace": "prod", "autoSync": "false", "chartVersion": "3.13.0"},
    ]


def test_applicationset_pins_chart_and_never_auto_syncs_production(
    tmp_path: Path, default_platform: Platform
) -> None:
    init(tmp_path, default_platform)
    appset = load_plain((tmp_path / "gitops-config/argocd/applicationset.yaml").read_text())
    spec = appset["spec"]
    chart_source = spec["template"]["spec"]["sources"][0]
    assert chart_source["targetRevision"] == "{{.chartVersion}}"  # each environment's element gives it
    assert chart_source["helm"]["releaseName"] == "{{.service}}"
    assert "automated" not in spec["template"]["spec"]["syncPolicy"]
    assert 'if eq .autoSync "true"' in spec["templatePatch"]
    # Replicas follow git: the chart drops them itself where the HPA owns them.
    assert "ignoreDifferences" not in spec["template"]["spec"]


def test_unknown_service_is_scaffolded_from_the_template(tmp_path: Path) -> None:
    p = platform('SERVICES="api-gateway billing"\n')
    init(tmp_path, p)
    default = load_plain((tmp_path / "services/billing/.cicd/default.yaml").read_text())
    assert default["appName"] == "billing"
    prod = load_plain((tmp_path / "services/billing/.cicd/prod.yaml").read_text())
    assert prod["environment"] == "prod"
    assert prod["image"]["repository"] == "registry.gitlab.com/gitops-poc/billing"
    assert prod["pdb"] == {"enabled": False, "minAvailable": 2}  # the platform's PDB takes the budget
    assert "billing" in (tmp_path / "services/billing/README.md").read_text()


def test_the_teams_template_is_used_for_new_services(tmp_path: Path) -> None:
    init(tmp_path, platform())
    template = tmp_path / "templates/service-repo"
    (template / ".gitlab-ci.yml").write_text("variables:\n  SERVICE_NAME: {{ service }}\n")
    init(tmp_path, platform('SERVICES="api-gateway ledger"\n'))
    assert (tmp_path / "services/ledger/.gitlab-ci.yml").read_text() == "variables:\n  SERVICE_NAME: ledger\n"


def test_broken_values_file_is_reported_with_its_line(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    (tmp_path / "services/web-grpc/.cicd/dev.yaml").write_text("environment: dev\nimage: [unclosed\n")
    with pytest.raises(UsageError, match=r"services/web-grpc/.cicd/dev.yaml:\d+: invalid YAML"):
        plan_init(default_platform, tmp_path)


def test_values_file_that_is_not_a_mapping_is_rejected(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    (tmp_path / "services/web-grpc/.cicd/default.yaml").write_text("- a\n- b\n")
    with pytest.raises(UsageError, match="expected a mapping"):
        plan_init(default_platform, tmp_path)


def test_generated_files_of_a_removed_service_are_deleted(tmp_path: Path) -> None:
    init(tmp_path, platform('SERVICES="web-http web-grpc"\n'))
    platform_file = tmp_path / "gitops-config/platform/prod/web-grpc.yaml"
    assert platform_file.exists()
    hand_written = tmp_path / "gitops-config/platform/prod/extra-policy.yaml"
    hand_written.write_text("kind: NetworkPolicy\n")

    smaller = platform('SERVICES="web-http"\n')
    changes = plan_init(smaller, tmp_path)
    deleted = {str(c.path) for c in changes if c.action is Action.DELETE}
    assert deleted == {f"gitops-config/platform/{env}/web-grpc.yaml" for env in ("dev", "staging", "prod")}
    apply_changes(tmp_path, changes)
    assert not platform_file.exists()
    assert hand_written.exists()  # not written by the generator: never deleted
    assert (tmp_path / "services/web-grpc/.cicd/prod.yaml").exists()  # team-owned: kept
    assert plan_init(smaller, tmp_path) == []


def test_a_new_vault_prefix_moves_every_secret_path(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    default = tmp_path / "services/auth-adapter/.cicd/default.yaml"
    default.write_text(default.read_text() + "# extra path added by the team:\n")
    values = load_plain(default.read_text())
    values_env = tmp_path / "services/auth-adapter/.cicd/prod.yaml"
    values_env.write_text(
        values_env.read_text() + "secrets:\n  PROD_ONLY: /gitops-poc/auth-adapter/prod/extra\n"
    )
    assert values["secrets"] and all(
        p.startswith("gitops-poc/auth-adapter/{env}/") for p in values["secrets"].values()
    )

    moved = platform("VAULT_PATH_PREFIX=acme-secrets\n")
    init(tmp_path, moved)
    assert plan_init(moved, tmp_path) == []
    for service in moved.services:
        secrets = load_plain((tmp_path / f"services/{service}/.cicd/default.yaml").read_text())["secrets"]
        assert all(p.startswith(f"acme-secrets/{service}/{{env}}/") for p in secrets.values()), secrets
    assert "PROD_ONLY: /acme-secrets/auth-adapter/prod/extra" in values_env.read_text()
    assert default.read_text().endswith("# extra path added by the team:\n")


def test_gitops_config_as_its_own_git_repository(tmp_path: Path, default_platform: Platform) -> None:
    """It is pushed as a repository of its own: .git and other files inside it are not the generator's."""
    init(tmp_path, default_platform)
    repo = tmp_path / "gitops-config"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "generated"], check=True)
    backup = repo / "argocd" / "project.yaml.bak"
    backup.write_text((repo / "argocd" / "project.yaml").read_text())
    assert plan_init(default_platform, tmp_path) == []
    assert backup.exists()


def test_credential_files_are_git_ignored(tmp_path: Path, default_platform: Platform) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/\n/.env")
    init(tmp_path, default_platform)
    text = (tmp_path / ".gitignore").read_text()
    assert text.startswith("node_modules/\n/.env\n# Credentials")
    assert "\n.env\n" not in text  # the team's `/.env` already ignores it: not listed twice
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".env").write_text("GITLAB_AGENT_TOKEN=x\n")
    (tmp_path / ".secrets.yaml").write_text("web-http: {}\n")
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".env" not in status and ".secrets.yaml" not in status
    assert "services/" in status


# Copies people and editors make; the real git decides whether each is ignored.
COPIES = (
    ".env.local",
    ".env.prod",
    ".env.bak",
    ".env~",
    "..env.swp",
    ".#.env",
    "#.env#",
    "prod.env",
    ".secrets.yaml.orig",
    ".secrets.yaml~",
    "..secrets.yaml.swp",
    ".vault-keys.json.bak",
    "#.vault-keys.json#",
)
KEPT = (".env.example", ".env.sample", "environment.md", "secrets-howto.md")


def test_copies_of_credential_files_are_git_ignored_and_templates_are_not(
    tmp_path: Path, default_platform: Platform
) -> None:
    init(tmp_path, default_platform)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for name in (*COPIES, *KEPT):
        (tmp_path / "services" / name).write_text("x\n")
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all", "--", "services"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shown = {line[3:].strip('"').removeprefix("services/") for line in status.splitlines()}
    assert not shown & set(COPIES)
    assert set(KEPT) <= shown
    # the same verdicts as publish's own list of names
    assert all(is_credential_name(name) for name in COPIES)
    assert not any(is_credential_name(name) for name in KEPT)


def test_executable_template_files_stay_executable(tmp_path: Path) -> None:
    init(tmp_path, platform())
    script = tmp_path / "templates/service-repo/entrypoint.sh"
    script.write_text("#!/bin/sh\nexec /app/{{ service }}\n")
    script.chmod(0o755)
    init(tmp_path, platform('SERVICES="api-gateway ledger"\n'))
    created = tmp_path / "services/ledger/entrypoint.sh"
    assert created.read_text() == "#!/bin/sh\nexec /app/ledger\n"
    assert created.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "services/ledger/.cicd/dev.yaml").stat().st_mode & 0o777 == 0o644


def test_a_values_file_that_is_not_utf8_is_named(tmp_path: Path, default_platform: Platform) -> None:
    init(tmp_path, default_platform)
    (tmp_path / "services/web-http/.cicd/qa.yaml").write_bytes(b"x")  # unrelated file: not read
    (tmp_path / "services/web-http/.cicd/dev.yaml").write_bytes(b"environment: d\xe9v\n")
    with pytest.raises(UsageError, match=r"services/web-http/.cicd/dev.yaml: not UTF-8 text"):
        plan_init(default_platform, tmp_path)


def test_one_agent_configuration_per_cluster_each_for_its_environments(tmp_path: Path) -> None:
    two = platform('GITLAB_GROUP=acme\nENVIRONMENT_CLUSTERS="prod=prod-eu"\n')
    init(tmp_path, two)
    agents = tmp_path / "gitops-config/.gitlab/agents"
    assert sorted(p.name for p in agents.iterdir()) == ["minikube-agent", "prod-eu"]
    own = load_plain((agents / "minikube-agent/config.yaml").read_text())["ci_access"]["projects"]
    remote = load_plain((agents / "prod-eu/config.yaml").read_text())["ci_access"]["projects"]
    assert own[0] == {"id": "acme/api-gateway", "environments": ["dev", "staging"]}
    assert remote[0] == {"id": "acme/api-gateway", "environments": ["prod"]}
    assert [p["id"] for p in remote] == [p["id"] for p in own] == [f"acme/{s}" for s in two.services]
    # The agent each file configures is the one CI deploys through (<group>/gitops-config:<agent>).
    assert {two.agent_context_of(env).rsplit(":", 1)[1] for env in two.environments} == {
        "minikube-agent",
        "prod-eu",
    }
    # Back to one cluster: the remote agent's file goes, the other loses its environment restriction.
    one = platform("GITLAB_GROUP=acme\n")
    init(tmp_path, one)
    assert sorted(p.name for p in agents.iterdir() if any(p.iterdir())) == ["minikube-agent"]
    assert load_plain((agents / "minikube-agent/config.yaml").read_text())["ci_access"]["projects"][0] == {
        "id": "acme/api-gateway"
    }
