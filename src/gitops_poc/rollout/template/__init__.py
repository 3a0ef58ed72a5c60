"""`rollout template`: what changed in templates/service-repo, merged into every service repository."""
