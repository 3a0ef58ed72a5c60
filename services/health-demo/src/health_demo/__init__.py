"""health-demo: the standard gRPC health service (grpc.health.v1.Health) of the gitops-poc platform."""

__version__ = "0.1.0"
