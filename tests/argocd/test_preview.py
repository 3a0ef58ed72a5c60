"""`ImageReader`: each Application's image from its service's values, in the working tree or at a revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gitops_poc.argocd.preview import NO_IMAGE, ImageReader, default_file, read_applications
from gitops_poc.layout import service_dir
from gitops_poc.servicerepo import read_values_file


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)


def set_tag(root: Path, service: str, env: str, tag: str) -> None:
    path = service_dir(root, service) / ".cicd" / f"{env}.yaml"
    text = path.read_text()
    assert '  tag: "0.1.0"' in text
    path.write_text(text.replace('  tag: "0.1.0"', f"  tag: {tag}"))


def test_images_at_a_revision_come_from_that_revision_read_as_helm_reads_them(generated_root: Path) -> None:
    root = generated_root
    git(root, "init", "-q", "-b", "main")
    set_tag(root, "health-demo", "dev", "0755")  # unquoted: Helm reads the octal number 493
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    set_tag(root, "health-demo", "prod", '"2.0"')  # only in the working tree
    (service_dir(root, "web-http") / ".cicd/dev.yaml").unlink()

    file = default_file(root)
    apps = {app.name: app for app in read_applications(file)}
    base, head = ImageReader(root, "HEAD", file), ImageReader(root)
    try:
        assert base.image(apps["health-demo-dev"]).endswith(":493")
        assert base.image(apps["health-demo-prod"]).endswith(":0.1.0")
        assert base.image(apps["web-http-dev"]).endswith(":0.1.0")  # deleted since, but there at the revision
        reads = base._reader
        assert reads is not None and reads._proc is not None
        process = reads._proc
        for app in apps.values():  # every values file of the platform through the one git process
            base.image(app)
        assert reads._proc is process and process.poll() is None

        assert head.image(apps["health-demo-prod"]).endswith(":2.0")
        image = read_values_file(service_dir(root, "web-http") / ".cicd/default.yaml").data["image"]
        assert (
            head.image(apps["web-http-dev"]) == f"{image['repository']}:{image['tag']}"
        )  # default.yaml alone
    finally:
        base.close()
        head.close()
    assert process.returncode == 0


def test_without_a_shared_repository_the_working_tree_is_read(generated_root: Path, tmp_path: Path) -> None:
    git(generated_root, "init", "-q", "-b", "main")
    git(generated_root, "add", "-A")
    git(generated_root, "commit", "-qm", "base")
    elsewhere = tmp_path / "other"  # the ApplicationSet file in another repository
    elsewhere.mkdir()
    git(elsewhere, "init", "-q")
    file = elsewhere / "applicationset.yaml"
    file.write_text(default_file(generated_root).read_text())
    apps = {app.name: app for app in read_applications(file)}
    reader = ImageReader(generated_root, "HEAD", file)
    assert reader._reader is None
    assert reader.image(apps["health-demo-dev"]).endswith(":0.1.0")
    assert ImageReader(tmp_path / "no-platform").image(apps["health-demo-dev"]) == NO_IMAGE
