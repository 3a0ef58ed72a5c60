"""Commands imported only when they run, so `--help` and `--version` load none of their libraries."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

import typer
import typer.core
import typer.main


@dataclass(frozen=True)
class Lazy:
    """A command or sub-app: `target` is "module:attribute" (a function or a typer.Typer), `summary` is its
    line in the parent's command list (shown without importing the module)."""

    target: str
    summary: str

    def load(self, name: str) -> Any:
        """The click command, built as `app.command(name)` or `app.add_typer(sub, name=name)` builds it."""
        module, _, attribute = self.target.partition(":")
        obj = getattr(importlib.import_module(module), attribute)
        host = typer.Typer(rich_markup_mode=None)  # plain click help, as the root's
        host.callback()(_no_op)  # a group even with one command, so the command comes out named
        if isinstance(obj, typer.Typer):
            host.add_typer(obj, name=name)
        else:
            host.command(name)(obj)
        group = typer.main.get_group(host)
        command = group.commands[name]
        command.short_help = command.short_help or self.summary
        return command


def _no_op() -> None:
    pass


class _Commands(MutableMapping[str, Any]):
    """The group's command table: names and order from the registry, each command built on first lookup."""

    def __init__(self, registry: Mapping[str, Lazy], loaded: MutableMapping[str, Any]) -> None:
        self._registry = registry
        self._loaded = loaded

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            self._loaded[name] = self._registry[name].load(name)  # KeyError: no such command
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._registry
        yield from (name for name in self._loaded if name not in self._registry)

    def __len__(self) -> int:
        return len(set(self._registry) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._registry or name in self._loaded


class LazyGroup(typer.core.TyperGroup):
    """A TyperGroup whose commands come from `registry` (set by a subclass) and load when looked up."""

    registry: Mapping[str, Lazy] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands(self.registry, dict(self.commands))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from the registry's summaries: listing the commands imports none of them."""
        rows = [(name, lazy.summary) for name, lazy in self.registry.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
