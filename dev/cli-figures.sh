#!/usr/bin/env bash
# Figures of `buildfarm build` on the running farm: the time from starting the command to the first
# platform running (its first status or log line; p50 over ROUNDS builds of a small directory, amd64 + arm64), and the upload
# throughput of a 200 MB context (random bytes, so nothing compresses or is already stored).
# Usage: dev/cli-figures.sh [rounds]     (build first: ./mvnw -pl cli install; farm up)
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
CLI="$REPO/cli/target/buildfarm"
# The controller's TLS port, with the operator token and certificate dev/services.sh made for this stack.
operator_client_env
ROUNDS="${1:-10}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
now_ms() { date +%s%3N; }

mkdir -p "$WORK/small"
printf 'FROM %s\nCOPY round /\n' "$BASE_IMAGE" >"$WORK/small/Dockerfile"
times=()
for i in $(seq "$ROUNDS"); do
  echo "$i $RANDOM" >"$WORK/small/round"   # a new context each round: every upload is real
  start="$(now_ms)"
  first=""
  while IFS= read -r line; do
    # A status line saying running, or the agent's first log line (a build shorter than one status
    # poll may go from queued to pushed between two polls).
    if [[ -z "$first" && "$line" =~ ^linux/[a-z0-9/]+\ +(running|\|) ]]; then first="$(now_ms)"; fi
  done < <("$CLI" build "$WORK/small" --platform linux/amd64,linux/arm64 \
             -t "$REGISTRY/bench/cli-small:r$i" --follow --progress plain)
  [[ -n "$first" ]] || { echo "round $i: no platform ran" >&2; exit 1; }
  times+=($((first - start)))
  echo "round $i: first platform running after $((first - start)) ms"
done
p50="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"

mkdir -p "$WORK/big"
printf 'FROM %s\nCOPY Dockerfile /\n' "$BASE_IMAGE" >"$WORK/big/Dockerfile"
head -c $((200 * 1024 * 1024)) /dev/urandom >"$WORK/big/blob.bin"
upload="$("$CLI" build "$WORK/big" --platform linux/amd64 -t "$REGISTRY/bench/cli-big:latest" --wait | grep '^context ')"
echo "$upload"

echo
echo "| figure | result | conditions |"
echo "|---|---|---|"
echo "| \`buildfarm build\` to first platform running, p50 | ${p50} ms | $ROUNDS rounds, new 2-file context each, amd64+arm64, JVM start and upload included |"
echo "| upload of a 200 MiB context | $(sed -E 's/.* in ([0-9.]+s) \((.*)\)$/\2 (\1)/' <<<"$upload") | random bytes, loopback, plain gRPC, 1 MiB chunks, stored and checked by the controller |"
