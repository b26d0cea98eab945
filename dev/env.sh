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
export REPO STACK_DIR REGISTRY KAFKA PG_DB PG_URL PG_USER PG_PASSWORD GIT_BASE GIT_URL_BASE BASE_IMAGE DOCKER_HOST
