"""File names that hold credentials, in any spelling: the one list `publish` withholds and the checks plant.

The names are the ones the tool itself keeps credentials in (layout.NEVER_COMMITTED: `.env`,
`.secrets.yaml`, `.vault-keys.json`) and every copy a person or an editor makes of them: another case
(`.ENV`), a suffix (`.env.local`, `.env.prod`, `.secrets.yaml.orig`, `.env.bak`, `.env~`), a prefix
(`prod.env`), an editor's swap, lock or autosave file (`.env.swp`, `.#.env`, `#.env#`).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from gitops_poc.layout import NEVER_COMMITTED

# Templates that by convention hold no values (`.env.example` documents the keys).
TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})

_EDITOR_SUFFIXES = (".swp", ".swo", ".swx")


def _bases() -> tuple[str, ...]:
    """Each kept name with and without its leading dot (a `secrets.yaml` is the secrets file too), and the
    `.yml` spelling; never a bare `env`, which is an ordinary word."""
    found: set[str] = set()
    for name in NEVER_COMMITTED:
        for spelling in (name, name.replace(".yaml", ".yml")):
            found.add(spelling)
            if spelling != ".env":
                found.add(spelling.lstrip("."))
    return tuple(sorted(found))


BASES = _bases()


def _core(name: str) -> str:
    """`name` folded, without an editor's decoration (`.#x` lock, `#x#` autosave, `x~`, `.x.swp`)."""
    name = name.casefold()
    if name.startswith(".#"):
        name = name[2:]
    name = name.strip("#~")
    for suffix in _EDITOR_SUFFIXES:
        if name.endswith(suffix):
            name = name.removesuffix(suffix)
            if name.startswith(".."):  # vim's swap of a dotfile `.x` is `..x.swp`
                name = name[1:]
    return name


def is_credential_name(name: str) -> bool:
    """Whether a file or folder named `name` holds (or may be a copy of) credentials."""
    core = _core(name)
    if not core or core in TEMPLATES:
        return False
    for base in BASES:
        if core == base or (core.startswith(base) and not core[len(base)].isalnum()):
            return True  # .env, .ENV, .env.local, .env-prod, .secrets.yaml.orig, secrets.yml.bak
    return core.endswith(".env")  # prod.env, .local.env: a dotenv file under another name


def credential_part(path: str) -> str | None:
    """The first component of the relative `path` that is a credentials name (a file, or a folder such as
    `.env/` whose files are all credentials), or None."""
    for part in PurePosixPath(path).parts:
        if is_credential_name(part):
            return part
    return None


def _ignore_patterns() -> tuple[str, ...]:
    """`.gitignore` lines for the kept names and the copies people and editors make of them, so a plain
    `git add -A` in the platform root leaves them out too (git matches case-sensitively here: the other
    spellings are withheld by `publish` alone). Templates are re-included last."""
    lines: list[str] = []
    for name in NEVER_COMMITTED:
        lines += [name, f"{name}.*", f"{name}~", f".{name}.sw[opx]", f".#{name}", f"\\#{name}#"]
    lines.append("*.env")
    lines += [f"!{template}" for template in sorted(TEMPLATES)]
    return tuple(lines)


IGNORE_PATTERNS = _ignore_patterns()
