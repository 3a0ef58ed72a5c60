"""Pure planning of a group access token kept in a group CI/CD variable: create, rotate near expiry,
replace one with the wrong scopes or role, and what `gitlab check` says about it."""

from __future__ import annotations

from datetime import date, timedelta

from gitops_poc.gitlab.model import ROLES, AccessToken, AccessTokenState, Difference, Kind, State, Step

_ISSUED = "value to {key}: {flags}"


def flags(token: AccessToken) -> str:
    var = token.variable
    shown = ["masked" if var.masked else "not masked"]
    if var.hidden:
        shown.append("hidden")
    shown.append("protected" if var.protected else "not protected")
    return ", ".join(shown)


def role(level: int) -> str:
    return ROLES.get(level, f"level {level}")


def expires_at(token: AccessToken, today: date) -> date:
    return today + timedelta(days=token.lifetime_days)


def _fits(token: AccessToken, found: AccessTokenState) -> bool:
    return set(found.scopes) == set(token.scopes) and found.access_level == token.access_level


def _days_left(found: AccessTokenState, today: date) -> int | None:
    return None if found.expires_at is None else (found.expires_at - today).days


def _current(token: AccessToken, state: State) -> AccessTokenState | None:
    """The unexpired token of that name with the planned scopes and role that lives longest, if any (GitLab
    can only rotate an active one)."""
    fitting = [
        t
        for t in state.access_tokens
        if t.name == token.name and _fits(token, t) and (_days_left(t, state.today) or 0) >= 0
    ]
    return max(fitting, key=lambda t: (t.expires_at or date.max, t.id), default=None)


def _target(token: AccessToken, found: AccessTokenState) -> str:
    """How a step names an existing token: `<name>#<id>` (rotate and revoke act on that id)."""
    return f"{token.name}#{found.id}"


def token_id(step: Step) -> int:
    return int(step.target.rpartition("#")[2])


def plan_access_token(token: AccessToken, state: State) -> list[Step]:
    """Create it when there is none that fits; rotate it when it expires within `renew_within_days` or when
    its variable is missing (GitLab shows a value only when it issues one); revoke tokens of that name with
    other scopes or role; fix the variable's flags."""
    steps: list[Step] = []
    key = token.variable.key
    issued = _ISSUED.format(key=key, flags=flags(token))
    current = _current(token, state)
    variable = state.variables.get(key)
    if current is None:
        detail = (
            f"{', '.join(token.scopes)}, {role(token.access_level)}, "
            f"expires {expires_at(token, state.today).isoformat()}; {issued}"
        )
        steps.append(Step(Kind.ACCESS_TOKEN, "create", token.name, detail))
    else:
        left = _days_left(current, state.today)
        if left is not None and left < token.renew_within_days:
            why = f"expires {current.expires_at}, in {left} days"
            steps.append(Step(Kind.ACCESS_TOKEN, "rotate", _target(token, current), f"{why}; {issued}"))
        elif variable is None:
            steps.append(
                Step(Kind.ACCESS_TOKEN, "rotate", _target(token, current), f"{key} is missing; {issued}")
            )
        elif (variable.masked, variable.protected) != (token.variable.masked, token.variable.protected):
            steps.append(Step(Kind.VARIABLE, "update", key, flags(token)))
    for other in state.access_tokens:
        if other.name == token.name and not _fits(token, other):
            detail = f"{', '.join(other.scopes)}, {role(other.access_level)}: not the plan's"
            steps.append(Step(Kind.ACCESS_TOKEN, "revoke", _target(token, other), detail))
    return steps


def check_access_token(token: AccessToken, state: State) -> list[Difference]:
    found: list[Difference] = []
    key = token.variable.key
    current = _current(token, state)
    for other in state.access_tokens:
        if other.name == token.name and not _fits(token, other):
            found.append(
                Difference(
                    token.name,
                    f"group access token has {', '.join(other.scopes)}, {role(other.access_level)}; "
                    f"the plan says {', '.join(token.scopes)}, {role(token.access_level)}",
                )
            )
    if current is None:
        found.append(
            Difference(token.name, "group access token is missing (none active: revoked or expired)")
        )
    else:
        left = _days_left(current, state.today)
        if left is not None and left < token.renew_within_days:
            found.append(
                Difference(
                    token.name,
                    f"group access token expires on {current.expires_at} (in {left} days): "
                    "`gitlab bootstrap` rotates it",
                )
            )
    variable = state.variables.get(key)
    if variable is None:
        found.append(Difference(key, "variable is missing"))
        return found
    if token.variable.masked and not variable.masked:
        found.append(Difference(key, "variable is not masked"))
    if variable.protected and not token.variable.protected:
        found.append(
            Difference(
                key, "variable is protected: merge-request pipelines of feature branches do not see it"
            )
        )
    return found


__all__ = ["check_access_token", "expires_at", "flags", "plan_access_token", "role", "token_id"]
