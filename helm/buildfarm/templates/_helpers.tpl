{{/*
Chart name, or nameOverride.
*/}}
{{- define "buildfarm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: the release name, with the chart name unless the release already holds it.
Kept short so that "<fullname>-agent-linux-arm-v7" stays a valid label value.
*/}}
{{- define "buildfarm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "buildfarm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Standard labels. Call with (dict "root" $ "component" "controller").
*/}}
{{- define "buildfarm.labels" -}}
helm.sh/chart: {{ include "buildfarm.chart" .root }}
{{ include "buildfarm.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: buildfarm
{{- end }}

{{/*
Selector labels (immutable on a Deployment: never add the version here).
*/}}
{{- define "buildfarm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "buildfarm.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "buildfarm.controller.fullname" -}}
{{- printf "%s-controller" (include "buildfarm.fullname" .) }}
{{- end }}

{{- define "buildfarm.assembler.fullname" -}}
{{- printf "%s-manifest-assembler" (include "buildfarm.fullname" .) }}
{{- end }}

{{/*
A container image. Call with (dict "root" $ "image" .Values.controller.image).
*/}}
{{- define "buildfarm.image" -}}
{{- $tag := .image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) .image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .image.repository $tag }}
{{- end }}
{{- end }}

{{- define "buildfarm.pullPolicy" -}}
{{- .image.pullPolicy | default .root.Values.image.pullPolicy }}
{{- end }}

{{/*
imagePullSecrets of a pod spec, or nothing. Use as:
  {{- with include "buildfarm.imagePullSecrets" . }}{{ . | nindent 6 }}{{ end }}
*/}}
{{- define "buildfarm.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Name of the Secret that holds the PostgreSQL password, and its key.
*/}}
{{- define "buildfarm.postgresql.secretName" -}}
{{- if .Values.postgresql.existingSecret }}
{{- .Values.postgresql.existingSecret }}
{{- else }}
{{- printf "%s-postgresql" (include "buildfarm.fullname" .) }}
{{- end }}
{{- end }}

{{- define "buildfarm.postgresql.secretKey" -}}
{{- if .Values.postgresql.existingSecret }}
{{- .Values.postgresql.existingSecretPasswordKey }}
{{- else -}}
password
{{- end }}
{{- end }}

{{/*
"linux-arm-v7" -> dict with platform "linux/arm/v7", os "linux", arch "arm", variant "v7".
*/}}
{{- define "buildfarm.platformOf" -}}
{{- $parts := splitList "-" . }}
{{- $variant := "" }}
{{- if gt (len $parts) 2 }}{{ $variant = index $parts 2 }}{{ end }}
{{- dict "platform" (join "/" $parts) "os" (index $parts 0) "arch" (index $parts 1) "variant" $variant | toJson }}
{{- end }}

{{/*
Effective autoscaling settings of a pool: agents.autoscaling overridden key by key by the pool's own
block (a plain merge would let false and 0 in the pool lose against the defaults).
Call with (dict "root" $ "pool" $pool); renders JSON.
*/}}
{{- define "buildfarm.autoscaling" -}}
{{- $as := deepCopy .root.Values.agents.autoscaling }}
{{- range $k, $v := (.pool.autoscaling | default dict) }}
{{- $_ := set $as $k $v }}
{{- end }}
{{- if not (hasKey $as "maxReplicas") }}
{{- $_ := set $as "maxReplicas" .root.Values.kafka.jobPartitions }}
{{- end }}
{{- $as | toJson }}
{{- end }}

{{/*
TLS of one service (dict "root" $ "component" "controller|manifest-assembler|agent"), when tls.enabled:
Quarkus reads the TLS registry and gRPC client settings from the chart's ConfigMap (named map keys
such as quarkus.tls.farm.* have no reliable environment variable form), the rest from the environment.
*/}}
{{- define "buildfarm.tls.env" -}}
{{- $tls := .root.Values.tls -}}
- name: QUARKUS_CONFIG_LOCATIONS
  value: /etc/buildfarm/tls-config/{{ .component }}.properties
- name: QUARKUS_HTTP_SSL_PORT
  value: {{ $tls.port | quote }}
- name: QUARKUS_HTTP_INSECURE_REQUESTS
  value: disabled
- name: BUILDFARM_TLS_REQUIRE_CLIENT_CERTIFICATE
  value: {{ $tls.requireClientCertificate | quote }}
{{- end }}

{{- define "buildfarm.tls.volumeMounts" -}}
- name: tls
  mountPath: /etc/buildfarm/tls
  readOnly: true
- name: tls-config
  mountPath: /etc/buildfarm/tls-config
  readOnly: true
{{- end }}

{{- define "buildfarm.tls.volumes" -}}
- name: tls
  secret:
    secretName: {{ required "tls.existingSecret: a Secret with tls.crt, tls.key and ca.crt is needed when tls.enabled" .Values.tls.existingSecret }}
    defaultMode: 0400
- name: tls-config
  configMap:
    name: {{ include "buildfarm.fullname" . }}-tls
{{- end }}

{{/* The port probes and Services use: https with TLS, http without. */}}
{{- define "buildfarm.portName" -}}
{{- if .Values.tls.enabled }}https{{ else }}http{{ end }}
{{- end }}

{{/* A gRPC client (its name) over TLS: trusts ca.crt, presents tls.crt (for servers that require a client certificate). */}}
{{- define "buildfarm.tls.client" -}}
quarkus.grpc.clients.{{ . }}.ssl.trust-store=/etc/buildfarm/tls/ca.crt
quarkus.grpc.clients.{{ . }}.ssl.certificate=/etc/buildfarm/tls/tls.crt
quarkus.grpc.clients.{{ . }}.ssl.key=/etc/buildfarm/tls/tls.key
{{- end }}
