"""The C path (auth_adapter._jws) against the Python code it speeds up: it accepts only what `_decode`
accepts, with the same identity and window, and hands every other token back; with it the verdicts and
reasons of `validate` are the ones without it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from auth_adapter import tokens
from auth_adapter.tokens import Identity, TokenError, TokenValidator
from auth_adapter_fixtures import AUDIENCE, ISSUER, SECRET
from gateway_config import Jwt
from test_auth_adapter_tokens import b64

NOW = 1_800_000_000.25
HEADER = {"alg": "HS256", "typ": "JWT"}
SETTINGS = [Jwt(None, None, 0), Jwt(ISSUER, AUDIENCE, 0), Jwt(ISSUER, None, 7), Jwt(None, AUDIENCE, 300)]


@pytest.fixture(autouse=True)
def built() -> Iterator[None]:
    """The extension is part of the service: under CI a build without it fails here."""
    if tokens._Verifier is None:  # noqa: SLF001 - whether the C path was built is the point
        if os.environ.get("CI") == "true":
            pytest.fail("auth_adapter._jws was not built (is a C compiler installed?)")
        pytest.skip("auth_adapter._jws was not built: no C compiler")
    yield


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_now", lambda: NOW)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flipped(character: str) -> str:
    """The base64url character whose value differs in its lowest bit."""
    return ALPHABET[ALPHABET.index(character) ^ 1]


def sign(header: str, payload: str, secret: str = SECRET) -> str:
    """header and payload as their base64url parts already; the token with its HS256 signature."""
    mac = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


def token_of(claims: dict[str, Any], secret: str = SECRET) -> str:
    return sign(b64(json.dumps(HEADER).encode()), b64(json.dumps(claims).encode()), secret)


def pair(settings: Jwt, secret: str = SECRET) -> tuple[TokenValidator, TokenValidator]:
    """A validator with the C path, its header set filled by one good token, and one without it."""
    fast, slow = TokenValidator([], secret, settings), TokenValidator([], secret, settings, compiled=False)
    assert fast._fast is not None and slow._fast is None  # noqa: SLF001
    fast.validate(token_of({"sub": "seed", "exp": int(NOW) + 60, "iss": ISSUER, "aud": AUDIENCE}, secret))
    assert len(fast._good_headers) == 1  # noqa: SLF001
    return fast, slow


def python_verdict(slow: TokenValidator, token: str) -> tuple[Identity, float, float] | str:
    try:
        return slow._decode(token)  # noqa: SLF001 - the reference the C path answers for
    except TokenError as exc:
        return str(exc)


def validated(v: TokenValidator, token: str) -> Identity | str:
    """What `validate` answers: the identity, or the reason it refuses."""
    try:
        return v.validate(token)
    except TokenError as exc:
        return str(exc)


def agree(fast: TokenValidator, slow: TokenValidator, token: str) -> bool:
    """Asserts the C path's answer is the Python code's (or None); True when the C path accepted."""
    assert fast._fast is not None  # noqa: SLF001
    early = fast._fast(token, NOW)  # noqa: SLF001
    expected = python_verdict(slow, token)
    if early is None:
        return False
    assert not isinstance(expected, str), (token, expected)  # never accepts what Python refuses
    identity, start, end = early
    assert type(identity) is Identity and identity == expected[0], token
    # the same numbers of the same types: ints, or -inf without nbf and iat
    assert [(type(n), n) for n in (start, end)] == [(type(n), n) for n in expected[1:]], token
    return True


# Values each claim takes in the generated tokens: the usual, absent (None), and every other JSON shape.
DATE_VALUES: list[Any] = [
    None,
    int(NOW) + 60,
    int(NOW) - 60,
    int(NOW) + 10,
    int(NOW) - 10,
    int(NOW),
    int(NOW) + 1,
    float(int(NOW) + 60),
    int(NOW) + 60.5,
    str(int(NOW) + 60),
    True,
    False,
    "null",
    [int(NOW) + 60],
    {"n": 1},
    2**52,
    2**52 + 1,
    -(2**52),
    -(2**52) - 1,
    2**53,
    2**53 + 1,
    -(2**53),
    10**30,
    -(10**30),
    0,
    -1,
]
TEXT_VALUES: list[Any] = [None, "user-1", "", "ü-ñ", "\U0001f600", 7, True, ["a"], {"a": 1}, "null", " "]
NAME_VALUES: list[Any] = [
    None,
    ["read"],
    ["read", "write", 3, None, ["x"]],
    [],
    "read write",
    "",
    5,
    {"read": True},
    "null",
    ["CLIENT"],
]
ISSUER_VALUES: list[Any] = [None, ISSUER, ISSUER + "/", "", 1, [ISSUER], "null"]
AUDIENCE_VALUES: list[Any] = [
    None,
    AUDIENCE,
    [AUDIENCE],
    ["x", AUDIENCE],
    ["x"],
    [1, AUDIENCE],
    [],
    "x",
    2,
    "null",
]
CLAIMS: dict[str, list[Any]] = {
    "exp": DATE_VALUES,
    "nbf": DATE_VALUES,
    "iat": DATE_VALUES,
    "sub": TEXT_VALUES,
    "sid": TEXT_VALUES,
    "session_id": TEXT_VALUES,
    "roles": NAME_VALUES,
    "permissions": NAME_VALUES,
    "iss": ISSUER_VALUES,
    "aud": AUDIENCE_VALUES,
}
USUAL = {"sub": "user-1", "sid": "s-1", "exp": int(NOW) + 60, "iss": ISSUER, "aud": AUDIENCE}


def generated(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    """Claims near the usual ones: each claim kept, dropped or changed to another value, at random."""
    for _ in range(count):
        claims = dict(USUAL)
        for name, values in CLAIMS.items():
            if rng.random() < 0.3:
                value = rng.choice(values)
                if value is None:
                    claims.pop(name, None)
                else:
                    claims[name] = None if value == "null" else value
        yield claims


@pytest.mark.parametrize("settings", SETTINGS, ids=["plain", "iss-aud", "iss-leeway", "aud-leeway"])
def test_claims_the_c_path_accepts_are_the_ones_python_accepts(settings: Jwt) -> None:
    fast, slow = pair(settings)
    rng = random.Random(f"claims-{settings}")
    accepted = deferred = 0
    for claims in generated(rng, 3000):
        token = token_of(claims)
        if agree(fast, slow, token):
            accepted += 1
        else:
            deferred += 1
            expected = python_verdict(slow, token)
            if not isinstance(expected, str):  # Python accepts what C handed back: only unusual shapes
                assert _unusual(claims), claims
    # Both paths taken many times: the comparison above is not vacuous.
    assert accepted > 300 and deferred > 300, (accepted, deferred)


def _unusual(claims: dict[str, Any]) -> bool:
    """Accepted claims the C path leaves to Python: dates that are floats or beyond 2**52, role or
    permission strings (split by Python)."""
    dates = [claims.get(n) for n in ("exp", "nbf", "iat")]
    names = [claims.get(n) for n in ("roles", "permissions")]
    return any(isinstance(d, float) or (type(d) is int and abs(d) > 2**52) for d in dates) or any(
        isinstance(n, str) for n in names
    )


def test_texts_around_a_signed_payload_the_c_path_hands_back() -> None:
    fast, slow = pair(SETTINGS[1])
    header = b64(json.dumps(HEADER).encode())
    body = json.dumps(USUAL)
    payloads = [
        body,
        f" {body}",
        f"{body} ",
        f"{body}\n",
        f"{body}x",
        f"{body}{body}",
        body.replace('"sub"', '"sub": "other", "sub"'),  # a repeated name: the last one counts, in both
        "[1, 2]",
        '"text"',
        "",
        "{}",
        body.replace("user-1", "\\ud800"),  # a lone surrogate escaped in JSON
        body.replace("60", "NaN", 1),
    ]
    for text in payloads:
        agree(fast, slow, sign(header, b64(text.encode())))
    # Not UTF-8, then a valid payload in other spellings: padded, base64's own alphabet, other trailing bits.
    agree(fast, slow, sign(header, b64(b'{"sub": "\xff", "exp": 1900000000}')))
    raw = b64(json.dumps({**USUAL, "sub": "u>>>?"}).encode())  # with "-" and "_" in its base64url
    assert "-" in raw or "_" in raw
    respelled = raw[:-1] + flipped(raw[-1])
    for payload in (raw + "=", raw.replace("-", "+").replace("_", "/"), respelled, raw + "A"):
        token = sign(header, payload)
        assert fast._fast is not None and fast._fast(token, NOW) is None, payload  # noqa: SLF001
    assert agree(fast, slow, sign(header, raw))


def test_signatures_the_c_path_refuses() -> None:
    fast, slow = pair(SETTINGS[0])
    token = token_of(USUAL)
    body, _, signature = token.rpartition(".")
    assert agree(fast, slow, token)
    for position in range(len(signature)):
        changed = signature[:position] + flipped(signature[position]) + signature[position + 1 :]
        assert not agree(fast, slow, f"{body}.{changed}")
    for other in (signature[:-1], signature + "A", signature + "=", "", token_of(USUAL, "k" * 40)[-43:]):
        assert not agree(fast, slow, f"{body}.{other}")
    # Extra dots, non-ASCII, a header not seen with the key (its own alg is read by Python first).
    for changed in (f"{body}.{signature}.", f".{body}.{signature}", f"{body}é.{signature}", token + "\ud800"):
        assert not agree(fast, slow, changed)
    unseen = sign(b64(json.dumps({"alg": "HS256", "kid": "2"}).encode()), b64(json.dumps(USUAL).encode()))
    assert not agree(fast, slow, unseen)


@pytest.mark.parametrize("key_size", [1, 31, 32, 63, 64, 65, 100, 200])
def test_the_c_mac_is_hmac_sha256_for_every_key_and_message_length(key_size: int) -> None:
    # Signing inputs of every length modulo the block cross SHA-256's padding cases (55/56/64 per block).
    secret = "".join(chr(0x41 + n % 26) for n in range(key_size))
    fast, slow = pair(SETTINGS[0], secret)
    base = {"sub": "u", "exp": int(NOW) + 60}
    lengths = set()
    # Four headers whose lengths differ by one: with payloads growing a byte at a time (base64 skips every
    # fourth length), every length of the signing input modulo the block.
    for kid in range(4):
        header = b64(json.dumps({**HEADER, "kid": "k" * kid}).encode())
        fast.validate(sign(header, b64(json.dumps(base).encode()), secret))  # the header now known
        for pad in range(0, 200):
            payload = b64(json.dumps({**base, "p": "x" * pad}).encode())
            token = sign(header, payload, secret)
            lengths.add(len(token.rpartition(".")[0]) % 64)
            assert agree(fast, slow, token), (key_size, kid, pad)
    assert lengths == set(range(64))


def test_a_long_payload_takes_the_heap_not_the_stack() -> None:
    fast, slow = pair(SETTINGS[0])
    for size in (1000, 2040, 2048, 2100, 10_000, 100_000):
        claims = {"sub": "u", "exp": int(NOW) + 60, "permissions": ["p" * 10] * (size // 14)}
        assert agree(fast, slow, token_of(claims))


def test_validate_gives_the_same_verdict_and_reason_either_way() -> None:
    for settings in SETTINGS:
        fast = TokenValidator([], SECRET, settings)
        slow = TokenValidator([], SECRET, settings, compiled=False)
        rng = random.Random(f"validate-{settings}")
        for claims in generated(rng, 500):
            token = token_of(claims)
            assert validated(fast, token) == validated(slow, token), claims


def test_deep_json_goes_to_python_whose_recursion_limit_judges_it() -> None:
    # A signed payload nested near the recursion limit: Python refuses it (RecursionError), and the C path,
    # a few frames shallower, would have parsed it; it hands anything with many brackets back instead.
    fast, slow = pair(SETTINGS[0])
    header = b64(json.dumps(HEADER).encode())
    for depth in (31, 33, 500, 990, 995, 1000, 5000):
        nested = "[" * depth + "]" * depth
        text = json.dumps({"sub": "u", "exp": int(NOW) + 60}).replace("}", f', "x": {nested}}}')
        token = sign(header, b64(text.encode()))
        assert agree(fast, slow, token) == (depth < 32), depth
        assert validated(fast, token) == validated(slow, token), depth


def test_windows_near_the_limit_are_exact() -> None:
    for leeway in (0, 1, 7, 300):
        fast, slow = pair(Jwt(None, None, leeway))
        for exp in (2**52 - 1, 2**52, 2**52 + 1, 2**53, 2**53 + 1):
            for nbf in (None, -(2**52), -(2**52) - 1, int(NOW) - 5):
                claims = {"sub": "u", "exp": exp} | ({} if nbf is None else {"nbf": nbf})
                agree(fast, slow, token_of(claims))


def test_a_verifier_never_initialised_raises_instead_of_crashing() -> None:
    verifier = tokens._jws.Verifier.__new__(tokens._jws.Verifier)  # noqa: SLF001
    with pytest.raises(RuntimeError, match="__init__"):
        verifier.verify(token_of(USUAL), NOW)
