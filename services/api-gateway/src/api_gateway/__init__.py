"""api-gateway: writes the Envoy v3 bootstrap for the gitops-poc gateway from the shared config.yaml."""

__version__ = "0.1.0"
