"""auth-adapter: Envoy's external authorization service (envoy.service.auth.v3) for the gitops-poc gateway."""

__version__ = "0.1.0"
