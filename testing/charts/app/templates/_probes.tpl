{{/*
One probe of the main container, as k8app 3.13 renders it. Input: dict "p" (the probe values), "live" (bool).
Nothing is rendered unless p.enabled. mode: httpGet | tcpSocket | execCommand | grpc; any other mode
renders only the timing fields (which the API server rejects). Timing fields use `| default`, so 0 falls back.
*/}}
{{- define "app.probe" -}}
{{- $p := .p -}}
failureThreshold: {{ $p.failureThreshold | default 3 }}
{{- if eq (toString $p.mode) "httpGet" }}
httpGet:
  path: {{ $p.httpGet.path }}
  port: {{ $p.httpGet.port | default 80 }}
  scheme: HTTP
{{- end }}
{{- if eq (toString $p.mode) "tcpSocket" }}
tcpSocket:
  {{- if .live }}
  port: {{ $p.tcpSocket.port | default 80 }}
  {{- else }}
  port: {{ $p.tcpSocket.port }}
  {{- end }}
{{- end }}
{{- if eq (toString $p.mode) "execCommand" }}
exec:
  command:
  {{- range $p.execCommand.command }}
  - {{ . }}
  {{- end }}
{{- end }}
{{- if eq (toString $p.mode) "grpc" }}
grpc:
  port: {{ $p.grpc.port | default 8080 }}
{{- end }}
initialDelaySeconds: {{ $p.initialDelaySeconds | default 5 }}
periodSeconds: {{ $p.periodSeconds | default 5 }}
successThreshold: {{ $p.successThreshold | default 1 }}
timeoutSeconds: {{ $p.timeoutSeconds | default 5 }}
{{- end -}}
