"""The one origin a GitLab token may be sent to (its home), decided once, checked by every git and API call.

GitLab's address is GITLAB_URL, else (in GitLab CI) CI_SERVER_URL, else https://GITLAB_HOST: only the
process environment and the platform's configuration name it, never a remote base or a file a merge request
can change in the checkout. GITLAB_TOKEN, --token-file and GITOPS_REVIEW_TOKEN belong to that address; a CI
job token belongs to CI_SERVER_URL alone (GitLab checks it against each project's allowlist). A remote or
API URL on another origin (host, port or scheme) is sent no token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gitops_poc.errors import UsageError
from gitops_poc.urls import Origin, origin, show_origin, shown

ADDRESS_RULE = "GITLAB_URL, else in GitLab CI CI_SERVER_URL, else https://GITLAB_HOST"
JOB_TOKEN_USER = "gitlab-ci-token"  # the user name GitLab takes a CI job token with over git


class TokenElsewhere(UsageError):
    """A URL on another origin than the token's home was about to be sent the token: refused (exit 2)."""


@dataclass(frozen=True)
class Home:
    """GitLab's origin and where its address came from (a variable or option name)."""

    origin: Origin
    source: str

    def __str__(self) -> str:
        return f"{show_origin(self.origin)} ({self.source})"


def _home(url: str, source: str) -> Home:
    try:
        return Home(origin(url.strip()), source)
    except ValueError:
        raise UsageError(
            f"{source}={shown(url)!r} is not an http(s):// URL with a host (e.g. https://gitlab.example.com)"
        ) from None


def gitlab_address(environ: Mapping[str, str], gitlab_host: str | None) -> tuple[str, str] | None:
    """(GitLab's URL, the variable it came from) by ADDRESS_RULE; None when none is set."""
    for name in ("GITLAB_URL", "CI_SERVER_URL"):
        if value := environ.get(name, "").strip():
            return value.rstrip("/"), name
    return (f"https://{gitlab_host}", "GITLAB_HOST") if gitlab_host else None


def gitlab_home(
    environ: Mapping[str, str], gitlab_host: str | None, explicit: tuple[str, str] | None = None
) -> Home | None:
    """GitLab's origin: `explicit` (an option's (value, name), e.g. `--url`), else ADDRESS_RULE; None when
    none of them is set (no platform configuration at hand)."""
    found = explicit or gitlab_address(environ, gitlab_host)
    return _home(*found) if found else None


def job_home(environ: Mapping[str, str]) -> Home | None:
    """A CI job token's origin: its own GitLab, CI_SERVER_URL (None outside GitLab CI)."""
    value = environ.get("CI_SERVER_URL", "").strip()
    return _home(value, "CI_SERVER_URL") if value else None


@dataclass(frozen=True)
class Token:
    """A token with the name it was given by (for messages) and the one origin it is sent to."""

    value: str = field(repr=False)
    name: str  # GITLAB_TOKEN, --token-file, CI_JOB_TOKEN, GITOPS_REVIEW_TOKEN
    home: Home
    user: str = "oauth2"  # git's user name for it (GitLab takes any for a personal token)

    def belongs_to(self, url: str) -> bool:
        try:
            return origin(url) == self.home.origin
        except ValueError:  # not http(s): an ssh or local remote never takes it
            return False

    def withheld(self, url: str) -> str:
        return withheld(self.name, str(self.home), url)

    def for_url(self, url: str, what: str) -> str:
        """The value, for a request to `url`; TokenElsewhere naming `what` when `url` is not its home."""
        if not self.belongs_to(url):
            raise TokenElsewhere(f"{what} {shown(url)}: {self.withheld(url)}")
        return self.value


def withheld(name: str, home: str, url: str) -> str:
    """Why `url` is not sent the token `name` whose home is `home` (one line, no secret)."""
    try:
        there = show_origin(origin(url))
    except ValueError:
        there = shown(url)
    return (
        f"{name} is only sent to GitLab at {home}, not to {there}; if {there} is that GitLab under another "
        f"address, set GITLAB_URL to it ({ADDRESS_RULE})"
    )


def gitlab_token(
    value: str | None, name: str, environ: Mapping[str, str], gitlab_host: str | None
) -> Token | None:
    """`value` (None or empty: no token) bound to GitLab's origin; a token without any known home is
    refused: it could only be sent nowhere, so saying so beats a later authentication failure."""
    if not value:
        return None
    home = gitlab_home(environ, gitlab_host)
    if home is None:
        raise UsageError(f"{name} is set but GitLab's address is not: set GITLAB_URL ({ADDRESS_RULE})")
    return Token(value, name, home)


def reading_token(url: str | None, environ: Mapping[str, str], gitlab_host: str | None) -> Token | None:
    """The token to read repositories under `url` with: GITLAB_TOKEN when `url` is on its home, else the CI
    job token when `url` is on CI_SERVER_URL's origin; else the first one that is set (it will be withheld,
    and git's failure then says why), or None."""
    if url is None or not url.startswith(("http://", "https://")):
        return None  # a local or ssh remote: no token, and no address to check
    found: list[Token] = []
    if value := environ.get("GITLAB_TOKEN"):
        home = gitlab_home(environ, gitlab_host)
        if home is not None:
            found.append(Token(value, "GITLAB_TOKEN", home))
    job_token, home = environ.get("CI_JOB_TOKEN"), job_home(environ)
    if job_token and home is not None:
        found.append(Token(job_token, "CI_JOB_TOKEN", home, JOB_TOKEN_USER))
    return next((t for t in found if t.belongs_to(url)), found[0] if found else None)
