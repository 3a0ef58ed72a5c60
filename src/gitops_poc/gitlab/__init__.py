"""GitLab for the platform: the group, its projects, protected branches, CI variables, the registry deploy
token and the agent, planned as data (`plan`) and applied through python-gitlab (`client`)."""
