#!/usr/bin/env bash
# A second farm of its own for fault injection, so killing its parts harms no other run: its own Kafka
# broker (127.0.0.1:19092, controller quorum :19093), registry (:15000), controller (:18080), manifest
# assembler (:18082) and two agents (:18091, :18092) serving linux/amd64 and linux/arm64, on database
# buildfarm_faults. It shares only the host's PostgreSQL server, Docker engine and git daemon, which no
# fault touches. Data, pids and logs live under $BUILDFARM_STACK_DIR/faults.
#
# Usage: dev/fault-farm.sh up|down|status|env
#        dev/fault-farm.sh signal PART SIGNAL    e.g. signal agent-1 KILL, signal agent-1 STOP, signal kafka KILL
#        dev/fault-farm.sh start PART            start one part again (and wait until it is ready)
#        dev/fault-farm.sh stop PART             stop one part gracefully (SIGTERM: an agent drains)
#        dev/fault-farm.sh pid PART              its pid
# PART: controller, manifest-assembler, agent-1, agent-2, kafka, registry.
# The main farm and this one share the CPU: hold /tmp/buildfarm-farm.lock while it runs (make test-faults does).
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export BUILDFARM_DB=buildfarm_faults
. "$DEV/env.sh"
F="$STACK_DIR/faults"
F_REGISTRY_PORT=15000
F_KAFKA_PORT=19092
F_KAFKA=127.0.0.1:$F_KAFKA_PORT
F_PLATFORMS="${FAULT_FARM_PLATFORMS:-linux/amd64,linux/arm64}"

# The registry and the broker come from dev/stack.sh's own functions, pointed at this farm's ports
# and directories. They run in a subshell each: stack.sh and services.sh both define helpers such as
# running and alive, with other arguments.
stack() {
  (
    export REGISTRY_PORT=$F_REGISTRY_PORT REGISTRY_DIR="$F/registry" KAFKA_PORT=$F_KAFKA_PORT \
      KAFKA_CONTROLLER_PORT=19093 KAFKA_DIR="$F/kafka" KAFKA_LIB="$STACK_DIR/kafka/lib"
    . "$DEV/stack.sh"
    LOGS="$F/logs"
    log() { echo "[fault-farm] $(date +%T) $*"; }
    "$@"
  )
}
registry_part() { stack up_registry; }
kafka_part() { stack eval 'up_kafka; wait_kafka'; }

# The services: dev/services.sh's start/stop/ready with this farm's pids, logs and ports.
. "$DEV/services.sh"
RUN="$F/pids"
LOGS="$F/logs"
SERVICES_APPEND_LOGS=1 # a part killed and started again keeps the log of its earlier life
mkdir -p "$RUN" "$LOGS"
log() { echo "[fault-farm] $(date +%T) $*"; }
port_of() {
  case "$1" in
    controller) echo 18080 ;; manifest-assembler) echo 18082 ;; agent-1) echo 18091 ;; agent-2) echo 18092 ;;
    kafka) echo $F_KAFKA_PORT ;; registry) echo $F_REGISTRY_PORT ;;
  esac
}

start_service() {
  local name="$1"
  case "$name" in
    manifest-assembler)
      start "$name" -Xmx256m -Dquarkus.http.port=18082 -Dbuildfarm.registry.insecure=127.0.0.1:$F_REGISTRY_PORT ;;
    controller)
      # Authentication is off: the faults under test are kills and outages, and its clients carry no token.
      start "$name" -Xmx384m -Dquarkus.http.port=18080 -Dbuildfarm.auth.enabled=false \
        -Dquarkus.datasource.jdbc.url="jdbc:postgresql://127.0.0.1:5432/$BUILDFARM_DB" -Dkafka.bootstrap.servers=$F_KAFKA \
        -Dquarkus.grpc.clients.assembler.port=18082 -Dbuildfarm.sources.allow-file-urls=true \
        -Dbuildfarm.contexts.directory="$F/contexts" ${FAULT_FARM_CONTROLLER_OPTS:-} ;;
    agent-[12])
      start "$name" -Xmx128m -XX:+UseSerialGC -XX:ReservedCodeCacheSize=64m -Dquarkus.http.port="$(port_of "$name")" \
        -Dbuildfarm.agent.name="fault-$name" -Dquarkus.grpc.clients.controller.port=18080 \
        -Dkafka.bootstrap.servers=$F_KAFKA -Dbuildfarm.agent.platforms="$F_PLATFORMS" \
        -Dbuildfarm.agent.probe-image="$BASE_IMAGE" -Dbuildfarm.agent.work-dir="$F/$name-work" ;;
    *) echo "unknown part $name" >&2; exit 2 ;;
  esac
}

pid_of() {
  case "$1" in
    kafka) cat "$F/kafka/kafka.pid" ;;
    registry) cat "$F/registry/registry.pid" ;;
    *) cat "$RUN/$1.pid" ;;
  esac
}

part_up() {
  case "$1" in
    kafka) kafka_part ;;
    registry) registry_part ;;
    *) start_service "$1"; wait_ready "$1" 300 ;;
  esac
}

part_down() {
  case "$1" in
    kafka) stack stop_pid kafka "$F/kafka/kafka.pid" kafka.Kafka ;;
    registry) stack stop_pid registry "$F/registry/registry.pid" docker-registry ;;
    *) stop "$1" ;;
  esac
}

SERVICES=(manifest-assembler controller agent-1 agent-2)

case "${1:-}" in
  up)
    pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not up: dev/stack.sh up first" >&2; exit 1; }
    stack up_postgres >/dev/null # creates database buildfarm_faults if missing
    registry_part
    kafka_part
    start_service manifest-assembler
    start_service controller
    wait_ready manifest-assembler
    wait_ready controller
    start_service agent-1
    start_service agent-2
    wait_ready agent-1 300
    wait_ready agent-2 300
    ;;
  down)
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
      # A stopped (SIGSTOP) part would never see its SIGTERM.
      kill -CONT "$(pid_of "${SERVICES[i]}" 2>/dev/null)" 2>/dev/null || true
      stop "${SERVICES[i]}"
    done
    for p in kafka registry; do kill -CONT "$(pid_of $p 2>/dev/null)" 2>/dev/null || true; part_down $p; done
    ;;
  status)
    for s in "${SERVICES[@]}"; do
      state=down; alive "$s" && state=up; ready "$s" && state=ready
      printf '%-20s %-6s 127.0.0.1:%-5s %s\n' "$s" "$state" "$(port_of "$s")" "$LOGS/$s.log"
    done
    for p in kafka registry; do
      state=down; timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$(port_of $p)" 2>/dev/null && state=up
      printf '%-20s %-6s 127.0.0.1:%-5s %s\n' "$p" "$state" "$(port_of $p)" "$LOGS/$p.log"
    done ;;
  env)
    # For the fault tests: export these before running them. Its controller runs without authentication.
    echo "BUILDFARM_ENDPOINT=127.0.0.1:18080 REGISTRY=127.0.0.1:$F_REGISTRY_PORT KAFKA=$F_KAFKA FAULT_FARM=$DEV/fault-farm.sh BUILDFARM_AUTH=off" ;;
  signal)
    [[ $# == 3 ]] || { echo "usage: $0 signal PART SIGNAL" >&2; exit 2; }
    pid="$(pid_of "$2")"
    log "SIG$3 $2 (pid $pid)"
    kill -s "$3" "$pid" ;;
  start) [[ $# == 2 ]] || exit 2; part_up "$2" ;;
  stop) [[ $# == 2 ]] || exit 2; part_down "$2" ;;
  pid) [[ $# == 2 ]] || exit 2; pid_of "$2" ;;
  *) echo "usage: $0 up|down|status|env|signal PART SIGNAL|start PART|stop PART|pid PART" >&2; exit 2 ;;
esac
