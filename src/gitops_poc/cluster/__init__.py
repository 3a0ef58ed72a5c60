"""Standing the platform up on Kubernetes: pure plans, thin adapters (kubernetes client, helm, minikube)."""
