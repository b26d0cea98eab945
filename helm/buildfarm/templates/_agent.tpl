{{/*
One agent pool: a Deployment whose pods run the agent and its Docker engine.
Call with (dict "root" $ "pool" "linux-arm-v7" "values" $poolValues "platforms" (list "linux/arm/v7")
               "nodeSelector" $selector "affinity" $affinity "allowEmulation" false "binfmt" $binfmtOrNil)
*/}}
{{- define "buildfarm.agentPool" -}}
{{- $root := .root }}
{{- $agents := $root.Values.agents }}
{{- $v := .values }}
{{- $name := printf "%s-agent-%s" (include "buildfarm.fullname" $root) .pool }}
{{- $as := include "buildfarm.autoscaling" (dict "root" $root "pool" $v) | fromJson }}
{{- $docker := $agents.docker }}
{{- $sidecar := eq $docker.mode "sidecar" }}
{{- $dockerHost := ternary "unix:///var/run/dind/docker.sock" "unix:///var/run/docker.sock" $sidecar }}
{{- $creds := $root.Values.registry.credentials.existingSecret }}
{{- $resources := $v.resources | default $agents.resources }}
{{- $tolerations := concat ($agents.tolerations | default list) ($v.tolerations | default list) }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "buildfarm.labels" (dict "root" $root "component" "agent") | nindent 4 }}
    buildfarm.dev/pool: {{ .pool }}
spec:
  {{- if not $as.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  {{- /* Replace agents one by one: a terminating agent keeps building until its job is done. */}}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "buildfarm.selectorLabels" (dict "root" $root "component" "agent") | nindent 6 }}
      buildfarm.dev/pool: {{ .pool }}
  template:
    metadata:
      labels:
        {{- include "buildfarm.labels" (dict "root" $root "component" "agent") | nindent 8 }}
        buildfarm.dev/pool: {{ .pool }}
      annotations:
        kubectl.kubernetes.io/default-container: agent
        {{- with $agents.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with include "buildfarm.imagePullSecrets" $root }}{{ . | nindent 6 }}{{ end }}
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ $agents.terminationGracePeriodSeconds }}
      {{- with $agents.podSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if or .binfmt (and $sidecar $docker.sidecar.native) }}
      initContainers:
        {{- with .binfmt }}
        # Registers the QEMU handlers (binfmt_misc, with the F flag) in the node's kernel, so that the
        # engine runs foreign-architecture RUN steps. Kernel-wide: privileged by necessity.
        - name: binfmt
          image: {{ .image }}
          imagePullPolicy: {{ .pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          securityContext:
            privileged: true
        {{- end }}
        {{- if and $sidecar $docker.sidecar.native }}
        {{- include "buildfarm.dind" (dict "root" $root "native" true) | nindent 8 }}
        {{- end }}
      {{- end }}
      containers:
        {{- if and $sidecar (not $docker.sidecar.native) }}
        {{- /* First, so that its postStart hook holds the agent back until the engine answers. */}}
        {{- include "buildfarm.dind" (dict "root" $root "native" false) | nindent 8 }}
        {{- end }}
        - name: agent
          image: {{ include "buildfarm.image" (dict "root" $root "image" $agents.image) }}
          imagePullPolicy: {{ include "buildfarm.pullPolicy" (dict "root" $root "image" $agents.image) }}
          ports:
            {{- if $root.Values.tls.enabled }}
            - name: https
              containerPort: {{ $root.Values.tls.port }}
              protocol: TCP
            {{- else }}
            - name: http
              containerPort: 8081
              protocol: TCP
            {{- end }}
          env:
            - name: BUILDFARM_AGENT_NAME
              valueFrom:
                fieldRef:
                  fieldPath: metadata.name
            - name: BUILDFARM_AGENT_PLATFORMS
              value: {{ join "," .platforms | quote }}
            - name: BUILDFARM_AGENT_ALLOW_EMULATION
              value: {{ .allowEmulation | quote }}
            - name: BUILDFARM_AGENT_DOCKER_HOST
              value: {{ $dockerHost | quote }}
            - name: BUILDFARM_AGENT_PROBE_IMAGE
              value: {{ $agents.probeImage | quote }}
            - name: BUILDFARM_AGENT_WORK_DIR
              value: /var/lib/buildfarm-agent
            {{- if $root.Values.auth.existingSecret }}
            - name: BUILDFARM_AGENT_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ $root.Values.auth.existingSecret }}
                  key: agent-token
            {{- end }}
            - name: KAFKA_BOOTSTRAP_SERVERS
              value: {{ $root.Values.kafka.bootstrapServers | quote }}
            - name: QUARKUS_GRPC_CLIENTS_CONTROLLER_HOST
              value: {{ include "buildfarm.controller.fullname" $root }}
            - name: QUARKUS_GRPC_CLIENTS_CONTROLLER_PORT
              value: {{ ternary $root.Values.tls.port $root.Values.controller.service.port $root.Values.tls.enabled | quote }}
            {{- if $root.Values.tls.enabled }}
            {{- include "buildfarm.tls.env" (dict "root" $root "component" "agent") | nindent 12 }}
            {{- end }}
            - name: QUARKUS_HTTP_HOST
              value: 0.0.0.0
            - name: QUARKUS_HTTP_PORT
              value: "8081"
            {{- if $creds }}
            - name: DOCKER_CONFIG
              value: /etc/buildfarm/docker
            - name: BUILDFARM_REGISTRY_DOCKER_CONFIG
              value: /etc/buildfarm/docker/config.json
            {{- end }}
            - name: BUILDFARM_LOG_JSON
              value: {{ $root.Values.logging.json | quote }}
            {{- with $agents.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          volumeMounts:
            - name: work
              mountPath: /var/lib/buildfarm-agent
            {{- if $sidecar }}
            - name: docker-socket
              mountPath: /var/run/dind
            {{- else }}
            - name: docker-socket
              mountPath: /var/run/docker.sock
            {{- end }}
            {{- if $creds }}
            - name: registry-credentials
              mountPath: /etc/buildfarm/docker
              readOnly: true
            {{- end }}
            {{- if $root.Values.tls.enabled }}
            {{- include "buildfarm.tls.volumeMounts" $root | nindent 12 }}
            {{- end }}
          # Ready once the platform probe has run and at least one platform is served.
          startupProbe:
            httpGet:
              path: /q/health/started
              port: {{ include "buildfarm.portName" $root }}
              {{- if $root.Values.tls.enabled }}
              scheme: HTTPS
              {{- end }}
            periodSeconds: 5
            failureThreshold: 60
          readinessProbe:
            httpGet:
              path: /q/health/ready
              port: {{ include "buildfarm.portName" $root }}
              {{- if $root.Values.tls.enabled }}
              scheme: HTTPS
              {{- end }}
            periodSeconds: 10
            failureThreshold: 3
          livenessProbe:
            httpGet:
              path: /q/health/live
              port: {{ include "buildfarm.portName" $root }}
              {{- if $root.Values.tls.enabled }}
              scheme: HTTPS
              {{- end }}
            periodSeconds: 10
            failureThreshold: 6
          {{- with $agents.securityContext }}
          securityContext:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with $resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      volumes:
        - name: work
          emptyDir: {}
        {{- if $sidecar }}
        - name: docker-socket
          emptyDir: {}
        - name: docker-storage
          {{- if $docker.sidecar.storageSizeLimit }}
          emptyDir:
            sizeLimit: {{ $docker.sidecar.storageSizeLimit }}
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- else }}
        - name: docker-socket
          hostPath:
            path: {{ $docker.hostSocket.path }}
            type: Socket
        {{- end }}
        {{- if $creds }}
        - name: registry-credentials
          secret:
            secretName: {{ $creds }}
            items:
              - key: .dockerconfigjson
                path: config.json
        {{- end }}
        {{- if $root.Values.tls.enabled }}
        {{- include "buildfarm.tls.volumes" $root | nindent 8 }}
        {{- end }}
      nodeSelector:
        {{- toYaml .nodeSelector | nindent 8 }}
      {{- with $tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}

{{/*
The Docker-in-Docker engine. Its socket is shared through the docker-socket emptyDir.
Call with (dict "root" $ "native" true|false).
*/}}
{{- define "buildfarm.dind" -}}
{{- $s := .root.Values.agents.docker.sidecar -}}
- name: docker
  image: {{ $s.image }}
  imagePullPolicy: {{ $s.pullPolicy }}
  {{- if .native }}
  # A native sidecar: started (and ready) before the agent, stopped after it.
  restartPolicy: Always
  {{- end }}
  args:
    - dockerd
    - --host=unix:///var/run/dind/docker.sock
    {{- range .root.Values.registry.insecure }}
    - --insecure-registry={{ . }}
    {{- end }}
    {{- range $s.extraArgs }}
    - {{ . | quote }}
    {{- end }}
  env:
    # No TCP listener, so no TLS certificates: the engine is reached through the shared socket only.
    - name: DOCKER_TLS_CERTDIR
      value: ""
  securityContext:
    privileged: true
  startupProbe:
    exec:
      command: ["docker", "--host=unix:///var/run/dind/docker.sock", "version"]
    periodSeconds: 2
    failureThreshold: 60
  {{- if not .native }}
  lifecycle:
    # The kubelet starts the next container (the agent) only when this hook has returned.
    postStart:
      exec:
        command: ["sh", "-c", "until docker --host=unix:///var/run/dind/docker.sock version >/dev/null 2>&1; do sleep 1; done"]
    preStop:
      exec:
        # Keep the engine until the agent has finished its build and exited.
        {{- if .root.Values.tls.enabled }}
        # (Over TLS: health needs no client certificate; the pod's own certificate names no 127.0.0.1.)
        command: ["sh", "-c", "while wget -q -T 2 --no-check-certificate -O /dev/null https://127.0.0.1:{{ .root.Values.tls.port }}/q/health/live; do sleep 2; done"]
        {{- else }}
        command: ["sh", "-c", "while wget -q -T 2 -O /dev/null http://127.0.0.1:8081/q/health/live; do sleep 2; done"]
        {{- end }}
  {{- end }}
  volumeMounts:
    - name: docker-socket
      mountPath: /var/run/dind
    - name: docker-storage
      mountPath: /var/lib/docker
  {{- with $s.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
