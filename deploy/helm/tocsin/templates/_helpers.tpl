{{/* The chart's name, or nameOverride. */}}
{{- define "tocsin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: fullnameOverride, else the release name (with the chart's name unless it contains it). */}}
{{- define "tocsin.fullname" -}}
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

{{- define "tocsin.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels every object carries. */}}
{{- define "tocsin.labels" -}}
helm.sh/chart: {{ include "tocsin.chart" . }}
{{ include "tocsin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that pick this release's pods. */}}
{{- define "tocsin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tocsin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tocsin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tocsin.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret with the tokens and DATABASE_URL: yours (existingSecret) or the chart's. */}}
{{- define "tocsin.secretName" -}}
{{- default (include "tocsin.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* The ConfigMap with tocsin.yml: yours (policy.existingConfigMap) or the chart's. */}}
{{- define "tocsin.configMapName" -}}
{{- default (printf "%s-policy" (include "tocsin.fullname" .)) .Values.policy.existingConfigMap }}
{{- end }}

{{- define "tocsin.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* SQLite means exactly one process: refuse to render a setup that would share one file. */}}
{{- define "tocsin.checkSqlite" -}}
{{- $sqlite := or .Values.persistence.enabled (hasPrefix "sqlite" .Values.secret.databaseUrl) }}
{{- if and $sqlite (gt (int .Values.replicaCount) 1) }}
{{- fail "SQLite means exactly one process: set replicaCount to 1, or use PostgreSQL (secret.databaseUrl postgresql://…) for more replicas" }}
{{- end }}
{{- end }}
