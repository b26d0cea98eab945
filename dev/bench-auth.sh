#!/usr/bin/env bash
# The two controllers dev/bench.sh auth measures, apart from the farm: controller-1 (:18281) with
# authentication off, controller-2 with it on (:18381 plaintext, :18743 TLS with the dev server
# certificate; a client certificate of the dev CA is checked when presented but not required, so
# one port serves TLS and mutual TLS). They share database buildfarm_authbench and topics bench-auth.*, which no agent
# reads, so the benchmark's builds stay queued there and never reach the farm.
# Usage: dev/bench-auth.sh up|down
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/services.sh" # functions only: start, stop, wait_ready, ensure_tokens, ensure_tls, server_tls
RUN="$STACK_DIR/bench-auth"
LOGS="$STACK_DIR/bench-auth/logs"
mkdir -p "$RUN" "$LOGS"
port_of() { case "$1" in controller-1) echo 18281 ;; controller-2) echo 18381 ;; esac; }
DB=buildfarm_authbench

case "${1:-}" in
  up)
    BUILDFARM_DB="$DB" "$DEV/stack.sh" up >/dev/null
    ensure_tokens
    ensure_tls
    # As dev/services.sh runs the farm's controller, namespace "bench" unlimited.
    common=(-Xmx384m "-Dquarkus.datasource.jdbc.url=jdbc:postgresql://127.0.0.1:5432/$DB" "-Dkafka.bootstrap.servers=$KAFKA"
      -Dbuildfarm.kafka.topic-prefix=bench-auth. -Dbuildfarm.sources.allow-file-urls=true
      -Dbuildfarm.admission.submit-rate.'"bench"'=1000000 -Dbuildfarm.admission.submit-burst.'"bench"'=1000000
      -Dbuildfarm.admission.namespace-limit.'"bench"'=1000000 -Dbuildfarm.admission.platform-limit=1000000)
    # One after the other: the first migrates the database.
    start controller-1 "${common[@]}" -Dquarkus.http.port=18281 -Dbuildfarm.auth.enabled=false
    wait_ready controller-1
    # shellcheck disable=SC2046
    start controller-2 "${common[@]}" -Dquarkus.http.port=18381 $(server_tls 18743 optional) \
      -Dbuildfarm.auth.bootstrap-operator-token-file="$OPERATOR_TOKEN_FILE"
    wait_ready controller-2
    ;;
  down)
    stop controller-1; stop controller-2 ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
