"""`gitops-poc demo`: the whole GitOps loop on this machine, with neither GitLab nor a cluster.

Every step runs the commands a user would type (gitops-poc, git, gitlab-ci-local) against real components
(git bare repositories, an OpenBao dev server, helm with the k8app chart) in a scratch workspace.
"""
