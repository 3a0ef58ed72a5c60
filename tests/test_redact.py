"""The one redaction: registered secrets and URL passwords never reach stdout, stderr, a log line or a crash
log, whichever way the text got there (our message, a library's, a child process's output)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from gitops_poc import redact as redaction
from gitops_poc.cli import main
from gitops_poc.redact import RedactingStream, redact, remember, remember_url_passwords
from tests.clirun import run_cli

PASSWORD = "Sup3r-Passw0rd-planted"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"at https://user:{PASSWORD}@gitlab.example/x.git", "at https://user:***@gitlab.example/x.git"),
        (
            f"VAULT_ADDR='http://root:{PASSWORD}@127.0.0.1:8200'",
            "VAULT_ADDR='http://root:***@127.0.0.1:8200'",
        ),
        (f'Get "https://oauth2:{PASSWORD}@h/info/refs"', 'Get "https://oauth2:***@h/info/refs"'),
        (f"git@host https://{PASSWORD}@host/a", "git@host https://***@host/a"),  # a token pasted as the user
        (f"https://u:p@ss{PASSWORD}@host:1/", "https://u:***@host:1/"),  # '@' in the password
        (f"a http://u:{PASSWORD}@[::1 b", "a http://u:***@[::1 b"),  # unparsable: masked all the same
        ("ssh://git@host/group/repo.git", "ssh://git@host/group/repo.git"),  # a login name, no secret
        (f"two: http://a:{PASSWORD}@x/ http://b:{PASSWORD}2@y/", "two: http://a:***@x/ http://b:***@y/"),
        ("mailto-like user@example.com, no scheme", "mailto-like user@example.com, no scheme"),
    ],
)
def test_a_url_is_shown_without_its_password(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_every_line_of_a_registered_value_is_taken_out() -> None:
    remember(["glpat-first-line-4a1b\nsecond-line-of-it-77c\n"])  # a two-line token file
    assert redact("got glpat-first-line-4a1b and second-line-of-it-77c") == "got *** and ***"


def test_short_values_are_not_registered_so_ordinary_words_survive() -> None:
    remember(["root", "abc1234"])
    assert redact("the platform root abc1234") == "the platform root abc1234"


def test_environment_credentials_and_url_passwords_count_without_registering(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-value-91ab")
    monkeypatch.setenv("SOME_URL", f"https://x:{PASSWORD}-env@h/")
    assert redact(f"job-token-value-91ab {PASSWORD}-env") == "*** ***"


def test_url_passwords_of_values_are_registered_wherever_they_then_appear() -> None:
    remember_url_passwords([f"https://u:{PASSWORD}-reg@h/", None, "plain"])
    assert redact(f"password {PASSWORD}-reg rejected") == "password *** rejected"


def test_the_stream_redacts_every_write_and_is_otherwise_the_stream() -> None:
    remember(["stream-secret-0e9f"])
    target = io.StringIO()
    stream = RedactingStream(target)
    stream.write("a stream-secret-0e9f b\n")
    stream.writelines(["c stream-secret-0e9f\n"])
    stream.flush()
    assert target.getvalue() == "a *** b\nc ***\n"
    assert stream.isatty() is False


def test_logging_typer_and_rich_output_of_a_command_pass_the_redaction(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In-process: a log record, a Rich line and the error handler all go through the swapped streams."""
    secret = "registered-in-run-5c2d"
    import gitops_poc.cli.doctor as doctor_cli  # any command: make it log, print and fail with the secret

    def noisy() -> int:
        from gitops_poc.cli.output import err, out
        from gitops_poc.errors import UsageError

        remember([secret])
        logging.getLogger("gitops_poc.test").warning("log %s", secret)
        for handler in logging.getLogger().handlers:  # pytest's capture handler holds no stream of ours
            if isinstance(handler, logging.StreamHandler) and handler.stream.__class__ is RedactingStream:
                handler.flush()
        out.print(f"stdout {secret}")
        err.print(f"stderr {secret} http://u:{PASSWORD}@h/")
        raise UsageError(f"failed with {secret}")

    monkeypatch.setattr(doctor_cli, "doctor", noisy)
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # basicConfig then writes to our stream
    code = main(["--verbose", "doctor"])
    captured = capsys.readouterr()
    assert code == 2
    assert secret not in captured.out + captured.err
    assert PASSWORD not in captured.err
    assert "stdout ***" in captured.out and "error: failed with ***" in captured.err
    assert "log ***" in captured.err
    assert not isinstance(__import__("sys").stdout, RedactingStream)  # put back after the command


def test_a_child_process_output_is_redacted(helm: str, generated_root: Path, crash_dir_factory: Path) -> None:
    """Real helm, a chart repository URL with a password: helm repeats the URL in its error; the progress
    line, the note and helm's own text are all shown without the password."""
    run = run_cli(
        "render",
        "health-demo",
        "dev",
        "-C",
        str(generated_root),
        env={"CHART_REPO": f"http://user:{PASSWORD}@127.0.0.1:9/charts"},
        tmpdir=crash_dir_factory,
        timeout=120,
    )
    assert "is not a valid chart repository" in run.text  # helm's own words reached the user
    assert PASSWORD not in run.text
    assert "http://user:***@127.0.0.1:9/charts" in run.text


@pytest.fixture
def crash_dir_factory(tmp_path: Path) -> Path:
    return tmp_path / "crash"


@pytest.fixture(autouse=True)
def _forget() -> None:
    redaction._known.clear()
