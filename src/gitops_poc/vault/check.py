"""`check_vault`: prove least privilege with real tokens against every service x environment path.

For each role the check reads the role itself (its binding must be exactly the service's own
ServiceAccount in its environment's namespace, with an audience: never `default`, never `*`), obtains a token
carrying what the role grants, and uses it:
- to read every service's secret in every environment (only its own may be readable),
- to write its own secret (must be denied; the attempt uses an impossible check-and-set version, so even a
  wrongly allowed write changes nothing),
- to list the platform's KV folder (must be denied: a service cannot even see the others' names).

How the token is obtained (`Identity`):
- POLICY (default; needs no cluster): `auth/token/create` with exactly the role's `token_policies` and its
  default-policy setting, which is what a kubernetes login with that role is issued; the role's binding is
  verified separately by reading the role.
- KUBERNETES: a real `auth/<mount>/login` with a ServiceAccount token from `jwt_source` (e.g. `kubectl create
  token`), which also proves Vault's TokenReview, namespace, name and audience checks. It additionally tries
  to log in as the namespace's `default` ServiceAccount, which must be refused.

It also finds the roles and policies a removed service or environment left behind (stale.py): a stale role
is still a live grant (its ServiceAccount can log in and read the removed pair's secrets), so it fails the
check; a stale policy alone grants nothing to a login and is only reported.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import hvac
import hvac.exceptions

from gitops_poc.platform import VAULT_AUDIENCE, VAULT_KUBERNETES_AUTH_MOUNT, Platform
from gitops_poc.vault import answers
from gitops_poc.vault.client import capabilities_self, vault_errors
from gitops_poc.vault.model import Leftover, RoleState
from gitops_poc.vault.policy import policy_globs, policy_hcl
from gitops_poc.vault.stale import find_leftovers_on_mounts, wanted_mount
from gitops_poc.vault.state import read_policies, read_roles_by_mount

JwtSource = Callable[[str, str, str], str]  # (namespace, service account, audience) -> ServiceAccount JWT
CHECK_TOKEN_TTL = "5m"
IMPOSSIBLE_VERSION = 2**31 - 1  # a write with this check-and-set version can never succeed


class Identity(StrEnum):
    POLICY = "policy"
    KUBERNETES = "kubernetes"


class Outcome(StrEnum):
    READ = "read"  # HTTP 200
    MISSING = "missing"  # HTTP 404: allowed, but nothing there
    DENIED = "denied"  # HTTP 403
    ALLOWED = "allowed"  # a write or list that was not refused

    @property
    def allowed(self) -> bool:
        return self is not Outcome.DENIED


Pair = tuple[str, str]


@dataclass(frozen=True)
class IdentityResult:
    service: str
    env: str
    role: str
    reads: dict[Pair, Outcome] = field(default_factory=dict)  # only what was not denied
    checked: bool = False  # the identity got a token and its reads were checked (else see `problems`)
    write_own: Outcome | None = None
    list_all: Outcome | None = None
    default_login: Outcome | None = None  # KUBERNETES only: login as the namespace's `default` SA
    problems: tuple[str, ...] = ()  # broken: the service would not get its secret
    wide_binding: tuple[str, ...] = ()  # the role accepts more identities than the service's own

    @property
    def leaks(self) -> list[str]:
        found = [
            f"{self.role} can read {s}/{e}"
            for (s, e), o in self.reads.items()
            if o.allowed and (s, e) != (self.service, self.env)
        ]
        if self.write_own is not None and self.write_own.allowed:
            found.append(f"{self.role} can write its own secret")
        if self.list_all is not None and self.list_all.allowed:
            found.append(f"{self.role} can list every service's secrets")
        if self.default_login is not None and self.default_login.allowed:
            found.append(f"the `default` ServiceAccount can log in with {self.role}")
        return found + list(self.wide_binding)

    def outcome(self, pair: Pair) -> Outcome | None:
        """What reading `pair`'s secret got; None when the identity was never checked."""
        return self.reads.get(pair, Outcome.DENIED) if self.checked else None

    @property
    def failures(self) -> list[str]:
        own = self.outcome((self.service, self.env))
        failures = list(self.problems)
        if own is not None and own is not Outcome.READ:
            failures.append(f"{self.role} cannot read its own secret ({own.value})")
        return failures


@dataclass(frozen=True)
class CheckReport:
    identity: Identity
    targets: tuple[Pair, ...]
    results: tuple[IdentityResult, ...]
    stale: tuple[Leftover, ...] = ()  # roles and policies of removed services/environments

    @property
    def leaks(self) -> list[str]:
        return [leak for r in self.results for leak in r.leaks]

    @property
    def failures(self) -> list[str]:
        return [f for r in self.results for f in r.failures]

    @property
    def stale_roles(self) -> list[Leftover]:
        return [s for s in self.stale if s.kind == "role"]

    @property
    def ok(self) -> bool:
        return not self.leaks and not self.failures and not self.stale_roles

    def as_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity.value,
            "ok": self.ok,
            "leaks": self.leaks,
            "failures": self.failures,
            "stale_roles": [s.as_json() for s in self.stale_roles],
            "stale_policies": [s.as_json() for s in self.stale if s.kind == "policy"],
            # Every row's `reads` lists only what was not denied: a secret missing from it was denied.
            "secrets": [f"{s}/{e}" for s, e in self.targets],
            "matrix": [
                {
                    "role": r.role,
                    "service": r.service,
                    "environment": r.env,
                    "checked": r.checked,
                    "reads": {f"{s}/{e}": o.value for (s, e), o in r.reads.items()},
                    "write_own": r.write_own.value if r.write_own else None,
                    "list_all": r.list_all.value if r.list_all else None,
                    "default_login": r.default_login.value if r.default_login else None,
                    "problems": list(r.problems),
                    "binding": list(r.wide_binding),
                }
                for r in self.results
            ],
        }


def binding_problems(
    platform: Platform, service: str, env: str, role: RoleState, audience: str
) -> tuple[list[str], list[str]]:
    """(too wide: accepts other identities, broken: the service cannot log in) for a role's binding."""
    name = platform.vault_role(service, env)
    wide, broken = [], []
    sa, ns = platform.service_account(service), platform.namespace(env)
    for bad in ("default", "*"):
        if bad in role.service_accounts:
            wide.append(f"{name} accepts ServiceAccount {bad!r}")
        if bad in role.namespaces:
            wide.append(f"{name} accepts namespace {bad!r}")
    others = [a for a in role.service_accounts if a not in (sa, "default", "*")]
    if others:
        wide.append(f"{name} also accepts ServiceAccounts {others}")
    other_ns = [n for n in role.namespaces if n not in (ns, "default", "*")]
    if other_ns:
        wide.append(f"{name} also accepts namespaces {other_ns}")
    if role.namespace_selector:
        wide.append(f"{name} also accepts namespaces selected by {role.namespace_selector!r}")
    if not role.audience:
        wide.append(
            f"{name} binds no audience: a token of that ServiceAccount meant for anything is accepted"
        )
    elif role.audience != audience:
        broken.append(f"{name} expects audience {role.audience!r}, the VaultAuth objects send {audience!r}")
    if sa not in role.service_accounts and "*" not in role.service_accounts:
        broken.append(f"{name} does not accept the service's own ServiceAccount {sa!r}")
    if ns not in role.namespaces and "*" not in role.namespaces:
        broken.append(f"{name} does not accept namespace {ns!r}")
    policy = platform.vault_policy(service, env)
    if role.policies != (policy,):
        target = wide if set(role.policies) - {policy} else broken
        target.append(f"{name} grants policies {list(role.policies)}, expected [{policy!r}]")
    return wide, broken


def _outcome(call: Callable[[], Any]) -> Outcome:
    try:
        response = call()
    except hvac.exceptions.Forbidden:
        return Outcome.DENIED
    except hvac.exceptions.InvalidPath:
        return Outcome.MISSING
    except hvac.exceptions.InvalidRequest:
        return Outcome.ALLOWED  # got past the ACL check (e.g. check-and-set refused the write)
    return Outcome.READ if response is not None else Outcome.MISSING


@contextmanager
def _as_token(client: hvac.Client, token: str | None) -> Iterator[hvac.Client]:
    """Use `client` (same connection, same TLS settings) with another token, then put the caller's back."""
    saved = client.token
    client.token = token or ""  # no X-Vault-Token header at all (hvac sends none for a falsy token)
    try:
        yield client
    finally:
        client.token = saved


def _revoke(client: hvac.Client, token: str) -> None:
    """POST /v1/auth/token/revoke-self, as the token itself."""
    with _as_token(client, token), contextlib.suppress(hvac.exceptions.VaultError):
        client.auth.token.revoke_self()


@dataclass(frozen=True)
class Issued:
    """A token as Vault issued it, with the policies its ACL is built from (from the same answer)."""

    token: str
    policies: tuple[str, ...]  # the token's own, `default` included when attached
    identity_policies: tuple[str, ...] = ()  # those of its entity's groups (logins only)


def _create_token(client: hvac.Client, policies: list[str], no_default_policy: bool, role: str) -> Issued:
    """POST /v1/auth/token/create: a short-lived, non-renewable token of exactly these policies."""
    response = client.auth.token.create(
        policies=policies,
        no_default_policy=no_default_policy,
        ttl=CHECK_TOKEN_TTL,
        renewable=False,
        display_name=f"check-{role}",
        meta={"purpose": "gitops-poc vault check", "role": role},
    )
    return _issued(response, "POST auth/token/create")


def _mint(client: hvac.Client, role_name: str, role: RoleState) -> Issued:
    """A token with the role's policies: what a login with the role is issued."""
    return _create_token(client, list(role.policies), role.no_default_policy, role_name)


def _issued(response: object, endpoint: str) -> Issued:
    auth = answers.obj(answers.body(response, endpoint) or {}, "auth", endpoint)
    token = answers.text(auth, "client_token", endpoint)
    if not token:
        raise answers.invalid(endpoint, "`auth.client_token`", "a token", None)
    # A login's `policies` also holds its entity's; `token_policies` only the token's own.
    policies = answers.texts(auth, "token_policies", endpoint) or answers.texts(auth, "policies", endpoint)
    return Issued(token, tuple(policies), tuple(answers.texts(auth, "identity_policies", endpoint)))


def _login(client: hvac.Client, mount: str, role_name: str, jwt: str) -> Issued:
    """POST /v1/auth/{mount}/login (sent without the caller's token)."""
    with _as_token(client, None):
        response = client.auth.kubernetes.login(role_name, jwt, use_token=False, mount_point=mount)
    return _issued(response, f"POST auth/{mount}/login")


def _login_refused(client: hvac.Client, mount: str, role_name: str, jwt: str) -> Outcome:
    try:
        issued = _login(client, mount, role_name, jwt)
    except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest):
        return Outcome.DENIED
    _revoke(client, issued.token)
    return Outcome.ALLOWED


@dataclass(frozen=True)
class _Setup:
    platform: Platform
    identity: Identity
    jwt_source: JwtSource | None
    auth_mount: str
    audience: str
    targets: tuple[Pair, ...]
    pairwise: bool = False
    generated: dict[str, tuple[str, ...]] = field(default_factory=dict)
    others: _OtherPolicies | None = None
    path_of: dict[Pair, str] = field(default_factory=dict)  # each target's KV data path
    pair_of: dict[str, Pair] = field(default_factory=dict)

    def mount_of(self, env: str) -> str:
        return wanted_mount(self.platform, env, self.auth_mount)


def check_vault(
    platform: Platform,
    client: hvac.Client,
    *,
    identity: Identity = Identity.POLICY,
    jwt_source: JwtSource | None = None,
    auth_mount: str = VAULT_KUBERNETES_AUTH_MOUNT,
    audience: str = VAULT_AUDIENCE,
    progress: Callable[[int, int], None] | None = None,
    pairwise: bool = False,
) -> CheckReport:
    """Every identity against every path. `client` must be allowed to read roles and create tokens.

    Each identity's capabilities on every path come from Vault (sys/capabilities-self; see `_capabilities`
    for how the work is shared), then real requests prove them: a read of its own secret, a read Vault must
    deny, and a real attempt at everything the capabilities say is allowed beyond its own read (a leak is
    confirmed, not inferred). `pairwise` makes one real request per path instead (the original proof; same
    verdicts, n x n calls)."""
    if identity is Identity.KUBERNETES and jwt_source is None:
        raise ValueError("a kubernetes check needs a jwt_source")
    targets = tuple(platform.pairs)
    path_of = {pair: platform.vault_data_path(*pair) for pair in targets}
    pair_of = {path: pair for pair, path in path_of.items()}
    setup = _Setup(
        platform,
        identity,
        jwt_source,
        auth_mount,
        audience,
        targets,
        pairwise,
        path_of=path_of,
        pair_of=pair_of,
    )
    # Every role and policy named with the platform's stem, by auth mount: its own, what removed pairs left
    # behind, and roles left on the mount of a cluster an environment moved away from (live grants too).
    roles_by_mount = read_roles_by_mount(client, platform, auth_mount)
    # The identities: each environment's roles on the mount of its cluster, nowhere else.
    roles = {}
    for env in platform.environments:
        on_mount = roles_by_mount.get(setup.mount_of(env), {})
        for service in platform.services:
            if (role := on_mount.get(platform.vault_role(service, env))) is not None:
                roles[platform.vault_role(service, env)] = role
    policies, _ = read_policies(client, platform)
    others = _OtherPolicies(client, list(path_of.values()))
    setup = replace(setup, generated=generated_prefixes(platform, policies), others=others)
    results = []
    for index, (service, env) in enumerate(targets, start=1):
        results.append(
            _check_identity(client, setup, service, env, roles.get(platform.vault_role(service, env)))
        )
        if progress is not None:
            progress(index, len(targets))
    stale = find_leftovers_on_mounts(platform, roles_by_mount, policies, auth_mount=auth_mount)
    return CheckReport(identity, targets, tuple(results), stale)


def _glob_prefix(glob: str) -> str | None:
    """The prefix a `path "x/*"` rule matches; None for any other pattern (exact, `+`, inner `*`)."""
    head = glob.removesuffix("*")
    return head if glob.endswith("*") and "*" not in head and "+" not in head else None


def generated_prefixes(platform: Platform, policies: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """The platform's policies whose rules in Vault are exactly what provision writes, with the path
    prefixes they grant on: such a policy grants nothing on any path outside those prefixes."""
    known = {}
    for service, env in platform.pairs:
        name = platform.vault_policy(service, env)
        prefixes = [_glob_prefix(glob) for glob in policy_globs(platform, service, env)]
        if policies.get(name) == policy_hcl(platform, service, env) and None not in prefixes:
            known[name] = tuple(p for p in prefixes if p is not None)
    return known


class _OtherPolicies:
    """Vault's capabilities on every platform path for a token of exactly the given policies (`default`,
    foreign or edited ones), asked once per set of policies and shared by every identity that holds it."""

    def __init__(self, client: hvac.Client, paths: list[str]) -> None:
        # The identities use the same client with their own token: keep the caller's to create tokens.
        self._client, self._token, self.paths = client, client.token, paths
        self._sorted = sorted(paths)
        self._known: dict[frozenset[str], _Shared | None] = {}

    def under(self, prefix: str) -> list[str]:
        """The platform paths a `path "<prefix>*"` rule matches."""
        start = bisect.bisect_left(self._sorted, prefix)
        end = start
        while end < len(self._sorted) and self._sorted[end].startswith(prefix):
            end += 1
        return self._sorted[start:end]

    def capabilities(self, policies: frozenset[str]) -> _Shared | None:
        """None when the caller may not create such a token (then each identity asks for itself)."""
        if not policies:
            return _Shared({})  # a token of no policy may do nothing
        if policies not in self._known:
            answer = self._ask(policies)
            self._known[policies] = None if answer is None else _Shared(answer)
        return self._known[policies]

    def _ask(self, policies: frozenset[str]) -> dict[str, set[str]] | None:
        try:
            with _as_token(self._client, self._token) as caller:
                token = _create_token(caller, sorted(policies), "default" not in policies, "shared").token
        except hvac.exceptions.Forbidden:
            return None
        with _as_token(self._client, token) as other:
            try:
                return capabilities_self(other, self.paths)
            finally:
                _revoke(other, token)


def _check_identity(
    client: hvac.Client, setup: _Setup, service: str, env: str, role: RoleState | None
) -> IdentityResult:
    platform = setup.platform
    role_name = platform.vault_role(service, env)
    if role is None:
        return IdentityResult(service, env, role_name, problems=(f"role {role_name} does not exist",))
    wide, problems = binding_problems(platform, service, env, role, setup.audience)
    default_login = None
    with vault_errors(client, f"obtaining a token for {role_name}"):
        if setup.identity is Identity.POLICY:
            issued = _mint(client, role_name, role)
        else:
            assert setup.jwt_source is not None
            ns, sa = platform.namespace(env), platform.service_account(service)
            jwt = setup.jwt_source
            mount = setup.mount_of(env)
            default_login = _login_refused(client, mount, role_name, jwt(ns, "default", setup.audience))
            try:
                issued = _login(client, mount, role_name, jwt(ns, sa, setup.audience))
            except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest) as exc:
                problems.append(
                    f"ServiceAccount {sa} in {ns} cannot log in with {role_name}: {exc.errors or exc}"
                )
                return IdentityResult(
                    service,
                    env,
                    role_name,
                    default_login=default_login,
                    problems=tuple(problems),
                    wide_binding=tuple(wide),
                )
    try:
        with _as_token(client, issued.token) as own, vault_errors(own, f"using the token of {role_name}"):
            if setup.pairwise:
                result = _probe_pairwise(own, platform, service, env, role_name, role, setup.targets, issued)
            else:
                result = _probe(own, setup, service, env, role_name, role, issued)
    finally:
        _revoke(client, issued.token)
    return replace(
        result,
        default_login=default_login,
        problems=tuple(problems) + result.problems,
        wide_binding=tuple(wide),
    )


def _token_policies(issued: Issued, role_name: str, role: RoleState) -> tuple[frozenset[str], list[str]]:
    """Every policy the token's ACL is built from (its own and its entity's), and a problem when they are
    not what the role grants."""
    granted = sorted(issued.policies)
    expected = sorted(set(role.policies) | (set() if role.no_default_policy else {"default"}))
    problems = []
    if granted != expected:
        problems = [f"the token of {role_name} carries policies {granted}, expected {expected}"]
    return frozenset(granted) | frozenset(issued.identity_policies), problems


def _write_own(own: hvac.Client, platform: Platform, service: str, env: str) -> Outcome:
    outcome = _outcome(
        lambda: own.adapter.post(
            f"/v1/{platform.vault_data_path(service, env)}",
            json={"options": {"cas": IMPOSSIBLE_VERSION}, "data": {"probe": "denied"}},
        )
    )
    # Anything but 403 on a write or a LIST means the ACL let the request through.
    return Outcome.DENIED if outcome is Outcome.DENIED else Outcome.ALLOWED


def _list_all(own: hvac.Client, platform: Platform) -> Outcome:
    outcome = _outcome(lambda: own.list(platform.vault_metadata_root))
    return Outcome.DENIED if outcome is Outcome.DENIED else Outcome.ALLOWED


def _may(capabilities: set[str], *wanted: str) -> bool:
    return "deny" not in capabilities and ("root" in capabilities or bool(capabilities & set(wanted)))


@dataclass(frozen=True)
class _Shared:
    """Capabilities of a set of policies on the platform's paths (a path not named: denied)."""

    capabilities: dict[str, set[str]]
    readable: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        readable = tuple(path for path, caps in self.capabilities.items() if _may(caps, "read"))
        object.__setattr__(self, "readable", readable)


@dataclass(frozen=True)
class _Capabilities:
    """A token's capabilities: `direct` as asked of the token itself, every other path from `shared`."""

    direct: dict[str, set[str]]
    shared: _Shared

    def of(self, path: str) -> set[str]:
        return self.direct[path] if path in self.direct else self.shared.capabilities.get(path, {"deny"})

    def readable(self) -> list[str]:
        shared = [path for path in self.shared.readable if path not in self.direct]
        return shared + [path for path, caps in self.direct.items() if _may(caps, "read")]


def _capabilities(
    own: hvac.Client, setup: _Setup, policies: frozenset[str], asked: list[str]
) -> _Capabilities:
    """The token's capabilities on every platform path and on `asked`.

    A policy whose rules are exactly what provision writes grants only under its own prefixes, and Vault
    picks among the rules that match a path, so on every other path the token can do exactly what a token
    of its remaining policies can: asked once per set of policies (`_OtherPolicies`). The token itself is
    asked about `asked` and the paths under its generated policies' prefixes; when the shared answer is not
    available, about every path."""
    others = setup.others
    generated = [setup.generated[p] for p in policies if p in setup.generated]
    shared = others.capabilities(policies.difference(setup.generated)) if others else None
    if others is None or shared is None:
        return _Capabilities(capabilities_self(own, [*setup.path_of.values(), *asked]), _Shared({}))
    covered = [path for prefixes in generated for prefix in prefixes for path in others.under(prefix)]
    return _Capabilities(capabilities_self(own, list(dict.fromkeys([*asked, *covered]))), shared)


def _probe(
    own: hvac.Client, setup: _Setup, service: str, env: str, role_name: str, role: RoleState, issued: Issued
) -> IdentityResult:
    """Vault's capabilities for every path, real requests for its own read, one read that must be denied,
    and whatever the capabilities allow beyond that (so the matrix holds real outcomes, as pairwise)."""
    platform, own_pair = setup.platform, (service, env)
    policies, problems = _token_policies(issued, role_name, role)
    list_path = platform.vault_metadata_root
    caps = _capabilities(own, setup, policies, [setup.path_of[own_pair], list_path])

    def read(pair: Pair) -> Outcome:
        return _outcome(lambda: own.read(setup.path_of[pair]))

    may_read = {setup.pair_of[path] for path in caps.readable() if path in setup.pair_of} | {own_pair}
    outcomes = {pair: read(pair) for pair in may_read}
    # Vault said no to the others: a real read of one of them must be refused as well.
    if (denied_probe := next((p for p in setup.targets if p not in may_read), None)) is not None:
        outcomes[denied_probe] = read(denied_probe)
        if outcomes[denied_probe].allowed:
            problems.append(
                f"Vault's capabilities deny {role_name} reading {'/'.join(denied_probe)}, but a real read "
                f"got {outcomes[denied_probe].value}"
            )
    reads = {pair: outcomes[pair] for pair in setup.targets if pair in outcomes and outcomes[pair].allowed}
    may_write = _may(caps.of(setup.path_of[own_pair]), "create", "update")
    write_own = _write_own(own, platform, service, env) if may_write else Outcome.DENIED
    list_all = _list_all(own, platform) if _may(caps.of(list_path), "list") else Outcome.DENIED
    return IdentityResult(
        service,
        env,
        role_name,
        reads,
        checked=True,
        write_own=write_own,
        list_all=list_all,
        problems=tuple(problems),
    )


def _probe_pairwise(
    own: hvac.Client,
    platform: Platform,
    service: str,
    env: str,
    role_name: str,
    role: RoleState,
    targets: tuple[Pair, ...],
    issued: Issued,
) -> IdentityResult:
    """What the token can do: its policies, a read of every path, a write of its own, a list of all."""
    _, problems = _token_policies(issued, role_name, role)

    def read(path: str) -> Outcome:
        return _outcome(lambda: own.read(path))

    reads = {(s, e): outcome for s, e in targets if (outcome := read(platform.vault_data_path(s, e))).allowed}
    return IdentityResult(
        service,
        env,
        role_name,
        reads,
        checked=True,
        write_own=_write_own(own, platform, service, env),
        list_all=_list_all(own, platform),
        problems=tuple(problems),
    )
