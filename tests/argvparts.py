"""Read an argv the tool built (argv.render, proc's record) the way its program does: `--name=value` options,
bare flags, words before the end of options, and operands after `--` / `--end-of-options`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gitops_poc.argv import Part, render

ENDS = ("--", "--end-of-options")


@dataclass
class Words:
    options: dict[str, list[str]] = field(default_factory=dict)  # --name=value, in order per name
    flags: list[str] = field(default_factory=list)  # words starting with '-' and holding no '='
    words: list[str] = field(default_factory=list)  # anything else before the end of options
    operands: list[str] = field(default_factory=list)  # after `--` or `--end-of-options`

    def one(self, name: str) -> str:
        values = self.options.get(name, [])
        assert len(values) == 1, (name, values)
        return values[0]


def words(argv: Sequence[Part]) -> Words:
    parsed = Words()
    rendered = render(argv)
    for index, word in enumerate(rendered):
        if word in ENDS:
            parsed.operands = rendered[index + 1 :]
            break
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            parsed.options.setdefault(name, []).append(value)
        elif word.startswith("-"):
            parsed.flags.append(word)
        else:
            parsed.words.append(word)
    return parsed
