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
from gitops_poc.vault.stale import find_leftovers
from gitops_poc.vault.state import read_policies, read_roles

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
    reads: dict[Pair, Outcome] = field(default_factory=dict)
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

    @property
    def failures(self) -> list[str]:
        own = self.reads.get((self.service, self.env))
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
            "matrix": [
                {
                    "role": r.role,
                    "service": r.service,
                    "environment": r.env,
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


def _mint(client: hvac.Client, role_name: str, role: RoleState) -> str:
    """POST /v1/auth/token/create with the role's policies: what a login with the role is issued."""
    response = client.auth.token.create(
        policies=list(role.policies),
        no_default_policy=role.no_default_policy,
        ttl=CHECK_TOKEN_TTL,
        renewable=False,
        display_name=f"check-{role_name}",
        meta={"purpose": "gitops-poc vault check", "role": role_name},
    )
    return _client_token(response, "POST auth/token/create")


def _client_token(response: object, endpoint: str) -> str:
    token = answers.text(
        answers.obj(answers.body(response, endpoint) or {}, "auth", endpoint), "client_token", endpoint
    )
    if not token:
        raise answers.invalid(endpoint, "`auth.client_token`", "a token", None)
    return token


def _login(client: hvac.Client, mount: str, role_name: str, jwt: str) -> str:
    """POST /v1/auth/{mount}/login (sent without the caller's token)."""
    with _as_token(client, None):
        response = client.auth.kubernetes.login(role_name, jwt, use_token=False, mount_point=mount)
    return _client_token(response, f"POST auth/{mount}/login")


def _login_refused(client: hvac.Client, mount: str, role_name: str, jwt: str) -> Outcome:
    try:
        token = _login(client, mount, role_name, jwt)
    except (hvac.exceptions.Forbidden, hvac.exceptions.InvalidRequest):
        return Outcome.DENIED
    _revoke(client, token)
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

    def mount_of(self, env: str) -> str:
        """Where the environment's roles live: its cluster's mount (ArgoCD's own keeps `auth_mount`)."""
        cluster = self.platform.cluster_of(env)
        return self.platform.vault_auth_mount_of_cluster(cluster) if cluster else self.auth_mount


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

    Each identity asks Vault once for its capabilities on every path (sys/capabilities-self), then proves
    the answer with real requests: a read of its own secret, a read Vault must deny, and a real attempt at
    everything the capabilities say is allowed beyond its own read (a leak is confirmed, not inferred).
    `pairwise` makes one real request per path instead (the original proof; same verdicts, n x n calls)."""
    if identity is Identity.KUBERNETES and jwt_source is None:
        raise ValueError("a kubernetes check needs a jwt_source")
    targets = tuple((s, e) for s in platform.services for e in platform.environments)
    setup = _Setup(platform, identity, jwt_source, auth_mount, audience, targets, pairwise)
    # Every role and policy named with the platform's stem: its own, and what removed pairs left behind;
    # environments of other clusters have their roles on their cluster's mount.
    roles, _ = read_roles(client, platform, auth_mount)
    for mount in sorted({setup.mount_of(env) for env in platform.environments} - {auth_mount}):
        roles.update(read_roles(client, platform, mount)[0])
    policies, _ = read_policies(client, platform)
    results = []
    for index, (service, env) in enumerate(targets, start=1):
        results.append(
            _check_identity(client, setup, service, env, roles.get(platform.vault_role(service, env)))
        )
        if progress is not None:
            progress(index, len(targets))
    return CheckReport(identity, targets, tuple(results), find_leftovers(platform, roles, policies))


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
            token = _mint(client, role_name, role)
        else:
            assert setup.jwt_source is not None
            ns, sa = platform.namespace(env), platform.service_account(service)
            jwt = setup.jwt_source
            mount = setup.mount_of(env)
            default_login = _login_refused(client, mount, role_name, jwt(ns, "default", setup.audience))
            try:
                token = _login(client, mount, role_name, jwt(ns, sa, setup.audience))
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
        with _as_token(client, token) as own, vault_errors(own, f"using the token of {role_name}"):
            probe = _probe_pairwise if setup.pairwise else _probe
            result = probe(own, platform, service, env, role_name, role, setup.targets)
    finally:
        _revoke(client, token)
    return replace(
        result,
        default_login=default_login,
        problems=tuple(problems) + result.problems,
        wide_binding=tuple(wide),
    )


def _policies_problem(own: hvac.Client, role_name: str, role: RoleState) -> list[str]:
    endpoint = "GET auth/token/lookup-self"
    lookup = answers.obj(answers.body(own.auth.token.lookup_self(), endpoint) or {}, "data", endpoint)
    granted = sorted(answers.texts(lookup, "policies", endpoint))
    expected = sorted(set(role.policies) | (set() if role.no_default_policy else {"default"}))
    if granted != expected:
        return [f"the token of {role_name} carries policies {granted}, expected {expected}"]
    return []


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


def _probe(
    own: hvac.Client,
    platform: Platform,
    service: str,
    env: str,
    role_name: str,
    role: RoleState,
    targets: tuple[Pair, ...],
) -> IdentityResult:
    """One capabilities call for every path; real requests for its own read, one read that must be denied,
    and whatever the capabilities allow beyond that (so the matrix holds real outcomes, as pairwise)."""
    problems = _policies_problem(own, role_name, role)
    data_path = {pair: platform.vault_data_path(*pair) for pair in targets}
    list_path = platform.vault_metadata_root
    caps = capabilities_self(own, [*data_path.values(), list_path])

    def read(pair: Pair) -> Outcome:
        return _outcome(lambda: own.read(data_path[pair]))

    own_pair = (service, env)
    reads = {pair: Outcome.DENIED for pair in targets}
    denied_probe = None
    for pair in targets:
        if pair == own_pair or _may(caps[data_path[pair]], "read"):
            reads[pair] = read(pair)
        elif denied_probe is None:
            denied_probe = pair
    if denied_probe is not None:  # Vault said no: a real read must be refused as well
        reads[denied_probe] = read(denied_probe)
        if reads[denied_probe] is not Outcome.DENIED:
            problems.append(
                f"Vault's capabilities deny {role_name} reading {'/'.join(denied_probe)}, but a real read "
                f"got {reads[denied_probe].value}"
            )
    may_write = _may(caps[data_path[own_pair]], "create", "update")
    write_own = _write_own(own, platform, service, env) if may_write else Outcome.DENIED
    list_all = _list_all(own, platform) if _may(caps[list_path], "list") else Outcome.DENIED
    return IdentityResult(
        service, env, role_name, reads, write_own=write_own, list_all=list_all, problems=tuple(problems)
    )


def _probe_pairwise(
    own: hvac.Client,
    platform: Platform,
    service: str,
    env: str,
    role_name: str,
    role: RoleState,
    targets: tuple[Pair, ...],
) -> IdentityResult:
    """What the token can do: its policies, a read of every path, a write of its own, a list of all."""
    problems = _policies_problem(own, role_name, role)

    def read(path: str) -> Outcome:
        return _outcome(lambda: own.read(path))

    reads = {(s, e): read(platform.vault_data_path(s, e)) for s, e in targets}
    return IdentityResult(
        service,
        env,
        role_name,
        reads,
        write_own=_write_own(own, platform, service, env),
        list_all=_list_all(own, platform),
        problems=tuple(problems),
    )
