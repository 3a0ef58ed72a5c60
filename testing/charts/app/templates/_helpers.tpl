{{/*
Helpers of the k8app `app` 3.13.0 stand-in. Names, labels and defaults follow k8app-contract.md.
*/}}

{{/* The app name: required, like the real chart (values.yaml defaults it to "app"). */}}
{{- define "app.name" -}}
{{- required "Please specify an app_name at .Values.appName" .Values.appName -}}
{{- end -}}

{{/* "app-<chart version>" for the `chart` label. */}}
{{- define "app.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version -}}
{{- end -}}

{{/* appver label value: the image tag truncated to its LAST 63 characters (3.13). */}}
{{- define "app.labelVersion" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion | default "latest" -}}
{{- $tag | toString | trunc -63 -}}
{{- end -}}

{{/* Replace {env} by .Values.environment (3.13; configmap values and secret paths). Input: dict value, root. */}}
{{- define "app.resolveEnv" -}}
{{- .value | toString | replace "{env}" (.root.Values.environment | default "" | toString) -}}
{{- end -}}

{{/* "true" when secrets are rendered as VaultStaticSecrets. */}}
{{- define "app.vaultEnabled" -}}
{{- if and .Values.secretsProvider (eq (toString .Values.secretsProvider.provider) "vault") .Values.secrets -}}
true
{{- end -}}
{{- end -}}

{{/* "true" when secrets use the legacy CSI secrets-store path (provider none/aws or no secretsProvider). */}}
{{- define "app.csiSecrets" -}}
{{- if and .Values.secrets (or (not .Values.secretsProvider) (ne (toString .Values.secretsProvider.provider) "vault")) -}}
true
{{- end -}}
{{- end -}}

{{/*
The unique resolved secret paths, sorted, as JSON: {"paths": [...], "keys": {path: [ENV_VAR, ...]}}.
The index of a path in "paths" gives the object name <appName>-vault-<index>.
*/}}
{{- define "app.vaultPaths" -}}
{{- $root := . -}}
{{- $byPath := dict -}}
{{- range $envVar, $path := .Values.secrets -}}
{{- $resolved := include "app.resolveEnv" (dict "value" $path "root" $root) -}}
{{- $keys := get $byPath $resolved | default list -}}
{{- $_ := set $byPath $resolved (append $keys $envVar) -}}
{{- end -}}
{{- dict "paths" (keys $byPath | sortAlpha) "keys" $byPath | toJson -}}
{{- end -}}
