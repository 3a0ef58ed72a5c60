"""Turn the configuration into the files of every platform repository."""

from gitops_poc.generate.init_plan import plan_init

__all__ = ["plan_init"]
