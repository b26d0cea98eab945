# shellcheck shell=bash
# Addresses of the local stack (dev/stack.sh). Source it from bash:  . dev/env.sh
# Everything lives under one directory: $BUILDFARM_STACK_DIR, default <repo>/.stack.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="$(realpath -m "${BUILDFARM_STACK_DIR:-$REPO/.stack}")"
REGISTRY=127.0.0.1:5000
KAFKA=127.0.0.1:9092
# BUILDFARM_DB: the farm's database; another name gives a farm started from another checkout (whose
# migrations differ) a database of its own. dev/stack.sh up creates it.
PG_DB="${BUILDFARM_DB:-buildfarm}"
PG_URL="jdbc:postgresql://127.0.0.1:5432/$PG_DB"
PG_USER=buildfarm
PG_PASSWORD=buildfarm
GIT_BASE="$STACK_DIR/git"          # bare repos here are served as $GIT_URL_BASE/<name>
GIT_URL_BASE=git://127.0.0.1:9418
BASE_IMAGE=127.0.0.1:5000/library/busybox:latest   # linux/amd64, arm64, arm/v7, arm/v6
DOCKER_HOST=unix:///var/run/docker.sock
# The dev farm's certificate authority and certificates (dev/services.sh makes them).
TLS_DIR="$STACK_DIR/secrets/tls"
export REPO STACK_DIR TLS_DIR REGISTRY KAFKA PG_DB PG_URL PG_USER PG_PASSWORD GIT_BASE GIT_URL_BASE BASE_IMAGE DOCKER_HOST

# For the buildfarm CLI run by a dev script: the controller's TLS port, as the operator (its token
# and client certificate, which dev/services.sh made).
operator_client_env() {
  export BUILDFARM_ENDPOINT=https://127.0.0.1:8443 BUILDFARM_TLS_CA="$TLS_DIR/ca.crt" \
    BUILDFARM_TLS_CERT="$TLS_DIR/operator.crt" BUILDFARM_TLS_KEY="$TLS_DIR/operator.key"
  [[ -n "${BUILDFARM_TOKEN:-}" ]] || BUILDFARM_TOKEN="$(cat "$STACK_DIR/secrets/operator.token")"
  export BUILDFARM_TOKEN
}
