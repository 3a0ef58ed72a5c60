"""Start-up: `--help`/`--version` load no command and no heavy library; a command loads only its own."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gitops_poc.cli import Commands, main

HEAVY = ("pydantic", "hvac", "requests", "kubernetes_validate", "jsonschema", "jinja2", "ruamel", "rich")
COMMAND_MODULES = {lazy.target.partition(":")[0] for lazy in Commands.registry.values()}


def modules_after(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded after running `gitops-poc ARGV`."""
    code = (
        "import json, sys\n"
        "from gitops_poc.cli import main\n"
        f"main({argv!r})\n"
        "print('\\n' + json.dumps(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(proc.stdout.splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_help_and_version_load_no_command_and_no_heavy_library(argv: list[str]) -> None:
    loaded = modules_after(argv)
    assert not sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not sorted(COMMAND_MODULES & loaded)


@pytest.mark.parametrize("command", ["init", "vault"])
def test_a_command_loads_its_own_module_only(command: str) -> None:
    loaded = modules_after([command, "--help"])
    own = Commands.registry[command].target.partition(":")[0]
    assert own in loaded
    assert sorted(COMMAND_MODULES & loaded) == [own]


def test_the_command_list_shows_every_registered_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = " ".join(capsys.readouterr().out.partition("Commands:")[2].split())  # click wraps to the width
    for name, lazy in Commands.registry.items():
        assert f"{name} {lazy.summary}" in listed, name


def test_every_registered_target_is_a_command_with_its_own_help(capsys: pytest.CaptureFixture[str]) -> None:
    for name in Commands.registry:
        assert main([name, "--help"]) == 0, name
        assert f"Usage: gitops-poc {name} " in capsys.readouterr().out


def test_unknown_commands_are_suggested_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rendr"]) == 2
    assert "Did you mean 'render'" in capsys.readouterr().err
