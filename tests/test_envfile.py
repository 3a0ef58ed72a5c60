from __future__ import annotations

import pytest

from gitops_poc.config import parse_config
from gitops_poc.envfile import set_key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('SERVICES="a b"  # trimmed\n', 'SERVICES="a b c"  # trimmed\n'),
        ("SERVICES='a b' # single\n", 'SERVICES="a b c" # single\n'),
        ("SERVICES=a # bare\n", 'SERVICES="a b c" # bare\n'),
        ('SERVICES="a # not a comment"\n', 'SERVICES="a b c"\n'),
        ('export SERVICES="a"\n', 'export SERVICES="a b c"\n'),
        ('SERVICES="a\nb" # two lines\nX=1\n', 'SERVICES="a b c" # two lines\nX=1\n'),
        ('SERVICES="a"', 'SERVICES="a b c"'),
        ('SERVICES="a"\r\nX=1\r\n', 'SERVICES="a b c"\r\nX=1\r\n'),
    ],
)
def test_set_key_replaces_the_value_and_keeps_the_rest_of_the_line(text: str, expected: str) -> None:
    assert set_key(text, "SERVICES", "a b c") == expected


def test_set_key_keeps_every_other_line() -> None:
    text = '# team\nGITLAB_GROUP=acme # ours\n\n\nSERVICES="web"   # trimmed\nENVIRONMENTS=dev\n'
    updated = set_key(text, "SERVICES", "web billing")
    assert (
        updated
        == '# team\nGITLAB_GROUP=acme # ours\n\n\nSERVICES="web billing"   # trimmed\nENVIRONMENTS=dev\n'
    )
    assert parse_config(updated, ".env", {}).services == ("web", "billing")


def test_set_key_appends_an_absent_key_and_creates_a_file() -> None:
    assert set_key("A=1", "SERVICES", "x") == 'A=1\nSERVICES="x"\n'
    assert set_key("", "SERVICES", "x") == 'SERVICES="x"\n'
    assert set_key(None, "SERVICES", "x") == 'SERVICES="x"\n'


def test_set_key_does_not_match_a_longer_key_or_a_comment() -> None:
    text = '# SERVICES="old"\nSERVICES_EXTRA=1\n'
    assert set_key(text, "SERVICES", "x") == text + 'SERVICES="x"\n'


def test_set_key_refuses_a_key_set_twice() -> None:
    with pytest.raises(ValueError, match="lines 1 and 2"):
        set_key('SERVICES="a"\nSERVICES="b"\n', "SERVICES", "x")


def test_a_line_longer_than_the_cap_is_refused_before_python_dotenv_reads_it() -> None:
    from gitops_poc.envfile import MAX_LINE, LineTooLong, bindings

    ok = "A=" + "x" * (MAX_LINE - 2) + "\n"
    assert [b.key for b, _ in bindings(ok)] == ["A"]
    with pytest.raises(LineTooLong, match=rf"\.env:2: the line is {MAX_LINE + 1} characters long"):
        list(bindings("A=1\nB=" + "x" * (MAX_LINE - 1) + "\n"))
    with pytest.raises(LineTooLong, match="x.env:1:"):
        list(bindings("A=" + "x" * MAX_LINE, "x.env"))


def test_services_of_2000_names_fit_on_one_line() -> None:
    from gitops_poc.envfile import bindings

    names = ",".join(f"service-{i:04d}" for i in range(2000))
    [(binding, _line)] = list(bindings(f"SERVICES={names}\n"))
    assert binding.value == names


@pytest.mark.parametrize("blanks", ["\t" * 65, " " * 65, " \t" * 40])
def test_a_long_run_of_blanks_is_refused_before_python_dotenv_reads_it(blanks: str) -> None:
    from gitops_poc.envfile import BlankRunTooLong, bindings

    assert [b.value for b, _ in bindings("A=a" + " " * 64 + "b\n")] == ["a" + " " * 64 + "b"]
    with pytest.raises(BlankRunTooLong, match=rf"x\.env:2: {len(blanks)} blanks in a row; .* at most 64"):
        list(bindings(f"A=1\nB=a{blanks}b\n", "x.env"))


@pytest.mark.parametrize("value", ['a"b', "a\\b", "a\nb", "a\rb", "a\0b"])
def test_set_key_refuses_a_value_it_cannot_write_on_one_line(value: str) -> None:
    with pytest.raises(ValueError, match="cannot be written"):
        set_key("A=1\n", "A", value)
