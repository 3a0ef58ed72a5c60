"""`status`: what runs where, from the service repositories' git history and Argo CD, and drift."""
