"""Standing the platform up on Kubernetes: plans (pure) and thin adapters (kubernetes client, helm, minikube)."""
