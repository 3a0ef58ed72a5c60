"""The adapter's own HS256 verification against tokens signed by PyJWT (another implementation), and the
RFC 7519 rules PyJWT itself is lax about (NumericDate as a JSON number)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

import jwt
import pytest
from auth_adapter import tokens
from auth_adapter.tokens import TokenError, TokenValidator, _HmacSha256
from auth_adapter_fixtures import AUDIENCE, ISSUER, SECRET, make_jwt
from gateway_config import Jwt

SETTINGS = Jwt(ISSUER, AUDIENCE, 0)


@pytest.fixture(autouse=True, params=["c", "python"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here twice: with the C path (auth_adapter._jws) and with Python alone."""
    if request.param == "python":
        monkeypatch.setattr(tokens, "_Verifier", None)
    elif tokens._Verifier is None:  # noqa: SLF001 - test_auth_adapter_jws.py fails the run for it under CI
        pytest.skip("auth_adapter._jws was not built: no C compiler")
    return str(request.param)


def validator(settings: Jwt = SETTINGS) -> TokenValidator:
    return TokenValidator([], SECRET, settings)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(header: object, payload: str, secret: str = SECRET) -> str:
    """A JWS with exactly this header and payload text (PyJWT would re-encode them)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(payload.encode())}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def reason(token: str, v: TokenValidator | None = None) -> str:
    try:
        (v or validator()).validate(token)
    except TokenError as exc:
        return str(exc)
    return "valid"


def now() -> int:
    """The clock when a test runs: a time taken at import would age while xdist collects and queues."""
    return int(time.time())


# Fixed dates for parametrized cases: ids taken from the clock differ between xdist workers that import a
# second apart, and xdist then refuses the run ("Different tests were collected"). These values are refused
# for their type, whatever the date.
NOW = 1_800_000_000


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", str(NOW + 3600)),
        ("exp", f"{NOW + 3600}.5"),
        ("exp", True),
        ("exp", [NOW + 3600]),
        ("nbf", str(NOW - 10)),
        ("iat", str(NOW - 10)),
        ("nbf", None),
    ],
)
def test_a_numeric_date_that_is_not_a_json_number_is_refused(claim: str, value: Any) -> None:
    token = make_jwt(**{claim: value}) if value is not None else make_jwt()
    if value is None:  # JSON null is not a NumericDate either
        body = {"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60, claim: None}
        token = signed({"alg": "HS256", "typ": "JWT"}, json.dumps(body))
    assert reason(token) == f"token claim {claim!r} is not a NumericDate"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_dates_are_refused(constant: str) -> None:
    payload = f'{{"sub": "u", "iss": "{ISSUER}", "aud": "{AUDIENCE}", "exp": {constant}}}'
    assert reason(signed({"alg": "HS256"}, payload)) in (
        "malformed token",  # NaN and Infinity are not JSON
        "token claim 'exp' is not a NumericDate",  # 1e999 is JSON, and infinite
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ({"alg": "none"}, "malformed token"),
        ({"alg": "HS512"}, "malformed token"),
        ({"alg": "RS256"}, "malformed token"),
        ({"alg": "hs256"}, "malformed token"),
        ({"alg": "HS256", "crit": ["exp"]}, "malformed token"),
        (["HS256"], "malformed token"),
        ({"alg": "HS256", "kid": "whatever"}, "valid"),
    ],
)
def test_only_hs256_headers_are_accepted(header: object, expected: str) -> None:
    payload = json.dumps({"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60})
    assert reason(signed(header, payload)) == expected


def test_tampering_with_any_part_breaks_the_token() -> None:
    token = make_jwt()
    header, payload, signature = token.split(".")
    other = make_jwt(sub="admin").split(".")[1]
    assert reason(f"{header}.{other}.{signature}") == "token signature does not verify"
    assert reason(f"{header}.{payload}.{signature[:-2]}AA") == "token signature does not verify"
    assert reason(f"{header}.{payload}.{signature}=") == "malformed token"  # only base64url, unpadded
    assert reason(f"{header}.{payload}.{signature}!") == "malformed token"
    # Strict base64url in every part: base64's own alphabet, whitespace, non-ASCII, an empty part. (A
    # changed payload may be found unsigned before it is found malformed: refused either way.)
    for malformed in (
        f"{header}.{payload}.+{signature[1:]}",
        f"{header}.{payload}./{signature[1:]}",
        f"{header}.+{payload[1:]}.{signature}",
        f"{header}.{payload[:8]} {payload[8:]}.{signature}",
        f"{header}.{payload}\n.{signature}",
        f"{header}.{payload}\u00e9.{signature}",
        f"{header}.{payload}.",
        f".{payload}.{signature}",
        f"{header}..{signature}",
    ):
        assert reason(malformed) in ("malformed token", "token signature does not verify"), malformed
    assert reason(f"{header}.{payload}.+{signature[1:]}") == "malformed token"
    assert reason(f"{header}.{payload}\u00e9.{signature}") == "malformed token"
    # A length base64 never has (4n+1 characters) is a refused token, not an error in the server.
    assert len(f"{signature}AA") % 4 == 1
    assert reason(f"{header}.{payload}.{signature}AA") == "malformed token"
    assert reason(f"{header}.{payload}") == "invalid token"
    assert reason(token) == "valid"


def test_a_signature_is_its_one_base64url_encoding() -> None:
    # 43 characters carry 258 bits for the MAC's 256: the last one's two low bits are not the MAC's. A
    # decoder ignores them, so another last character decodes to the same MAC; it is refused all the same.
    token = make_jwt()
    body, _, signature = token.rpartition(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    variant = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(variant + "=") == base64.urlsafe_b64decode(signature + "=")
    assert reason(f"{body}.{variant}") == "token signature does not verify"
    assert reason(token) == "valid"


def test_a_signed_payload_in_another_spelling_is_still_refused() -> None:
    # Signed with the key, but padded or in base64's own alphabet: refused as the header and signature are.
    body = json.dumps({"sub": "u>>>?", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60}).encode()
    header = b64(json.dumps({"alg": "HS256"}).encode())
    for payload in (base64.urlsafe_b64encode(body).decode(), base64.b64encode(body).decode()):
        assert payload != b64(body)
        signing_input = f"{header}.{payload}"
        mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
        assert reason(f"{signing_input}.{b64(mac)}") == "malformed token", payload


def test_json_nested_past_the_recursion_limit_is_a_refused_token() -> None:
    # RecursionError escaped validate() (a failed call instead of a 401): in the header, which is read
    # before any signature, and in a signed payload.
    deep = "[" * 5000
    unsigned = f"{b64(deep.encode())}.e30.{'A' * 43}"
    assert reason(unsigned) == "malformed token"
    assert reason(signed({"alg": "HS256"}, '{"a":' * 5000)) == "malformed token"


def test_any_string_is_judged_not_raised() -> None:
    # A lone surrogate outside U+DC80-DCFF raised UnicodeEncodeError from the static-token digest.
    for token in ("\ud800", "x\udfff.y.z", "\udc80"):
        assert reason(token) in ("invalid token", "malformed token", "token signature does not verify")


# Claims PyJWT and the adapter must judge alike (PyJWT signs; both verify). Dates are offsets from the
# moment the test runs.
CLAIMS: dict[str, list[Any]] = {
    "exp": [300, -300, 30.5, None],  # a fractional NumericDate too
    "nbf": [None, -300, 300],
    "iat": [None, -300, 300],
    "iss": [ISSUER, "https://other.test", None],
    "aud": [AUDIENCE, [AUDIENCE, "x"], ["x"], None],
    "sub": ["user-1", None],
}


def pyjwt_verdict(token: str) -> str:
    try:
        jwt.decode(
            token,
            SECRET,
            algorithms=["HS256"],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.InvalidTokenError:
        return "refused"
    return "valid"


def test_the_adapter_and_pyjwt_agree_on_every_combination_of_claims() -> None:
    names = list(CLAIMS)
    compared = 0
    start = now()
    dates = {"exp", "nbf", "iat"}
    for values in itertools.product(*(CLAIMS[n] for n in names)):
        claims = {
            n: start + v if n in dates else v for n, v in zip(names, values, strict=True) if v is not None
        }
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        mine = "valid" if reason(token) == "valid" else "refused"
        assert mine == pyjwt_verdict(token), claims
        compared += 1
    assert compared == 4 * 3 * 3 * 3 * 4 * 2


def test_only_headers_of_tokens_signed_with_the_key_are_remembered() -> None:
    v = validator()
    payload = json.dumps({"sub": "u", "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 60})
    for n in range(200):  # valid HS256 headers, each new, under a foreign key: nothing remembered
        forged = signed(
            {"alg": "HS256", "n": n, "pad": "x" * 1000}, payload, secret="another-key-" + "k" * 32
        )
        assert reason(forged, v) == "token signature does not verify"
    assert v._good_headers == set()  # noqa: SLF001 - what an attacker could fill is the point
    good = signed({"alg": "HS256", "typ": "JWT"}, payload)
    assert reason(good, v) == "valid" and len(v._good_headers) == 1  # noqa: SLF001
    # A remembered header still needs its signature, and a bad header is still refused.
    assert reason(good[:-4] + "AAAA", v) == "token signature does not verify"
    assert reason(signed({"alg": "none"}, payload), v) == "malformed token"


def test_a_jwt_is_remembered_from_its_second_verification_on() -> None:
    v = validator()
    once, twice = make_jwt(sid="once"), make_jwt(sid="twice")
    assert reason(once, v) == reason(twice, v) == reason(twice, v) == "valid"
    # A new JWT per call fills no table; a repeated one skips the verification from then on.
    assert list(v._verified) == [twice]
    assert reason(twice, v) == "valid"


def test_integer_dates_beyond_a_float_are_judged_not_raised() -> None:
    # A JSON integer too large for a float (math.isfinite raised OverflowError out of the handler before).
    huge = "1" + "0" * 400
    claims = f'"sub": "u", "iss": "{ISSUER}", "aud": "{AUDIENCE}"'
    assert reason(signed({"alg": "HS256"}, f'{{{claims}, "exp": {huge}}}')) == "valid"
    expired = f'{{{claims}, "exp": -{huge}}}'
    assert reason(signed({"alg": "HS256"}, expired)) == "token expired"
    early = f'{{{claims}, "exp": {now() + 60}, "nbf": {huge}}}'
    assert reason(signed({"alg": "HS256"}, early)) == "token not yet valid"


def test_the_keyed_mac_is_hmac_sha256_for_every_key_length() -> None:
    # Keys shorter than SHA-256's 64-byte block, exactly one block, and longer (hashed first, RFC 2104).
    for size in [0, 1, 31, 32, 63, 64, 65, 100, 200]:
        key = bytes(range(size))
        mac = _HmacSha256(key)
        for message in (b"", b"a", b"header.payload" * 50):
            expected = b64(hmac.new(key, message, hashlib.sha256).digest()).encode()
            assert mac.signature(message) == expected, (size, message)


def test_an_empty_issuer_or_audience_is_required_as_it_is_checked() -> None:
    # Jwt("", "") (the config loader refuses empty strings; the class does not): a token without iss/aud
    # raised KeyError out of validate instead of being refused.
    v = validator(Jwt("", "", 0))
    assert reason(make_jwt(iss=None, aud=None), v) == "token lacks the 'iss' claim"
    assert reason(make_jwt(iss="", aud=None), v) == "token lacks the 'aud' claim"
    assert reason(make_jwt(iss="", aud=""), v) == "valid"
