"""Delivery: write an image into an environment's values file and push it without losing anyone's change
(`ci bump`, `ci promote`, `ci pin`), or deploy it with Helm through the GitLab agent (`ci deploy`)."""
