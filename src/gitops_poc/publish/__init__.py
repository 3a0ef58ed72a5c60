"""`publish`: push each generated repository (gitops-config, every service) to its remote, never rewriting
history: the platform root's files are merged onto whatever the remote has, and pushed fast-forward only.

model (the repositories, the results) and remote (where each goes) are pure; git is the adapter; run is the
use case. Import the module you need: this package imports none of them.
"""
