"""`publish`: push each generated repository (gitops-config, every service) to its remote, never rewriting
history: the platform root's files are merged onto whatever the remote has, and pushed fast-forward only."""

from gitops_poc.publish.model import Outcome, RepoResult, Repository, repositories
from gitops_poc.publish.remote import RemoteBase, parse_remote_base
from gitops_poc.publish.run import publish

__all__ = [
    "Outcome",
    "RemoteBase",
    "RepoResult",
    "Repository",
    "parse_remote_base",
    "publish",
    "repositories",
]
