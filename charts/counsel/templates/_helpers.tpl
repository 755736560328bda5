{{/* The chart's name, or nameOverride. */}}
{{- define "counsel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the Deployment, Service, ServiceAccount and webhook
configurations: fullnameOverride, or the release name when it already
contains the chart's name, or RELEASE-counsel. At most 56 characters, so
that NAME-config fits in 63.
*/}}
{{- define "counsel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- $name := include "counsel.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 56 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 56 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The labels that select Counsel's pods. */}}
{{- define "counsel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "counsel.name" . }}
app.kubernetes.io/instance: {{ include "counsel.fullname" . }}
{{- end }}

{{/* The labels of every object. */}}
{{- define "counsel.labels" -}}
{{ include "counsel.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 }}
{{- end }}

{{/* The ServiceAccount's name. */}}
{{- define "counsel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "counsel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret holding tls.crt and tls.key: tls.existingSecret when given
(and cert-manager is not used), otherwise NAME-tls.
*/}}
{{- define "counsel.tlsSecretName" -}}
{{- if and .Values.tls.existingSecret (not .Values.certManager.enabled) }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "counsel.fullname" .) }}
{{- end }}
{{- end }}

{{/* The image reference: by digest when one is given, else by tag. */}}
{{- define "counsel.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
counsel.yaml: configFile as written, or config as YAML, with the
pod-security policies enforced when `enforce` is set.
*/}}
{{- define "counsel.config" -}}
{{- if .Values.configFile }}
{{- .Values.configFile }}
{{- else }}
{{- $config := deepCopy .Values.config }}
{{- if .Values.enforce }}
{{- range $policy := ($config.policies | default list) }}
{{- if eq (toString (get ($policy | default dict) "module")) "builtin:pod-security" }}
{{- $_ := set $policy "mode" "enforce" }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml $config }}
{{- end }}
{{- end }}

{{/*
"true" when a policy, or a rule of one, is in fix mode: then the mutating
webhook is deployed too.
*/}}
{{- define "counsel.usesFixMode" -}}
{{- $config := include "counsel.config" . | fromYaml }}
{{- range $policy := ($config.policies | default list) }}
{{- if eq (toString (get ($policy | default dict) "mode")) "fix" }}true{{ end }}
{{- range $id, $rule := (get ($policy | default dict) "rules" | default dict) }}
{{- if eq (toString (get ($rule | default dict) "mode")) "fix" }}true{{ end }}
{{- end }}
{{- end }}
{{- end }}

{{/* The namespaces the webhooks never see: the configured ones and the release's own. */}}
{{- define "counsel.excludedNamespaces" -}}
{{- $namespaces := .Values.webhook.excludeNamespaces | default list }}
{{- toYaml (append $namespaces .Release.Namespace | uniq) }}
{{- end }}
