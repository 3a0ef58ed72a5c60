"""The functions ArgoCD gives `goTemplate` ApplicationSets: Sprig (minus env, expandenv, getHostByName) plus
ArgoCD's normalize, toYaml, fromYaml and fromYamlArray.

Each function keeps Sprig's argument order (`trimSuffix "-x" .s`, `replace "a" "b" .s`) and Go signature, so a
float64 parameter passed where Sprig wants an int fails here as it fails in ArgoCD. Sprig functions not
implemented here, and those whose result changes on every run (dates, random values), are refused with a
clear message when the template is parsed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import zlib
from collections.abc import Callable
from typing import Any

from gitops_poc.argocd import gofmt, goyaml
from gitops_poc.argocd.gofmt import MISSING, Int64
from gitops_poc.argocd.gotemplate import ANY, BOOL, INT, MAP, STRING, Func, FuncError, unsupported
from gitops_poc.digits import is_natural


# --- conversions (Sprig's strval/strslice and spf13/cast) -------------------------------------------------
def strval(value: Any) -> str:
    if isinstance(value, str):
        return value
    return gofmt.sprint_value(None if value is MISSING else value)


def strslice(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [strval(v) for v in value if v is not None]
    if value is None or value is MISSING:
        return []
    return [strval(value)]


def _trim_zero_decimal(text: str) -> str:
    match = re.fullmatch(r"([+-]?[0-9]+)\.0*", text)
    return match.group(1) if match else text


def to_int64(value: Any) -> Int64:
    if isinstance(value, bool):
        return Int64(1 if value else 0)
    if isinstance(value, int):
        return Int64(value)
    if isinstance(value, float):
        return Int64(int(value)) if math.isfinite(value) else Int64(0)
    if isinstance(value, str):
        text = _trim_zero_decimal(value)
        try:
            body = text.lstrip("+-")
            if re.fullmatch(r"0[0-7]+", body):
                return Int64(int(text.replace(body, "0o" + body[1:]), 0))
            if "_" in text or text.strip() != text:
                return Int64(0)
            return Int64(int(text, 0))
        except ValueError:
            return Int64(0)
    return Int64(0)


def to_float64(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value) if value.strip() == value else 0.0
        except ValueError:
            return 0.0
    return 0.0


def _list(value: Any, func: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    raise FuncError(f"Cannot {func} on type {gofmt.type_name(value)}")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- defaults --------------------------------------------------------------------------------------------
def empty(value: Any) -> bool:
    if value is None or value is MISSING:
        return True
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) == 0
    if isinstance(value, (bool, int, float)):
        return not value
    return False


def default(fallback: Any, *given: Any) -> Any:
    if not given or empty(given[0]):
        return fallback
    return given[0]


def coalesce(*values: Any) -> Any:
    return next((v for v in values if not empty(v)), None)


# --- strings ---------------------------------------------------------------------------------------------
def _go_bytes_slice(text: str, start: int | None, end: int | None) -> str:
    data = text.encode()
    size = len(data)
    lo = 0 if start is None else start
    hi = size if end is None else end
    if not 0 <= lo <= hi <= size:
        raise FuncError(f"runtime error: slice bounds out of range [{lo}:{hi}] with length {size}")
    return data[lo:hi].decode(errors="replace")


def trunc(count: int, text: str) -> str:
    size = len(text.encode())
    if count < 0 and size + count > 0:
        return _go_bytes_slice(text, size + count, None)
    if count >= 0 and size > count:
        return _go_bytes_slice(text, None, count)
    return text


def substr(start: int, end: int, text: str) -> str:
    if start < 0:
        return _go_bytes_slice(text, None, end)
    if end < 0 or end > len(text.encode()):
        return _go_bytes_slice(text, start, None)
    return _go_bytes_slice(text, start, end)


def title(text: str) -> str:
    # strings.Title: upper-case the first letter after any separator (not a letter, digit or underscore).
    out, prev_sep = [], True
    for ch in text:
        out.append(ch.upper() if prev_sep else ch)
        prev_sep = not (ch.isalnum() or ch == "_")
    return "".join(out)


def untitle(text: str) -> str:
    out, start = [], True
    for ch in text:
        out.append(ch.lower() if start and ch.isalpha() else ch)
        start = ch.isspace()
    return "".join(out)


def go_split(sep: str, text: str, limit: int = -1) -> list[str]:
    if sep == "":
        chars = list(text)
        if 0 < limit < len(chars):
            chars = chars[: limit - 1] + ["".join(chars[limit - 1 :])]
        return chars if limit != 0 else []
    if limit == 0:
        return []
    return text.split(sep, limit - 1) if limit > 0 else text.split(sep)


def indent(spaces: int, text: str) -> str:
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def quote(*values: Any) -> str:
    return " ".join(gofmt.go_quote(strval(v)) for v in values if v is not None)


def squote(*values: Any) -> str:
    return " ".join(f"'{strval(v)}'" for v in values if v is not None)


def b64dec(text: str) -> str:
    try:
        return base64.b64decode(text.encode(), validate=True).decode(errors="replace")
    except (binascii.Error, ValueError) as exc:
        return f"illegal base64 data: {exc}"


# --- regular expressions (Go RE2 syntax is close enough to Python's for the constructs it shares) ------
def _compile(pattern: str) -> re.Pattern[str]:
    if re.search(r"\\[zpPQE]|\[\[:", pattern):
        raise FuncError(f"regular expression {pattern!r} uses RE2 syntax that gitops-poc does not translate")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise FuncError(f"error parsing regexp: {exc}") from None


def _go_name_end(text: str, start: int) -> int:
    """Where a group name from `start` ends (Go's Regexp.Expand: Unicode letters, decimal digits, '_')."""
    end = start
    while end < len(text) and (text[end].isalpha() or text[end].isdecimal() or text[end] == "_"):
        end += 1
    return end


def _expand(match: re.Match[str], template: str) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$; unknown groups expand to nothing."""
    out, i = [], 0
    while i < len(template):
        ch = template[i]
        if ch != "$" or i + 1 >= len(template):
            out.append(ch)
            i += 1
            continue
        if template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        braced = template[i + 1] == "{"
        start = i + 2 if braced else i + 1
        end = _go_name_end(template, start)
        if end == start or (braced and template[end : end + 1] != "}"):
            out.append("$")  # malformed: Go keeps the '$' as text
            i += 1
            continue
        name = template[start:end]
        try:
            # a number only in ASCII digits (Go's rule); '١' is a name, and int() would crash on '²'
            group = match.group(int(name)) if is_natural(name) else match.group(name)
        except IndexError:
            group = None
        out.append(group or "")
        i = end + 1 if braced else end
    return "".join(out)


def regex_replace_all(pattern: str, text: str, repl: str) -> str:
    return _compile(pattern).sub(lambda m: _expand(m, repl), text)


def regex_find_all(pattern: str, text: str, n: int) -> list[Any]:
    found = [m.group(0) for m in _compile(pattern).finditer(text)]
    return found if n < 0 else found[:n]


def regex_split(pattern: str, text: str, n: int) -> list[Any]:
    if n == 0:
        return []
    parts = _compile(pattern).split(text, maxsplit=max(n - 1, 0))
    return parts


def regex_match(pattern: str, text: str) -> bool:
    try:
        return _compile(pattern).search(text) is not None
    except FuncError:
        return False


# --- lists and dicts -------------------------------------------------------------------------------------
def push(items: Any, value: Any) -> list[Any]:
    return _list(items, "push") + [value]


def prepend(items: Any, value: Any) -> list[Any]:
    return [value] + _list(items, "prepend")


def first(items: Any) -> Any:
    values = _list(items, "find first")
    return values[0] if values else None


def last(items: Any) -> Any:
    values = _list(items, "find last")
    return values[-1] if values else None


def uniq(items: Any) -> list[Any]:
    out: list[Any] = []
    for v in _list(items, "uniq"):
        if not any(_deep_equal(v, o) for o in out):
            out.append(v)
    return out


def _deep_equal(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    return any(_deep_equal(needle, v) for v in _list(haystack, "find has"))


def without(items: Any, *omit: Any) -> list[Any]:
    return [v for v in _list(items, "find without") if not any(_deep_equal(v, o) for o in omit)]


def concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for items in lists:
        out.extend(_list(items, "concat"))
    return out


def sort_alpha(items: Any) -> list[Any]:
    if isinstance(items, (list, tuple)):
        return sorted(strslice(items), key=lambda s: s.encode())
    return [strval(items)]


def make_dict(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        out[strval(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


def dig(*args: Any) -> Any:
    if len(args) < 3:
        raise FuncError("dig needs at least three arguments")
    *keys, fallback, data = args
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or strval(key) not in node:
            return fallback
        node = node[strval(key)]
    return node


def _merge_into(dst: dict[str, Any], src: dict[str, Any], override: bool) -> None:
    # mergo: fill keys the destination lacks (or holds empty); with override, non-empty source values win.
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge_into(dst[key], value, override)
        elif key not in dst or empty(dst[key]) or (override and not empty(value)):
            dst[key] = value


def merge(dst: Any, *srcs: Any) -> dict[str, Any]:
    target = _dict(dst)
    for src in srcs:
        _merge_into(target, _dict(src), False)
    return target


def merge_overwrite(dst: Any, *srcs: Any) -> dict[str, Any]:
    target = _dict(dst)
    for src in srcs:
        _merge_into(target, _dict(src), True)
    return target


# --- numbers ---------------------------------------------------------------------------------------------
def _go_div(a: int, b: int) -> Int64:
    if b == 0:
        raise FuncError("runtime error: integer divide by zero")
    quotient = abs(a) // abs(b)
    return Int64(quotient if (a >= 0) == (b >= 0) else -quotient)


def _go_mod(a: int, b: int) -> Int64:
    if b == 0:
        raise FuncError("runtime error: integer divide by zero")
    return Int64(a - _go_div(a, b) * b)


def atoi(text: str) -> int:
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else 0


# --- paths (Go's path package, not the OS's) -------------------------------------------------------------
def path_clean(path: str) -> str:
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    return ("/" + cleaned) if rooted else (cleaned or ".")


def path_base(path: str) -> str:
    if path == "":
        return "."
    path = path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else "/"


def path_dir(path: str) -> str:
    head = path[: path.rfind("/") + 1]
    return path_clean(head)


def path_ext(path: str) -> str:
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "/":
            break
        if path[i] == ".":
            return path[i:]
    return ""


# --- ArgoCD's additions ----------------------------------------------------------------------------------
def normalize(name: str) -> str:
    """ArgoCD's SanitizeName: lower-case, anything but [-a-z0-9.] becomes '-', 253 chars, trimmed of '-.'."""
    name = re.sub(r"[^-a-z0-9.]", "-", name.lower())
    return name.encode()[:253].decode(errors="ignore").strip("-.")


def to_yaml(value: Any) -> str:
    return goyaml.dump(value).removesuffix("\n")


def from_yaml(text: str) -> dict[str, Any]:
    data = goyaml.load_json_like(text)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FuncError(f"error unmarshaling JSON: cannot unmarshal {gofmt.type_name(data)} into map")
    return data


def from_yaml_array(text: str) -> list[Any]:
    data = goyaml.load_json_like(text)
    if data is None:
        return []
    if not isinstance(data, list):
        raise FuncError(f"error unmarshaling JSON: cannot unmarshal {gofmt.type_name(data)} into array")
    return data


def from_json(text: str) -> Any:
    try:
        return json.loads(text, parse_int=float)
    except ValueError:
        return None


def must_from_json(text: str) -> Any:
    try:
        return json.loads(text, parse_int=float)
    except ValueError as exc:
        raise FuncError(str(exc)) from None


def _kind(value: Any) -> str:
    if value is None or value is MISSING:
        return "invalid"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, (list, tuple)):
        return "slice"
    return gofmt.type_name(value)


def _fail(message: str) -> str:
    raise FuncError(message)


def _json(escape_html: bool, indent: str | None) -> Callable[[Any], str]:
    def encode(value: Any) -> str:
        try:
            return gofmt.to_json(value, escape_html=escape_html, indent=indent)
        except ValueError:
            return ""

    return encode


def _hash(algorithm: str) -> Callable[[str], str]:
    return lambda text: hashlib.new(algorithm, text.encode()).hexdigest()


S, I, A = STRING, INT, ANY  # noqa: E741 - S, I, A read as a signature table below
IMPLEMENTED: dict[str, Func] = {
    # strings
    "upper": Func(str.upper, (S,)),
    "lower": Func(str.lower, (S,)),
    "title": Func(title, (S,)),
    "untitle": Func(untitle, (S,)),
    "trim": Func(lambda s: s.strip(" \t\n\r\v\f\x85\xa0"), (S,)),
    "trimAll": Func(lambda cut, s: s.strip(cut), (S, S)),
    "trimall": Func(lambda cut, s: s.strip(cut), (S, S)),
    "trimSuffix": Func(lambda suf, s: s.removesuffix(suf), (S, S)),
    "trimPrefix": Func(lambda pre, s: s.removeprefix(pre), (S, S)),
    "trunc": Func(trunc, (I, S)),
    "substr": Func(substr, (I, I, S)),
    "repeat": Func(lambda n, s: s * max(n, 0) if n >= 0 else _fail("strings: negative Repeat count"), (I, S)),
    "replace": Func(lambda old, new, s: s.replace(old, new), (S, S, S)),
    "contains": Func(lambda sub, s: sub in s, (S, S)),
    "hasPrefix": Func(lambda pre, s: s.startswith(pre), (S, S)),
    "hasSuffix": Func(lambda suf, s: s.endswith(suf), (S, S)),
    "nospace": Func(lambda s: "".join(s.split()), (S,)),
    "quote": Func(quote, (), A),
    "squote": Func(squote, (), A),
    "cat": Func(lambda *v: " ".join(strval(x) for x in v if x is not None), (), A),
    "indent": Func(indent, (I, S)),
    "nindent": Func(lambda n, s: "\n" + indent(n, s), (I, S)),
    "plural": Func(lambda one, many, n: one if n == 1 else many, (S, S, I)),
    "split": Func(lambda sep, s: {f"_{i}": p for i, p in enumerate(go_split(sep, s))}, (S, S)),
    "splitn": Func(lambda sep, n, s: {f"_{i}": p for i, p in enumerate(go_split(sep, s, n))}, (S, I, S)),
    "splitList": Func(lambda sep, s: go_split(sep, s), (S, S)),
    "join": Func(lambda sep, v: sep.join(strslice(v)), (S, A)),
    "toString": Func(strval, (A,)),
    "toStrings": Func(strslice, (A,)),
    "sha256sum": Func(_hash("sha256"), (S,)),
    "sha1sum": Func(_hash("sha1"), (S,)),
    "adler32sum": Func(lambda s: str(zlib.adler32(s.encode())), (S,)),
    "b64enc": Func(lambda s: base64.b64encode(s.encode()).decode(), (S,)),
    "b64dec": Func(b64dec, (S,)),
    "b32enc": Func(lambda s: base64.b32encode(s.encode()).decode(), (S,)),
    # regular expressions
    "regexMatch": Func(regex_match, (S, S)),
    "mustRegexMatch": Func(lambda p, s: _compile(p).search(s) is not None, (S, S)),
    "regexFind": Func(lambda p, s: m.group(0) if (m := _compile(p).search(s)) else "", (S, S)),
    "regexFindAll": Func(regex_find_all, (S, S, I)),
    "regexReplaceAll": Func(regex_replace_all, (S, S, S)),
    "regexReplaceAllLiteral": Func(lambda p, s, r: _compile(p).sub(lambda _m: r, s), (S, S, S)),
    "regexSplit": Func(regex_split, (S, S, I)),
    "regexQuoteMeta": Func(lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s), (S,)),
    # defaults, flow, encoding
    "default": Func(default, (A,), A),
    "empty": Func(empty, (A,)),
    "coalesce": Func(coalesce, (), A),
    "ternary": Func(lambda vt, vf, v: vt if v else vf, (A, A, BOOL)),
    "all": Func(lambda *v: all(not empty(x) for x in v), (), A),
    "any": Func(lambda *v: any(not empty(x) for x in v), (), A),
    "fail": Func(_fail, (S,)),
    "toJson": Func(_json(True, None), (A,)),
    "toRawJson": Func(_json(False, None), (A,)),
    "toPrettyJson": Func(_json(True, "  "), (A,)),
    "mustToJson": Func(lambda v: gofmt.to_json(v), (A,)),
    "fromJson": Func(from_json, (S,)),
    "mustFromJson": Func(must_from_json, (S,)),
    "typeOf": Func(lambda v: "<nil>" if v is None or v is MISSING else gofmt.type_name(v), (A,)),
    "kindOf": Func(_kind, (A,)),
    "kindIs": Func(lambda k, v: _kind(v) == k, (S, A)),
    "typeIs": Func(lambda t, v: gofmt.type_name(v) == t, (S, A)),
    "deepEqual": Func(_deep_equal, (A, A)),
    # numbers
    "atoi": Func(atoi, (S,)),
    "int": Func(lambda v: int(to_int64(v)), (A,)),
    "int64": Func(to_int64, (A,)),
    "float64": Func(to_float64, (A,)),
    "add": Func(lambda *v: Int64(sum(to_int64(x) for x in v)), (), A),
    "add1": Func(lambda v: Int64(to_int64(v) + 1), (A,)),
    "sub": Func(lambda a, b: Int64(to_int64(a) - to_int64(b)), (A, A)),
    "mul": Func(lambda a, *v: Int64(math.prod([to_int64(a), *(to_int64(x) for x in v)])), (A,), A),
    "div": Func(lambda a, b: _go_div(to_int64(a), to_int64(b)), (A, A)),
    "mod": Func(lambda a, b: _go_mod(to_int64(a), to_int64(b)), (A, A)),
    "max": Func(lambda a, *v: Int64(max([to_int64(a), *(to_int64(x) for x in v)])), (A,), A),
    "biggest": Func(lambda a, *v: Int64(max([to_int64(a), *(to_int64(x) for x in v)])), (A,), A),
    "min": Func(lambda a, *v: Int64(min([to_int64(a), *(to_int64(x) for x in v)])), (A,), A),
    "floor": Func(lambda v: float(math.floor(to_float64(v))), (A,)),
    "ceil": Func(lambda v: float(math.ceil(to_float64(v))), (A,)),
    "until": Func(lambda n: list(range(n)) if n >= 0 else list(range(0, n, -1)), (I,)),
    "untilStep": Func(lambda a, b, s: list(range(a, b, s)) if s else [], (I, I, I)),
    # lists
    "list": Func(lambda *v: list(v), (), A),
    "tuple": Func(lambda *v: list(v), (), A),
    "append": Func(push, (A, A)),
    "push": Func(push, (A, A)),
    "prepend": Func(prepend, (A, A)),
    "first": Func(first, (A,)),
    "last": Func(last, (A,)),
    "rest": Func(lambda v: _list(v, "find rest")[1:], (A,)),
    "initial": Func(lambda v: _list(v, "find initial")[:-1], (A,)),
    "reverse": Func(lambda v: _list(v, "find reverse")[::-1], (A,)),
    "uniq": Func(uniq, (A,)),
    "compact": Func(lambda v: [x for x in _list(v, "compact") if not empty(x)], (A,)),
    "has": Func(has, (A, A)),
    "without": Func(without, (A,), A),
    "concat": Func(concat, (), A),
    "sortAlpha": Func(sort_alpha, (A,)),
    # dicts (keys/values: Go iterates maps in random order; gitops-poc sorts, one of ArgoCD's possible
    # answers)
    "dict": Func(make_dict, (), A),
    "get": Func(lambda d, k: (d or {}).get(k, ""), (MAP, S)),
    "set": Func(lambda d, k, v: (d.__setitem__(k, v), d)[1], (MAP, S, A)),
    "unset": Func(lambda d, k: (d.pop(k, None), d)[1], (MAP, S)),
    "hasKey": Func(lambda d, k: k in (d or {}), (MAP, S)),
    "pluck": Func(lambda k, *ds: [d[k] for d in ds if d and k in d], (S,), MAP),
    "keys": Func(lambda *ds: sorted({k for d in ds if d for k in d}), (), MAP),
    "values": Func(lambda d: [(d or {})[k] for k in sorted(d or {})], (MAP,)),
    "pick": Func(lambda d, *ks: {k: d[k] for k in ks if d and k in d}, (MAP,), S),
    "omit": Func(lambda d, *ks: {k: v for k, v in (d or {}).items() if k not in ks}, (MAP,), S),
    "dig": Func(dig, (), A),
    "merge": Func(merge, (MAP,), MAP),
    "mergeOverwrite": Func(merge_overwrite, (MAP,), MAP),
    # paths
    "base": Func(path_base, (S,)),
    "dir": Func(path_dir, (S,)),
    "clean": Func(path_clean, (S,)),
    "ext": Func(path_ext, (S,)),
    "isAbs": Func(lambda p: p.startswith("/"), (S,)),
    # ArgoCD's own
    "normalize": Func(normalize, (S,)),
    "toYaml": Func(to_yaml, (A,)),
    "fromYaml": Func(from_yaml, (S,)),
    "fromYamlArray": Func(from_yaml_array, (S,)),
}

# Results that differ on every run: a plan cannot predict what ArgoCD will generate.
NONDETERMINISTIC = [
    "ago",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "htmlDate",
    "htmlDateInZone",
    "must_date_modify",
    "mustDateModify",
    "now",
    "unixEpoch",
    "randAlphaNum",
    "randAlpha",
    "randAscii",
    "randNumeric",
    "randBytes",
    "randInt",
    "shuffle",
    "uuidv4",
    "genPrivateKey",
    "genCA",
    "genCAWithKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "buildCustomCert",
    "encryptAES",
    "bcrypt",
    "htpasswd",
]

# Every other function ArgoCD offers (Sprig v3 and ArgoCD's additions).
NOT_IMPLEMENTED = [
    "hello",
    "duration",
    "durationRound",
    "mustToDate",
    "toDate",
    "abbrev",
    "abbrevboth",
    "initials",
    "randSeededNumeric",
    "swapcase",
    "snakecase",
    "camelcase",
    "kebabcase",
    "wrap",
    "wrapWith",
    "seq",
    "toDecimal",
    "add1f",
    "addf",
    "subf",
    "divf",
    "mulf",
    "maxf",
    "minf",
    "round",
    "mustCompact",
    "mustToPrettyJson",
    "mustToRawJson",
    "deepCopy",
    "mustDeepCopy",
    "typeIsLike",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "b32dec",
    "mustMerge",
    "mustMergeOverwrite",
    "mustAppend",
    "mustPush",
    "mustPrepend",
    "mustFirst",
    "mustRest",
    "mustLast",
    "mustInitial",
    "mustReverse",
    "mustUniq",
    "mustWithout",
    "mustHas",
    "slice",
    "mustSlice",
    "chunk",
    "mustChunk",
    "derivePassword",
    "decryptAES",
    "semver",
    "semverCompare",
    "mustRegexFindAll",
    "mustRegexFind",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "urlParse",
    "urlJoin",
    "slugify",
    "tpl",
]


def argocd_funcs() -> dict[str, Func]:
    """The function map of ArgoCD's ApplicationSet controller, as far as gitops-poc can compute it."""
    funcs: dict[str, Func] = {}
    for name in NOT_IMPLEMENTED:
        if name not in IMPLEMENTED:
            funcs[name] = unsupported(name, "is not supported by gitops-poc (ArgoCD has it)")
    for name in NONDETERMINISTIC:
        funcs[name] = unsupported(
            name, "gives a different result on every run (time or randomness): a plan cannot predict it"
        )
    funcs.update(IMPLEMENTED)
    return funcs


FUNCS = argocd_funcs()
