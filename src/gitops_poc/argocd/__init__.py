"""ArgoCD, offline: expand ApplicationSets into Applications exactly as the ApplicationSet controller does.

`gotemplate` runs Go text/template with the Sprig and ArgoCD functions (`goTemplate: true`), `fasttemplate`
the default `{{param}}` substitution, `appset` the generators, template and templatePatch, `applications`
the resulting Applications and their comparison between two revisions.
"""
