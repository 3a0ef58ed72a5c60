"""gitops-poc: one tool for a multi-repository GitOps platform."""

__version__ = "0.1.0"
