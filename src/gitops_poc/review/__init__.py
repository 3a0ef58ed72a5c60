"""What a merge request will do, for its reviewers: rendered differences, deletions, lint, Vault."""
