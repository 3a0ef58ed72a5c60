"""`lint`: the configuration principles of the seed README and the k8app chart contract, checked offline."""

from gitops_poc.lint.catalog import RULES, Rule
from gitops_poc.lint.findings import Finding, Severity
from gitops_poc.lint.runner import lint_platform

__all__ = ["RULES", "Finding", "Rule", "Severity", "lint_platform"]
