"""Go values as Python data, printed the way Go's `fmt` and `encoding/json` print them.

Generator parameters reach ArgoCD's templates as JSON decoded into `interface{}`: objects are
`map[string]interface{}` (dict), arrays `[]interface{}` (list), every number a `float64` (float), null a nil
interface (None). Template constants give Go `int` (int); Sprig arithmetic gives `int64` (`Int64`). The
difference shows: `{{ .n }}` prints `1e+06` for a float64 million, and `printf "%d"` refuses a float64.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any


class Int64(int):
    """A Go `int64` (what Sprig's add/sub/mul/... return); a plain Python int is a Go `int`."""

    __slots__ = ()


class _Missing:
    """An invalid reflect.Value: what a missing map key yields without `missingkey=error`."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:  # noqa: PYI034 - a singleton
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<no value>"


MISSING = _Missing()
NO_VALUE = "<no value>"


def type_name(value: Any) -> str:
    """The Go type of a value, as Go's error messages spell it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, (list, tuple)):
        return "[]interface {}"
    if value is MISSING:
        return "<invalid>"
    return type(value).__name__


# --- numbers ----------------------------------------------------------------------------------------------
def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of |value| and the decimal point position (Go's `decimal` type)."""
    if value == 0:
        return "", 0
    _sign, digits, exponent = Decimal(repr(abs(value))).as_tuple()
    text = "".join(map(str, digits)).rstrip("0")
    point = len(digits) + int(exponent)
    stripped = text.lstrip("0")
    point -= len(text) - len(stripped)
    return stripped, point


def _exp_form(digits: str, point: int, letter: str = "e", min_exp_digits: int = 2) -> str:
    exp = point - 1 if digits else 0
    mantissa = (digits or "0")[0] + ("." + digits[1:] if len(digits) > 1 else "")
    sign = "-" if exp < 0 else "+"
    return f"{mantissa}{letter}{sign}{abs(exp):0{min_exp_digits}d}"


def _fixed_form(digits: str, point: int) -> str:
    if not digits:
        return "0"
    if point <= 0:
        return "0." + "0" * -point + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _special(value: float) -> str | None:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return None


def format_float(value: float) -> str:
    """Go's `%v` for a float64: shortest digits, exponent form when the exponent is < -4 or >= 6 (1e+06)."""
    special = _special(value)
    if special:
        return special
    digits, point = _shortest_digits(value)
    neg = "-" if math.copysign(1.0, value) < 0 else ""
    exp = point - 1
    if digits and (exp < -4 or exp >= 6):
        return neg + _exp_form(digits, point)
    return neg + _fixed_form(digits, point)


def json_float(value: float) -> str:
    """encoding/json's float64: plain digits unless the magnitude is < 1e-6 or >= 1e21."""
    if _special(value):
        raise ValueError(f"json: unsupported value: {_special(value)}")
    digits, point = _shortest_digits(value)
    neg = "-" if value < 0 else ""
    if digits and (abs(value) < 1e-6 or abs(value) >= 1e21):
        return neg + _exp_form(digits, point, min_exp_digits=1)
    return neg + _fixed_form(digits, point)


# --- %v -------------------------------------------------------------------------------------------------
def basic_text(value: Any, nil: str, float_text: Callable[[float], str]) -> str | None:
    """The text of nil, bool, int and float values, as each printer spells nil and floats; None otherwise."""
    if value is None or value is MISSING:
        return nil
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return float_text(value)
    return None


def sprint_value(value: Any) -> str:
    """fmt's `%v` of one value inside a container (nil prints `<nil>`)."""
    if isinstance(value, str):
        return value
    if value is MISSING:
        return NO_VALUE
    text = basic_text(value, "<nil>", format_float)
    if text is not None:
        return text
    if isinstance(value, dict):
        return "map[" + " ".join(f"{sprint_value(k)}:{sprint_value(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(sprint_value(v) for v in value) + "]"
    return str(value)


def print_action(value: Any) -> str:
    """What `{{ pipeline }}` writes: a nil interface is dug out to an invalid value, printed `<no value>`."""
    if value is None or value is MISSING:
        return NO_VALUE
    return sprint_value(value)


def sprint(args: Sequence[Any]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if i > 0 and not isinstance(arg, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(arg))
    return "".join(out)


def sprintln(args: Sequence[Any]) -> str:
    return " ".join(sprint_value(a) for a in args) + "\n"


# --- strconv.Quote ---------------------------------------------------------------------------------------
_ESCAPES = {
    "\a": r"\a",
    "\b": r"\b",
    "\f": r"\f",
    "\n": r"\n",
    "\r": r"\r",
    "\t": r"\t",
    "\v": r"\v",
    "\\": "\\\\",
    '"': '\\"',
}


def go_quote(text: str) -> str:
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == " " or ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


# --- encoding/json ---------------------------------------------------------------------------------------
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


def _json_string(text: str, escape_html: bool) -> str:
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        elif escape_html and ch in _HTML_ESCAPES:
            out.append(_HTML_ESCAPES[ch])
        elif code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_json(value: Any, *, escape_html: bool = True, indent: str | None = None, _level: int = 0) -> str:
    """json.Marshal (keys sorted, HTML characters escaped) or json.MarshalIndent(v, "", indent)."""
    text = basic_text(value, "null", json_float)
    if text is not None:
        return text
    if isinstance(value, str):
        return _json_string(value, escape_html)
    if isinstance(value, (dict, list, tuple)):
        items: list[str]
        if isinstance(value, dict):
            items = [
                _json_string(str(k), escape_html)
                + (": " if indent is not None else ":")
                + to_json(value[k], escape_html=escape_html, indent=indent, _level=_level + 1)
                for k in sorted(value)
            ]
            open_, close_ = "{", "}"
        else:
            items = [to_json(v, escape_html=escape_html, indent=indent, _level=_level + 1) for v in value]
            open_, close_ = "[", "]"
        if not items:
            return open_ + close_
        if indent is None:
            return open_ + ",".join(items) + close_
        inner = "\n" + indent * (_level + 1)
        return open_ + inner + ("," + inner).join(items) + "\n" + indent * _level + close_
    raise ValueError(f"json: unsupported type: {type_name(value)}")


# --- fmt.Sprintf -----------------------------------------------------------------------------------------
_SPEC = re.compile(r"%([-+# 0]*)(\*|[0-9]+)?(?:\.(\*|[0-9]*))?(.)", re.DOTALL)


class _Spec:
    __slots__ = ("minus", "plus", "prec", "sharp", "space", "verb", "width", "zero")

    def __init__(self, flags: str, width: int | None, prec: int | None, verb: str) -> None:
        self.minus, self.plus, self.sharp = "-" in flags, "+" in flags, "#" in flags
        self.space, self.zero = " " in flags, "0" in flags and "-" not in flags
        self.width, self.prec, self.verb = width, prec, verb


def _pad(text: str, spec: _Spec, *, numeric: bool = False) -> str:
    if spec.width is None or len(text) >= spec.width:
        return text
    fill = spec.width - len(text)
    if spec.minus:
        return text + " " * fill
    if spec.zero:
        if numeric and text[:1] in "+- ":
            return text[0] + "0" * fill + text[1:]
        return "0" * fill + text
    return " " * fill + text


def _bad(spec: _Spec, value: Any) -> str:
    if value is None:
        return f"%!{spec.verb}(<nil>)"
    return f"%!{spec.verb}({type_name(value)}={sprint_value(value)})"


def _fmt_int(value: int, spec: _Spec) -> str:
    verb = spec.verb
    if verb == "c":
        return _pad(chr(value), spec)
    if verb == "q":
        return _pad("'" + go_quote(chr(value))[1:-1].replace("'", "\\'") + "'", spec)
    if verb == "U":
        return _pad(f"U+{value:04X}", spec)
    base = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}.get(verb)
    if base is None:
        return _bad(spec, value)
    digits = format(abs(value), {2: "b", 8: "o", 10: "d", 16: "x" if verb != "X" else "X"}[base])
    if spec.prec is not None:
        digits = digits.zfill(spec.prec) if spec.prec or value else ""
    prefix = ""
    if spec.sharp or verb == "O":
        prefix = {2: "0b", 8: "0" if verb == "o" else "0o", 16: "0x" if verb == "x" else "0X"}.get(base, "")
    sign = "-" if value < 0 else "+" if spec.plus else " " if spec.space else ""
    text = sign + prefix + digits
    if spec.zero and spec.prec is None and spec.width and not spec.minus:
        fill = spec.width - len(text)
        if fill > 0:
            text = sign + prefix + "0" * fill + digits
    return _pad(text, spec)


def _fmt_float(value: float, spec: _Spec) -> str:
    verb = spec.verb
    if verb not in "vbeEfFgGxX" or verb in "bxX":
        return _bad(spec, value)
    special = _special(value)
    if special:
        text = special if special != "+Inf" or spec.plus else "Inf" if not spec.plus else "+Inf"
        return _pad(text, spec)
    if verb in "vgG" and spec.prec is None:
        text = format_float(value)
        if verb == "G":
            text = text.upper()
    else:
        prec = 6 if spec.prec is None else spec.prec
        text = format(value, f".{prec}{'f' if verb == 'F' else verb}")
    if spec.plus and not text.startswith("-"):
        text = "+" + text
    elif spec.space and not text.startswith("-"):
        text = " " + text
    return _pad(text, spec, numeric=True)


def _fmt_str(value: str, spec: _Spec) -> str:
    verb = spec.verb
    if verb in "sv":
        text = value if spec.prec is None else value[: spec.prec]
    elif verb == "q":
        text = go_quote(value)
    elif verb in "xX":
        data = value.encode()
        sep = " " if spec.space else ""
        text = sep.join(format(b, "02x" if verb == "x" else "02X") for b in data)
    else:
        return _bad(spec, value)
    return _pad(text, spec)


def format_one(value: Any, spec: _Spec) -> str:
    if isinstance(value, bool):
        return _pad("true" if value else "false", spec) if spec.verb in "tv" else _bad(spec, value)
    if isinstance(value, int):
        return _fmt_int(value, spec)
    if isinstance(value, float):
        return _fmt_float(value, spec)
    if isinstance(value, str):
        return _fmt_str(value, spec)
    if value is None or value is MISSING:
        return _pad("<nil>", spec) if spec.verb == "v" else _bad(spec, None)
    if isinstance(value, dict):
        inner = " ".join(f"{format_one(k, spec)}:{format_one(value[k], spec)}" for k in sorted(value))
        return "map[" + inner + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_one(v, spec) for v in value) + "]"
    return _bad(spec, value)


def sprintf(template: str, args: Sequence[Any], unsupported: Callable[[str], Exception]) -> str:
    """fmt.Sprintf for the verbs templates use; `%!verb(type=value)` for mismatches, as Go prints them."""
    out: list[str] = []
    pos = 0
    used = 0
    while True:
        start = template.find("%", pos)
        if start < 0:
            out.append(template[pos:])
            break
        out.append(template[pos:start])
        if template.startswith("%%", start):
            out.append("%")
            pos = start + 2
            continue
        match = _SPEC.match(template, start)
        if match is None:
            out.append("%!(NOVERB)")
            break
        flags, width, prec, verb = match.groups()
        if width == "*" or prec == "*" or verb == "[":
            raise unsupported("printf with '*' width/precision or explicit argument indexes")
        spec = _Spec(
            flags,
            int(width) if width else None,
            (int(prec) if prec else 0) if prec is not None else None,
            verb,
        )
        pos = match.end()
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        value = args[used]
        used += 1
        if verb == "T":
            out.append(_pad(type_name(value) if value is not None else "<nil>", spec))
        elif verb not in "vdsqtfFeEgGxXobcUO":
            out.append(_bad(spec, value))
        else:
            out.append(format_one(value, spec))
    if used < len(args):
        extra = ", ".join(
            f"{type_name(a)}={sprint_value(a)}" if a is not None else "<nil>" for a in args[used:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)
