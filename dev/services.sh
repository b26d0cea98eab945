#!/usr/bin/env bash
# The farm's own services on this host: controller (:8080, TLS :8443), manifest assembler (:8082,
# TLS :8445) and one agent (:8081, TLS :8444) serving all four platforms (amd64 natively, the arm
# ones under QEMU). Every gRPC client of the farm uses the TLS ports with a client certificate
# (mutual TLS); the plain ports stay open on loopback for the dashboard, webhooks, metrics and health.
# Usage: dev/services.sh up|down|status     (build first: ./mvnw install -DskipTests)
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
RUN="$STACK_DIR/services"
LOGS="$STACK_DIR/logs"
mkdir -p "$RUN" "$LOGS"

log() { echo "[services] $(date +%T) $*"; }

# The farm's first tokens, made once per stack: an operator token (for the CLI, tests, bench and
# demo) and the agent's token. The controller stores their SHA-256 at start; the files stay 0600.
SECRETS="$STACK_DIR/secrets"
OPERATOR_TOKEN_FILE="$SECRETS/operator.token"
AGENT_TOKEN_FILE="$SECRETS/agent.token"
ensure_tokens() {
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  local f
  for f in "$OPERATOR_TOKEN_FILE" "$AGENT_TOKEN_FILE"; do
    [[ -s "$f" ]] && continue
    (umask 077; echo "bf_$(openssl rand -hex 8)_$(openssl rand -hex 32)" >"$f")
  done
}

# The farm's dev certificate authority and what it signs, made once per stack under secrets/tls
# (TLS_DIR, keys 0600): a server certificate for 127.0.0.1 and localhost that all three services present,
# and client certificates for the agent, the controller (calling the assembler) and the operator
# (CLI, tests, bench, demo). A certificate that no longer verifies against the CA is made again.
issue_cert() { # NAME EXTENSIONS...
  local name="$1" ext; shift
  ext="$(printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$@")"
  if [[ -s "$TLS_DIR/$name.key" && -s "$TLS_DIR/$name.crt" ]] \
    && openssl verify -CAfile "$TLS_DIR/ca.crt" "$TLS_DIR/$name.crt" >/dev/null 2>&1; then
    return
  fi
  (umask 077
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/O=buildfarm dev/CN=$name" \
      -keyout "$TLS_DIR/$name.key" -out "$TLS_DIR/$name.csr" 2>/dev/null
    openssl x509 -req -in "$TLS_DIR/$name.csr" -CA "$TLS_DIR/ca.crt" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
      -days 825 -sha256 -extfile <(echo "$ext") -out "$TLS_DIR/$name.crt" 2>/dev/null
    rm -f "$TLS_DIR/$name.csr")
  chmod 644 "$TLS_DIR/$name.crt"
}
ensure_tls() {
  mkdir -p "$TLS_DIR"; chmod 700 "$TLS_DIR"
  if [[ ! -s "$TLS_DIR/ca.key" || ! -s "$TLS_DIR/ca.crt" ]]; then
    (umask 077; openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
      -subj "/O=buildfarm dev/CN=buildfarm dev CA" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.crt" 2>/dev/null)
    chmod 644 "$TLS_DIR/ca.crt"
  fi
  issue_cert server "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost"
  local client
  for client in agent controller operator; do issue_cert "$client" "extendedKeyUsage=clientAuth"; done
}

# Server TLS of a service on its HTTPS port (gRPC, and HTTP too) with the dev server certificate
# (Quarkus' TLS registry, configuration "farm"), requiring a client certificate signed by the dev
# CA unless the second argument is "optional".
server_tls() { # HTTPS_PORT [optional]
  echo "-Dquarkus.tls.farm.key-store.pem.0.cert=$TLS_DIR/server.crt" "-Dquarkus.tls.farm.key-store.pem.0.key=$TLS_DIR/server.key" \
    "-Dquarkus.tls.farm.trust-store.pem.certs=$TLS_DIR/ca.crt" -Dquarkus.http.tls-configuration-name=farm \
    "-Dbuildfarm.tls.require-client-certificate=$([[ "${2:-}" == optional ]] && echo false || echo true)" \
    "-Dquarkus.http.ssl-port=$1"
}
# A gRPC client (Quarkus client NAME) that reaches its server over mutual TLS as CERT.
client_tls() { # NAME CERT PORT
  echo "-Dquarkus.grpc.clients.$1.port=$3" "-Dquarkus.grpc.clients.$1.ssl.trust-store=$TLS_DIR/ca.crt" \
    "-Dquarkus.grpc.clients.$1.ssl.certificate=$TLS_DIR/$2.crt" "-Dquarkus.grpc.clients.$1.ssl.key=$TLS_DIR/$2.key"
}

# A service NAME runs the module of the same name; "agent-2" (dev/fault-farm.sh) is the agent module too.
module_of() { if [[ "$1" =~ ^(.*)-[0-9]+$ ]]; then echo "${BASH_REMATCH[1]}"; else echo "$1"; fi; }
jar_of() { echo "$REPO/$(module_of "$1")/target/quarkus-app/quarkus-run.jar"; }
port_of() { case "$1" in controller) echo 8080 ;; agent) echo 8081 ;; manifest-assembler) echo 8082 ;; esac; }

# running NAME: its pid runs and is not a zombie.
running() {
  local pid state
  pid="$(cat "$RUN/$1.pid" 2>/dev/null)" || return 1
  state="$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ "$state" != Z ]]
}

# alive NAME: running, and still that service's java process (started from this or another
# checkout sharing the stack directory, so `down` stops whichever one holds the port).
alive() {
  local cmd
  running "$1" || return 1
  cmd="$(tr '\0' ' ' <"/proc/$(cat "$RUN/$1.pid")/cmdline" 2>/dev/null)" || return 1
  [[ "$cmd" == *"/$(module_of "$1")/target/quarkus-app/quarkus-run.jar"* ]]
}

ready() { curl -fsS --max-time 2 "http://127.0.0.1:$(port_of "$1")/q/health/ready" >/dev/null 2>&1; }

start() {
  local name="$1"; shift
  if alive "$name"; then log "$name already running"; return; fi
  [[ -f "$(jar_of "$name")" ]] || { echo "missing $(jar_of "$name"): run ./mvnw install -DskipTests" >&2; exit 1; }
  log "starting $name (log: $LOGS/$name.log)"
  # setsid: the service outlives this script and is stopped by its pid. Descriptors above 2 are
  # closed so a service never inherits a caller's lock (flock) or pipe and holds it for its lifetime.
  (
    for fd in /proc/$BASHPID/fd/*; do fd="${fd##*/}"; ((fd > 2)) && eval "exec $fd>&-"; done
    # SERVICES_APPEND_LOGS (dev/fault-farm.sh): a restarted service's log follows the one it replaces.
    if [[ -n "${SERVICES_APPEND_LOGS:-}" ]]; then exec >>"$LOGS/$name.log"; else exec >"$LOGS/$name.log"; fi
    exec setsid java "$@" -jar "$(jar_of "$name")" 2>&1 </dev/null
  ) &
  echo $! >"$RUN/$name.pid"
}

wait_ready() {
  local name="$1" limit="${2:-120}"
  for _ in $(seq "$limit"); do
    ready "$name" && { log "$name ready on 127.0.0.1:$(port_of "$name")"; return; }
    running "$name" || break # (not alive: right after start the pid may not have become java yet)
    sleep 1
  done
  echo "$name did not become ready; last lines of $LOGS/$name.log:" >&2
  tail -n 40 "$LOGS/$name.log" >&2
  exit 1
}

stop() {
  local name="$1" pid
  alive "$name" || { rm -f "$RUN/$name.pid"; return; }
  pid="$(cat "$RUN/$name.pid")"
  log "stopping $name"
  kill "$pid"
  for _ in $(seq 60); do alive "$name" || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$RUN/$name.pid"
}

# Sourced (dev/fault-farm.sh): only the functions above; it sets RUN, LOGS and port_of of its own.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0
case "${1:-}" in
  up)
    ensure_tokens
    ensure_tls
    # The controller's key for secrets it stores (webhook secrets, credentials, secret build
    # arguments): made once, readable by its owner only.
    KEY_FILE="$SECRETS/controller.key"
    if [[ ! -s "$KEY_FILE" ]]; then
      (umask 077; head -c 32 /dev/urandom | base64 >"$KEY_FILE.tmp" && mv "$KEY_FILE.tmp" "$KEY_FILE")
    fi
    # shellcheck disable=SC2046 # (paths under the stack directory hold no spaces)
    start manifest-assembler -Xmx256m $(server_tls 8445)
    # Namespace fair-a may have one job in flight (FairShareTest, dev/bench.sh fairness); the
    # benchmarks' namespace is neither rate- nor admission-limited, so T1/T2 measure the controller
    # (T1 queues thousands of jobs with the agent stopped), not the limiter.
    # shellcheck disable=SC2046
    start controller -Xmx384m $(server_tls 8443) $(client_tls assembler controller 8445) -Dbuildfarm.secrets.key-file="$KEY_FILE" \
      -Dquarkus.datasource.jdbc.url="$PG_URL" -Dkafka.bootstrap.servers="$KAFKA" \
      -Dbuildfarm.sources.allow-file-urls=true -Dbuildfarm.contexts.directory="$STACK_DIR/contexts" \
      -Dbuildfarm.admission.namespace-limit.'"fair-a"'=1 \
      -Dbuildfarm.admission.submit-rate.'"bench"'=1000000 -Dbuildfarm.admission.submit-burst.'"bench"'=1000000 \
      -Dbuildfarm.admission.namespace-limit.'"bench"'=1000000 -Dbuildfarm.admission.platform-limit=1000000 \
      -Dbuildfarm.auth.bootstrap-operator-token-file="$OPERATOR_TOKEN_FILE" \
      -Dbuildfarm.auth.bootstrap-agent-token-file="$AGENT_TOKEN_FILE"
    wait_ready manifest-assembler
    wait_ready controller
    # The agent's work happens in the Docker engine; a small heap and the serial collector keep it lean.
    # shellcheck disable=SC2046
    start agent -Xmx128m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=64m $(server_tls 8444) $(client_tls controller agent 8443) \
      -Dkafka.bootstrap.servers="$KAFKA" \
      -Dbuildfarm.agent.probe-image="$BASE_IMAGE" -Dbuildfarm.agent.work-dir="$STACK_DIR/agent-work" \
      -Dbuildfarm.agent.token-file="$AGENT_TOKEN_FILE" -Dbuildfarm.agent.slots.'"linux/amd64"'=2
    wait_ready agent 300
    ;;
  down)
    stop agent; stop controller; stop manifest-assembler ;;
  status)
    for s in controller manifest-assembler agent; do
      state=down; alive "$s" && state=up; ready "$s" && state=ready
      printf '%-20s %-6s 127.0.0.1:%-5s %s\n' "$s" "$state" "$(port_of "$s")" "$LOGS/$s.log"
    done ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
