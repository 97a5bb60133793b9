{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "rootgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, unless it already contains the chart name. */}}
{{- define "rootgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "rootgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rootgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rootgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rootgate.labels" -}}
helm.sh/chart: {{ include "rootgate.chart" . }}
{{ include "rootgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* "true" when rootgate calls the Kubernetes API (its service account token is then mounted). */}}
{{- define "rootgate.apiAccess" -}}
{{- if or .Values.kubeApi.enabled .Values.audit.enabled }}true{{ else }}false{{ end }}
{{- end }}

{{- define "rootgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rootgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding tls.crt and tls.key (and ca.crt in the selfSigned and certManager modes). */}}
{{- define "rootgate.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "existingSecret" }}
{{- required "certificates.existingSecret.name is required when certificates.mode is existingSecret" .Values.certificates.existingSecret.name }}
{{- else }}
{{- printf "%s-tls" (include "rootgate.fullname" .) }}
{{- end }}
{{- end }}

{{- define "rootgate.policyConfigMapName" -}}
{{- default (printf "%s-policy" (include "rootgate.fullname" .)) .Values.policy.existingConfigMap }}
{{- end }}

{{/* The Service's DNS names, which the serving certificate must cover. */}}
{{- define "rootgate.dnsNames" -}}
{{- $svc := include "rootgate.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) | toJson }}
{{- end }}

{{- define "rootgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Replicas the Deployment can have at most (sizes the ResourceQuota for critical pods). */}}
{{- define "rootgate.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.maxReplicas }}{{ else }}{{ .Values.replicaCount }}{{ end }}
{{- end }}

{{/* Replicas the Deployment has at least: a PodDisruptionBudget only makes sense above 1. */}}
{{- define "rootgate.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas }}{{ else }}{{ .Values.replicaCount }}{{ end }}
{{- end }}

{{/* A map as YAML without its null entries (lets users unset e.g. runAsUser on OpenShift). */}}
{{- define "rootgate.dropNulls" -}}
{{- $out := dict }}
{{- range $k, $v := . }}
{{- if not (kindIs "invalid" $v) }}
{{- $_ := set $out $k $v }}
{{- end }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/* Port and scheme of the probes: HTTPS on the webhook port, or plain HTTP on healthPort when
mTLS is on (the kubelet has no client certificate). */}}
{{- define "rootgate.probeEndpoint" -}}
{{- if .Values.clientCA.enabled -}}
port: health
scheme: HTTP
{{- else -}}
port: https
scheme: HTTPS
{{- end }}
{{- end }}
