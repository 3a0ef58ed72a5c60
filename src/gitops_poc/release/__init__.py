"""Releases with brakes: freeze windows (Argo CD sync windows), promotion on evidence, lasting rollbacks."""
