#!/usr/bin/env bash
# The farm's own services on this host: controller (:8080), manifest assembler (:8082) and one
# agent (:8081) serving all four platforms (amd64 natively, the arm ones under QEMU).
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
    # The controller's key for secrets it stores (webhook secrets, credentials, secret build
    # arguments): made once, readable by its owner only.
    KEY_FILE="$SECRETS/controller.key"
    if [[ ! -s "$KEY_FILE" ]]; then
      (umask 077; head -c 32 /dev/urandom | base64 >"$KEY_FILE.tmp" && mv "$KEY_FILE.tmp" "$KEY_FILE")
    fi
    start manifest-assembler -Xmx256m
    # Namespace fair-a may have one job in flight (FairShareTest, dev/bench.sh fairness); the
    # benchmarks' namespace is neither rate- nor admission-limited, so T1/T2 measure the controller
    # (T1 queues thousands of jobs with the agent stopped), not the limiter.
    start controller -Xmx384m -Dbuildfarm.secrets.key-file="$KEY_FILE" \
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
    start agent -Xmx128m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=64m -Dkafka.bootstrap.servers="$KAFKA" \
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
