"""A faithful subset of Go's text/template: what ArgoCD runs for `goTemplate: true` ApplicationSets.

Supported: text and actions with `{{-`/`-}}` trimming and comments; fields `.a.b`, `$`, variables (`:=`, `=`),
parenthesised pipelines and chains `(...).a`; pipelines with `|`; `if/else if/else`, `with/else with/else`,
`range` over lists, maps (sorted keys) and integers with `break`/`continue`; the builtins and, or, not, eq,
ne, lt, le, gt, ge, index, len, print, printf, println; any function passed in `funcs` (Sprig and ArgoCD's
additions live in `sprig.py`). Go's typing rules are kept where they change results: generator numbers are
float64, so `eq .n 3` is an error and `{{ .n }}` prints `1e+06` for a million.

Anything else (define/template/block, unknown functions) is a clear error, never a silent wrong result.
Functions are checked when parsing, as Go does: an unknown function fails even in a branch never taken.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitops_poc.argocd import gofmt
from gitops_poc.argocd.gofmt import MISSING, Int64
from gitops_poc.errors import UsageError


class TemplateError(UsageError):
    """A template that does not parse or fails while running; the message says where and why."""


class TemplateParseError(TemplateError):
    pass


class TemplateExecError(TemplateError):
    pass


class UnsupportedTemplate(TemplateError):
    """Valid for ArgoCD, but gitops-poc cannot compute its result: refuse rather than guess."""


class FuncError(Exception):
    """Raised by a template function; reported as Go does: `error calling NAME: MESSAGE`."""


# Parameter kinds of a function, as Go's reflection would check them.
ANY, STRING, INT, FLOAT, BOOL, MAP, LIST = (
    "interface {}",
    "string",
    "int",
    "float64",
    "bool",
    "map[string]interface {}",
    "[]interface {}",
)
_NILLABLE = {ANY, MAP, LIST}


@dataclass(frozen=True)
class Func:
    """A template function: Python callable plus its Go signature (parameter kinds, variadic kind)."""

    fn: Callable[..., Any]
    params: tuple[str, ...] = ()
    variadic: str | None = None
    unsupported: str | None = None  # why gitops-poc refuses it (ArgoCD has it, the result is not computable)


# --- lexer ------------------------------------------------------------------------------------------------
_SPACE = " \t\r\n"
_KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "range", "nil", "template", "with"}
_NUMBER = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[bB][01_]+|0[oO][0-7_]+"
    r"|(?:[0-9][0-9_]*)?\.?[0-9][0-9_]*(?:[eE][+-]?[0-9_]+)?)i?"
)
_ALNUM = re.compile(r"[\w]*", re.UNICODE)
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
}


@dataclass(frozen=True)
class _Tok:
    kind: str  # text, left, right, ident, field, var, dot, declare, assign, pipe, lparen, rparen, comma,
    #            string, number, char, bool, nil, eof
    value: str
    start: int
    end: int
    space: bool = False  # whitespace before this token


def _unquote(body: str, quote: str) -> str:
    def replace(match: re.Match[str]) -> str:
        esc = match.group(1)
        if esc in _SIMPLE_ESCAPES and (esc != "'" or quote == "'") and (esc != '"' or quote == '"'):
            return _SIMPLE_ESCAPES[esc]
        if esc[0] in "xuU":
            return chr(int(esc[1:], 16))
        if esc.isdigit() and len(esc) == 3:
            return chr(int(esc, 8))
        raise ValueError(f"invalid escape \\{esc}")

    return _ESCAPE.sub(replace, body)


class _Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.tokens: list[_Tok] = []

    def line(self, pos: int) -> int:
        return self.src.count("\n", 0, pos) + 1

    def fail(self, pos: int, message: str) -> TemplateParseError:
        return TemplateParseError(f"line {self.line(pos)}: {message}")

    def run(self) -> list[_Tok]:
        src, n, i = self.src, len(self.src), 0
        trim_next = False
        while i <= n:
            j = src.find("{{", i)
            text = src[i:] if j < 0 else src[i:j]
            left_trim = j >= 0 and src.startswith("{{-", j) and j + 3 < n and src[j + 3] in _SPACE
            if trim_next:
                text = text.lstrip(_SPACE)
            if left_trim:
                text = text.rstrip(_SPACE)
            if text:
                self.tokens.append(_Tok("text", text, i, i + len(text)))
            if j < 0:
                break
            i = j + (4 if left_trim else 2)
            if src.startswith("/*", i):
                end = src.find("*/", i + 2)
                if end < 0:
                    raise self.fail(j, "unclosed comment")
                i = end + 2
                delim, trim_next, after = self._right_delim(i)
                if not delim:
                    raise self.fail(j, "comment ends before closing delimiter")
                i = after
                continue
            self.tokens.append(_Tok("left", "{{", j, i))
            i, trim_next = self._action(i)
        self.tokens.append(_Tok("eof", "", n, n))
        return self.tokens

    def _right_delim(self, i: int) -> tuple[bool, bool, int]:
        src = self.src
        if i + 1 < len(src) and src[i] in _SPACE and src.startswith("-}}", i + 1):
            return True, True, i + 4
        if src.startswith("}}", i):
            return True, False, i + 2
        return False, False, i

    def _action(self, i: int) -> tuple[int, bool]:
        src, n = self.src, len(self.src)
        depth = 0
        space = False
        while True:
            delim, trim, after = self._right_delim(i)
            if delim:
                if depth:
                    raise self.fail(i, "unclosed left paren")
                self.tokens.append(_Tok("right", "}}", i, after, space))
                return after, trim
            if i >= n:
                raise self.fail(i, "unclosed action")
            ch = src[i]
            if ch in _SPACE:
                while i < n and src[i] in _SPACE and not self._right_delim(i)[0]:
                    i += 1
                space = True
                continue
            start = i
            if src.startswith(":=", i):
                kind, i = "declare", i + 2
            elif ch == "=":
                kind, i = "assign", i + 1
            elif ch in "|(),":
                kind = {"|": "pipe", "(": "lparen", ")": "rparen", ",": "comma"}[ch]
                depth += 1 if ch == "(" else -1 if ch == ")" else 0
                if depth < 0:
                    raise self.fail(i, "unexpected right paren")
                i += 1
            elif ch in "\"'`":
                kind, i = self._quoted(i)
            elif ch == "$":
                m = _ALNUM.match(src, i + 1)
                kind, i = "var", m.end() if m else i + 1
            elif ch == "." and not (i + 1 < n and src[i + 1].isdigit()):
                m = _ALNUM.match(src, i + 1)
                end = m.end() if m else i + 1
                kind, i = ("field" if end > i + 1 else "dot"), end
            elif ch.isdigit() or (ch in "+-." and i + 1 < n and (src[i + 1].isdigit() or src[i + 1] == ".")):
                m = _NUMBER.match(src, i)
                if not m or m.end() == i:
                    raise self.fail(i, f"bad number syntax: {src[i : i + 10]!r}")
                kind, i = "number", m.end()
                if i < n and (src[i].isalnum() or src[i] == "_" or src[i] == "."):
                    raise self.fail(start, f"bad number syntax: {src[start : i + 1]!r}")
            elif ch.isalpha() or ch == "_":
                m = _ALNUM.match(src, i)
                i = m.end() if m else i + 1
                word = src[start:i]
                kind = "bool" if word in ("true", "false") else "nil" if word == "nil" else "ident"
            else:
                raise self.fail(i, f"unexpected {ch!r} in command")
            self.tokens.append(_Tok(kind, src[start:i], start, i, space))
            space = False

    def _quoted(self, i: int) -> tuple[str, int]:
        src, quote = self.src, self.src[i]
        j = i + 1
        while True:
            if j >= len(src) or (src[j] == "\n" and quote != "`"):
                raise self.fail(
                    i, "unterminated quoted string" if quote != "'" else "unterminated character constant"
                )
            if src[j] == "\\" and quote != "`":
                j += 2
                continue
            if src[j] == quote:
                break
            j += 1
        return {'"': "string", "`": "rawstring", "'": "char"}[quote], j + 1


# --- parse tree ------------------------------------------------------------------------------------------
@dataclass
class _Node:
    text: str  # the source of this node, for error messages


@dataclass
class Text(_Node):
    pass


@dataclass
class Field(_Node):
    names: tuple[str, ...]


@dataclass
class Variable(_Node):
    names: tuple[str, ...]  # ("$x", "field", ...)


@dataclass
class Chain(_Node):
    node: _Node
    names: tuple[str, ...]


@dataclass
class Dot(_Node):
    pass


@dataclass
class Nil(_Node):
    pass


@dataclass
class Literal(_Node):
    """A bool or string constant."""

    value: Any


@dataclass
class Number(_Node):
    is_int: bool
    is_float: bool
    int_value: int = 0
    float_value: float = 0.0
    is_rune: bool = False

    def ideal(self) -> Any:
        text = self.text.lower()
        if (
            self.is_float
            and not self.is_rune
            and not text.lstrip("+-").startswith("0x")
            and any(c in text for c in ".ep")
        ):
            return self.float_value
        if self.is_int:
            return self.int_value
        return self.float_value


@dataclass
class Identifier(_Node):
    name: str


@dataclass
class Command(_Node):
    args: list[_Node]


@dataclass
class Pipe(_Node):
    decl: list[str]
    is_assign: bool
    cmds: list[Command]


@dataclass
class Action(_Node):
    pipe: Pipe


@dataclass
class Branch(_Node):
    kind: str  # if, with, range
    pipe: Pipe
    body: list[_Node]
    orelse: list[_Node] = field(default_factory=list)


@dataclass
class Loop(_Node):
    kind: str  # break, continue


def _number(tok: _Tok) -> Number:
    text = tok.value
    if tok.kind == "char":
        value = _unquote(text[1:-1], "'")
        if len(value) != 1:
            raise TemplateParseError(f"malformed character constant: {text}")
        return Number(text, True, True, ord(value), float(ord(value)), is_rune=True)
    clean = text.replace("_", "")
    if clean.endswith("i"):
        raise UnsupportedTemplate(f"complex number constant {text} is not supported")
    is_int, int_value = False, 0
    try:
        body = clean.lstrip("+-")
        if re.fullmatch(r"0[0-7]+", body):
            int_value = int(clean.replace(body, "0o" + body[1:]), 0)
        else:
            int_value = int(clean, 0)
        is_int = True
    except ValueError:
        pass
    if is_int:
        return Number(text, True, True, int_value, float(int_value))
    try:
        float_value = float.fromhex(clean) if "x" in clean.lower() else float(clean)
    except ValueError:
        raise TemplateParseError(f"illegal number syntax: {text!r}") from None
    as_int = int(float_value) if float_value == int(float_value) else None
    return Number(text, as_int is not None, True, as_int or 0, float_value)


class _Parser:
    def __init__(self, src: str, funcs: Mapping[str, Func], lexer: _Lexer) -> None:
        self.src = src
        self.funcs = funcs
        self.lexer = lexer
        self.toks = lexer.run()
        self.pos = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0

    # token helpers
    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def next(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def fail(self, tok: _Tok, message: str) -> TemplateParseError:
        return TemplateParseError(f"line {self.lexer.line(tok.start)}: {message}")

    def expect(self, kind: str, context: str) -> _Tok:
        tok = self.next()
        if tok.kind != kind:
            raise self.fail(tok, f"unexpected {tok.value or 'EOF'!r} in {context}")
        return tok

    # structure
    def parse(self) -> list[_Node]:
        nodes, stop = self.list_until(())
        if stop is not None:
            raise self.fail(stop, f"unexpected {{{{{stop.value}}}}}")
        return nodes

    def list_until(self, stops: tuple[str, ...]) -> tuple[list[_Node], _Tok | None]:
        """Nodes up to `{{end}}`/`{{else}}` (returned as the stop token) or EOF."""
        nodes: list[_Node] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                if stops:
                    raise self.fail(tok, "unexpected EOF")
                return nodes, None
            if tok.kind == "text":
                nodes.append(Text(tok.value))
                continue
            word = self.peek()
            if word.kind == "ident" and word.value in ("end", "else"):
                if word.value not in stops:
                    raise self.fail(word, f"unexpected {{{{{word.value}}}}}")
                self.next()
                return nodes, word
            nodes.append(self.action(tok))

    def action(self, left: _Tok) -> _Node:
        word = self.peek()
        if word.kind == "ident" and word.value in _KEYWORDS:
            self.next()
            if word.value in ("if", "with", "range"):
                return self.branch(word.value, left)
            if word.value in ("break", "continue"):
                if not self.range_depth:
                    raise self.fail(word, f"{{{{{word.value}}}}} outside {{{{range}}}}")
                self.expect("right", word.value)
                return Loop(word.value, word.value)
            raise UnsupportedTemplate(
                f"line {self.lexer.line(word.start)}: {{{{{word.value}}}}} (named templates) is not supported"
            )
        pipe = self.pipeline("command", allow_decl=True)
        return Action(pipe.text, pipe)

    def branch(self, kind: str, left: _Tok) -> Branch:
        mark = len(self.vars)  # variables declared here live until our {{end}}
        pipe = self.pipeline(kind, allow_decl=True, two_vars=kind == "range")
        if not pipe.cmds:
            raise self.fail(left, f"missing value for {kind}")
        self.range_depth += kind == "range"
        body, stop = self.list_until(("end", "else"))
        self.range_depth -= kind == "range"
        orelse: list[_Node] = []
        assert stop is not None
        nxt = self.peek()
        if stop.value == "else" and kind in ("if", "with") and nxt.kind == "ident" and nxt.value == kind:
            # `{{else if ...}}` is an if inside the else branch; it consumes the shared {{end}}.
            self.next()
            orelse = [self.branch(kind, nxt)]
        elif stop.value == "else":
            self.expect("right", "else")
            orelse, _ = self.list_until(("end",))
            self.expect("right", "end")
        else:
            self.expect("right", "end")
        del self.vars[mark:]
        return Branch(kind, kind, pipe, body, orelse)

    def pipeline(self, context: str, allow_decl: bool = False, two_vars: bool = False) -> Pipe:
        start = self.peek()
        decl: list[str] = []
        is_assign = False
        if allow_decl and start.kind == "var":
            save = self.pos
            names = [self.next().value]
            if two_vars and self.peek().kind == "comma":
                self.next()
                second = self.next()
                if second.kind != "var":
                    raise self.fail(second, "range can only initialize variables")
                names.append(second.value)
            op = self.peek()
            if op.kind in ("declare", "assign"):
                self.next()
                is_assign = op.kind == "assign"
                for name in names:
                    if is_assign and name not in self.vars:
                        raise self.fail(op, f'undefined variable "{name}"')
                    if not is_assign:
                        self.vars.append(name)
                decl = names
            else:
                self.pos = save
        cmds: list[Command] = []
        end_kind = "rparen" if context == "paren" else "right"
        while True:
            tok = self.peek()
            if tok.kind == end_kind:
                self.next()
                break
            if tok.kind in ("right", "rparen", "eof"):
                raise self.fail(tok, f"unexpected {tok.value or 'EOF'!r} in {context}")
            cmds.append(self.command())
            sep = self.peek()
            if sep.kind == "pipe":
                self.next()
                if self.peek().kind in ("right", "rparen"):
                    raise self.fail(sep, "missing command after |")
        if context in ("command", "paren") and not cmds and not decl:
            raise self.fail(start, f"missing value for {context}")
        if decl and not cmds:
            raise self.fail(start, "missing value for declaration")
        end = self.toks[self.pos - 1].start
        return Pipe(self.src[start.start : end].strip(), decl, is_assign, cmds)

    def command(self) -> Command:
        args: list[_Node] = []
        first = self.peek()
        while True:
            node = self.operand()
            args.append(node)
            tok = self.peek()
            if tok.kind in ("right", "rparen", "pipe"):
                break
            if not tok.space:
                raise self.fail(tok, f"unexpected {tok.value!r} in operand")
        last = self.toks[self.pos - 1]
        return Command(self.src[first.start : last.end], args)

    def operand(self) -> _Node:
        start = self.peek()
        node = self.term()
        if self.peek().kind == "field" and not self.peek().space:
            names: list[str] = []
            while self.peek().kind == "field" and not self.peek().space:
                names.append(self.next().value[1:])
            text = self.src[start.start : self.toks[self.pos - 1].end]
            if isinstance(node, Field):
                return Field(text, node.names + tuple(names))
            if isinstance(node, Variable):
                return Variable(text, node.names + tuple(names))
            if isinstance(node, (Literal, Number, Nil, Dot)):
                raise self.fail(start, f"unexpected . after term {node.text!r}")
            return Chain(text, node, tuple(names))
        return node

    def term(self) -> _Node:
        tok = self.next()
        kind = tok.kind
        if kind == "ident":
            if tok.value in _KEYWORDS:
                raise self.fail(tok, f"unexpected keyword {tok.value!r} in command")
            if tok.value not in self.funcs and tok.value not in BUILTINS:
                raise self.fail(tok, f'function "{tok.value}" not defined')
            why = (self.funcs.get(tok.value) or BUILTINS[tok.value]).unsupported
            if why:
                raise UnsupportedTemplate(f"line {self.lexer.line(tok.start)}: {why}")
            return Identifier(tok.value, tok.value)
        if kind == "dot":
            return Dot(".")
        if kind == "nil":
            return Nil("nil")
        if kind == "var":
            if tok.value not in self.vars:
                raise self.fail(tok, f'undefined variable "{tok.value}"')
            return Variable(tok.value, (tok.value,))
        if kind == "field":
            return Field(tok.value, (tok.value[1:],))
        if kind == "bool":
            return Literal(tok.value, tok.value == "true")
        if kind in ("number", "char"):
            try:
                return _number(tok)
            except TemplateParseError as exc:
                raise self.fail(tok, str(exc)) from None
        if kind == "string":
            try:
                return Literal(tok.value, _unquote(tok.value[1:-1], '"'))
            except ValueError as exc:
                raise self.fail(tok, str(exc)) from None
        if kind == "rawstring":
            return Literal(tok.value, tok.value[1:-1].replace("\r", ""))
        if kind == "lparen":
            pipe = self.pipeline("paren")
            return pipe
        raise self.fail(tok, f"unexpected {tok.value or 'EOF'!r} in operand")


# --- execution -------------------------------------------------------------------------------------------
class _Break(Exception):
    pass


class _Continue(Exception):
    pass


_NO_FINAL = object()


def is_true(value: Any) -> bool:
    if value is None or value is MISSING:
        return False
    if isinstance(value, (bool, int, float)):
        return bool(value)
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True


class _State:
    def __init__(self, template: Template, missing_error: bool, missing_zero: bool) -> None:
        self.template = template
        self.funcs = template.funcs
        self.missing_error = missing_error
        self.missing_zero = missing_zero
        self.vars: list[tuple[str, Any]] = []
        self.out: list[str] = []
        self.node: _Node | None = None

    def fail(self, message: str) -> TemplateExecError:
        where = f" at <{self.node.text}>" if self.node is not None and self.node.text else ""
        return TemplateExecError(f"executing{where}: {message}")

    # variables
    def var(self, name: str) -> Any:
        for vname, value in reversed(self.vars):
            if vname == name:
                return value
        raise self.fail(f"undefined variable: {name}")

    def set_var(self, name: str, value: Any) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.fail(f"undefined variable: {name}")

    # walking
    def walk(self, dot: Any, nodes: Sequence[_Node]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.out.append(node.text)
            elif isinstance(node, Action):
                value = self.pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.node = node
                    self.out.append(gofmt.print_action(value))
            elif isinstance(node, Branch):
                self.branch(dot, node)
            elif isinstance(node, Loop):
                raise _Break() if node.kind == "break" else _Continue()

    def branch(self, dot: Any, node: Branch) -> None:
        mark = len(self.vars)
        try:
            if node.kind == "range":
                self.walk_range(dot, node)
                return
            value = self.pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.orelse:
                self.walk(dot, node.orelse)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: Branch) -> None:
        pipe = node.pipe
        value = self.pipeline(dot, Pipe(pipe.text, [], False, pipe.cmds))
        for name in pipe.decl if not pipe.is_assign else ():
            self.vars.append((name, value))
        items: list[tuple[Any, Any]]
        if isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, int) and not isinstance(value, bool):
            if len(pipe.decl) > 1:
                raise self.fail(f"can't use {value} to iterate over more than one variable")
            items = [(i, i) for i in range(value)]
        elif value is None or value is MISSING:
            items = []
        else:
            self.node = node.pipe
            raise self.fail(f"range can't iterate over {gofmt.sprint_value(value)}")
        if not items:
            if node.orelse:
                self.walk(dot, node.orelse)
            return
        mark = len(self.vars)
        for index, elem in items:
            if pipe.decl:
                if len(pipe.decl) == 1:
                    self._assign_or_top(pipe, 0, elem, 1)
                else:
                    self._assign_or_top(pipe, 0, index, 2)
                    self._assign_or_top(pipe, 1, elem, 1)
            try:
                self.walk(elem, node.body)
            except _Continue:
                pass
            except _Break:
                break
            finally:
                del self.vars[mark:]

    def _assign_or_top(self, pipe: Pipe, i: int, value: Any, from_top: int) -> None:
        if pipe.is_assign:
            self.set_var(pipe.decl[i], value)
        else:
            name = self.vars[-from_top][0]
            self.vars[-from_top] = (name, value)

    # pipelines
    def pipeline(self, dot: Any, pipe: Pipe) -> Any:
        value: Any = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.is_assign:
                self.set_var(name, value)
            else:
                self.vars.append((name, value))
        return value

    def command(self, dot: Any, cmd: Command, final: Any) -> Any:
        first = cmd.args[0]
        self.node = cmd
        if isinstance(first, Field):
            return self.field_chain(dot, dot, first.names, cmd.args, final)
        if isinstance(first, Chain):
            return self.chain(dot, first, cmd.args, final)
        if isinstance(first, Identifier):
            return self.call(dot, first, cmd.args[1:], final)
        if isinstance(first, Variable):
            return self.variable(dot, first, cmd.args, final)
        if isinstance(first, Pipe):
            self._no_args(cmd, final, first)
            return self.pipeline(dot, first)
        self._no_args(cmd, final, first)
        if isinstance(first, Dot):
            return dot
        if isinstance(first, Nil):
            raise self.fail("nil is not a command")
        if isinstance(first, Number):
            return first.ideal()
        if isinstance(first, Literal):
            return first.value
        raise self.fail(f"can't evaluate command {first.text!r}")

    def _no_args(self, cmd: Command, final: Any, first: _Node) -> None:
        if len(cmd.args) > 1 or final is not _NO_FINAL:
            raise self.fail(f"can't give argument to non-function {first.text}")

    def variable(self, dot: Any, node: Variable, args: Sequence[_Node], final: Any) -> Any:
        value = self.var(node.names[0])
        if len(node.names) == 1:
            self._no_args(Command(node.text, list(args)), final, node)
            return value
        return self.field_chain(dot, value, node.names[1:], args, final)

    def chain(self, dot: Any, node: Chain, args: Sequence[_Node], final: Any) -> Any:
        if isinstance(node.node, Pipe):
            receiver = self.pipeline(dot, node.node)
        elif isinstance(node.node, Identifier):
            receiver = self.call(dot, node.node, [], _NO_FINAL)
        else:
            raise self.fail(f"indirection through {node.node.text}")
        return self.field_chain(dot, receiver, node.names, args, final)

    def field_chain(
        self, dot: Any, receiver: Any, names: Sequence[str], args: Sequence[_Node], final: Any
    ) -> Any:
        for name in names[:-1]:
            receiver = self.field(name, receiver, False)
        has_args = len(args) > 1 or final is not _NO_FINAL
        return self.field(names[-1], receiver, has_args)

    def field(self, name: str, receiver: Any, has_args: bool) -> Any:
        if receiver is MISSING:
            if self.missing_error:
                raise self.fail(f'nil data; no entry for key "{name}"')
            return MISSING
        if receiver is None:
            raise self.fail(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, dict):
            if has_args:
                raise self.fail(f"{name} is not a method but has arguments")
            if name in receiver:
                return receiver[name]
            if self.missing_error:
                raise self.fail(f'map has no entry for key "{name}"')
            return None if self.missing_zero else MISSING
        raise self.fail(f"can't evaluate field {name} in type {gofmt.type_name(receiver)}")

    # functions
    def call(self, dot: Any, ident: Identifier, arg_nodes: Sequence[_Node], final: Any) -> Any:
        name = ident.name
        func = self.funcs.get(name) or BUILTINS[name]
        node = self.node
        if name in ("and", "or") and func is BUILTINS[name]:
            if not arg_nodes and final is _NO_FINAL:
                raise self.fail(f"wrong number of args for {name}: want at least 1 got 0")
            value: Any = MISSING
            for arg in arg_nodes:
                value = self.arg(dot, ANY, arg)
                if is_true(value) == (name == "or"):
                    return value
            if final is not _NO_FINAL:
                value = final
            return value
        n_in = len(arg_nodes) + (0 if final is _NO_FINAL else 1)
        fixed = len(func.params)
        if func.variadic is not None:
            if n_in < fixed:
                raise self.fail(f"wrong number of args for {name}: want at least {fixed} got {n_in}")
        elif n_in != fixed:
            raise self.fail(f"wrong number of args for {name}: want {fixed} got {n_in}")

        def kind(i: int) -> str:
            return func.params[i] if i < fixed else func.variadic or ANY

        argv = [self.arg(dot, kind(i), arg) for i, arg in enumerate(arg_nodes)]
        if final is not _NO_FINAL:
            argv.append(self.validate(final, kind(n_in - 1)))
        self.node = node
        try:
            return func.fn(*argv)
        except FuncError as exc:
            raise self.fail(f"error calling {name}: {exc}") from None
        except TemplateError:
            raise
        except (ValueError, TypeError, ZeroDivisionError, OverflowError, RecursionError) as exc:
            raise self.fail(f"error calling {name}: {exc}") from None

    def arg(self, dot: Any, kind: str, node: _Node) -> Any:
        self.node = node
        if isinstance(node, Dot):
            return self.validate(dot, kind)
        if isinstance(node, Nil):
            if kind in _NILLABLE:
                return None
            raise self.fail(f"cannot assign nil to {kind}")
        if isinstance(node, Field):
            return self.validate(self.field_chain(dot, dot, node.names, [node], _NO_FINAL), kind)
        if isinstance(node, Variable):
            return self.validate(self.variable(dot, node, [node], _NO_FINAL), kind)
        if isinstance(node, Pipe):
            return self.validate(self.pipeline(dot, node), kind)
        if isinstance(node, Identifier):
            return self.validate(self.call(dot, node, [], _NO_FINAL), kind)
        if isinstance(node, Chain):
            return self.validate(self.chain(dot, node, [node], _NO_FINAL), kind)
        if kind == ANY:
            return node.ideal() if isinstance(node, Number) else node.value  # type: ignore[attr-defined]
        if kind == BOOL and isinstance(node, Literal) and isinstance(node.value, bool):
            return node.value
        if kind == STRING and isinstance(node, Literal) and isinstance(node.value, str):
            return node.value
        if kind == INT and isinstance(node, Number) and node.is_int:
            return node.int_value
        if kind == FLOAT and isinstance(node, Number) and node.is_float:
            return node.float_value
        expected = {BOOL: "bool", STRING: "string", INT: "integer", FLOAT: "float"}.get(kind)
        if expected:
            raise self.fail(f"expected {expected}; found {node.text}")
        raise self.fail(f"can't handle {node.text} for arg of type {kind}")

    def validate(self, value: Any, kind: str) -> Any:
        if value is MISSING or value is _NO_FINAL:
            if kind in _NILLABLE:
                return None
            raise self.fail(f"invalid value; expected {kind}")
        if kind == ANY:
            return value
        ok = {
            STRING: isinstance(value, str),
            INT: isinstance(value, int) and not isinstance(value, (bool, Int64)),
            FLOAT: isinstance(value, float),
            BOOL: isinstance(value, bool),
            MAP: value is None or isinstance(value, dict),
            LIST: value is None or isinstance(value, (list, tuple)),
        }[kind]
        if not ok:
            got = "interface {}" if value is None else gofmt.type_name(value)
            raise self.fail(f"wrong type for value; expected {kind}; got {got}")
        return value


# --- builtins --------------------------------------------------------------------------------------------
_INT_KIND, _FLOAT_KIND, _STRING_KIND, _BOOL_KIND = "int", "float", "string", "bool"


def _basic_kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return _BOOL_KIND
    if isinstance(value, int):
        return _INT_KIND
    if isinstance(value, float):
        return _FLOAT_KIND
    if isinstance(value, str):
        return _STRING_KIND
    return None


def _eq(arg1: Any, *others: Any) -> bool:
    if not others:
        raise FuncError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in others:
        k2 = _basic_kind(arg)
        nil1, nil2 = arg1 is None or arg1 is MISSING, arg is None or arg is MISSING
        if k1 != k2:
            if nil1 or nil2:
                truth = nil1 and nil2
            else:
                raise FuncError("incompatible types for comparison")
        elif k1 is None:
            if nil1 or nil2:
                truth = nil1 and nil2
            else:
                raise FuncError(f"non-comparable type {gofmt.sprint_value(arg1)}: {gofmt.type_name(arg1)}")
        else:
            truth = arg1 == arg
        if truth:
            return True
    return False


def _ne(a: Any, b: Any) -> bool:
    return not _eq(a, b)


def _lt(a: Any, b: Any) -> bool:
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 is None or k1 == _BOOL_KIND:
        raise FuncError("invalid type for comparison")
    if k1 != k2:
        raise FuncError("incompatible types for comparison")
    return bool(a < b)


def _le(a: Any, b: Any) -> bool:
    return _lt(a, b) or _eq(a, b)


def _gt(a: Any, b: Any) -> bool:
    return not _le(a, b)


def _ge(a: Any, b: Any) -> bool:
    return not _lt(a, b)


def _not(value: Any) -> bool:
    return not is_true(value)


def _index(item: Any, *indexes: Any) -> Any:
    for index in indexes:
        if item is None or item is MISSING:
            raise FuncError("index of untyped nil")
        if isinstance(item, dict):
            if not isinstance(index, str):
                raise FuncError(f"value has type {gofmt.type_name(index)}; should be string")
            item = item.get(index)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(index, int) or isinstance(index, bool):
                raise FuncError(f"cannot index slice/array with type {gofmt.type_name(index)}")
            size = len(item.encode()) if isinstance(item, str) else len(item)
            if not 0 <= index < size:
                raise FuncError(f"index out of range: {index}")
            item = item.encode()[index] if isinstance(item, str) else item[index]
        else:
            raise FuncError(f"can't index item of type {gofmt.type_name(item)}")
    return item


def _len(item: Any) -> int:
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, (list, tuple, dict)):
        return len(item)
    if item is None or item is MISSING:
        raise FuncError("len of nil pointer")
    raise FuncError(f"len of type {gofmt.type_name(item)}")


def _printf(template: str, *args: Any) -> str:
    return gofmt.sprintf(template, args, UnsupportedTemplate)


def unsupported(name: str, why: str) -> Func:
    return Func(lambda *a: None, (), ANY, f'function "{name}" {why}')


BUILTINS: dict[str, Func] = {
    "and": Func(lambda *a: None, (ANY,), ANY),
    "or": Func(lambda *a: None, (ANY,), ANY),
    "not": Func(_not, (ANY,)),
    "eq": Func(_eq, (ANY,), ANY),
    "ne": Func(_ne, (ANY, ANY)),
    "lt": Func(_lt, (ANY, ANY)),
    "le": Func(_le, (ANY, ANY)),
    "gt": Func(_gt, (ANY, ANY)),
    "ge": Func(_ge, (ANY, ANY)),
    "index": Func(_index, (ANY,), ANY),
    "len": Func(_len, (ANY,)),
    "print": Func(lambda *a: gofmt.sprint(a), (), ANY),
    "println": Func(lambda *a: gofmt.sprintln(a), (), ANY),
    "printf": Func(_printf, (STRING,), ANY),
    **{
        name: unsupported(name, "is not supported by gitops-poc")
        for name in ("call", "html", "js", "urlquery", "slice")
    },
}


# --- public API ------------------------------------------------------------------------------------------
@dataclass
class Template:
    """A parsed template; `execute` runs it against generator parameters."""

    source: str
    funcs: Mapping[str, Func]
    nodes: list[_Node]

    @classmethod
    def parse(cls, source: str, funcs: Mapping[str, Func]) -> Template:
        lexer = _Lexer(source)
        template = cls(source, funcs, [])
        template.nodes = _Parser(source, funcs, lexer).parse()
        return template

    def execute(self, data: Any, *, missing_key: str = "default") -> str:
        """Render against `data`; missing_key is Go's option: default/invalid, zero, or error."""
        if missing_key not in ("default", "invalid", "zero", "error"):
            raise TemplateError(f'unrecognized option "missingkey={missing_key}"')
        state = _State(self, missing_key == "error", missing_key == "zero")
        state.vars.append(("$", data))
        state.walk(data, self.nodes)
        return "".join(state.out)
