#!/usr/bin/env bash
# make bench: benchmarks on the running farm and the real stack; each mode ends with a Markdown table
# (one row per figure: result, target, met, conditions).
# Usage: dev/bench.sh [build] [rounds] [cache|no-cache]   four-platform build wall time, buildfarm against
#                                                        podman side by side (default: build 3 no-cache)
#        dev/bench.sh logs       log line latency p50/p99 and sustained lines/s, one build printing 100,000 lines
#        dev/bench.sh cancel     cancel-to-stopped time of running amd64/arm64 builds, p50/p99/max
#        dev/bench.sh webhook    push-to-queued latency and matching cost with 10,000 rules on one source
#        dev/bench.sh all [rounds] [cache|no-cache]      logs, cancel, webhook, then build
# A farm shared with other runs: wrap it, e.g. flock /tmp/buildfarm-farm.lock dev/bench.sh logs
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"

mode=build
# Backward compatible: a numeric first argument is the build comparison's rounds.
if [[ $# -gt 0 && ! "$1" =~ ^[0-9]+$ ]]; then mode="$1"; shift; fi
case "$mode" in
  build|all) args="$mode ${1:-3} ${2:-no-cache}" ;;
  logs|cancel|webhook) args="$mode" ;;
  *) sed -n '4,9p' "$0" >&2; exit 2 ;;
esac

"$DEV/stack.sh" up >/dev/null
[[ -f bench/target/bench-0.1.0-SNAPSHOT.jar ]] || ./mvnw -B -q install -DskipTests
"$DEV/services.sh" up >/dev/null
if [[ "$mode" == build || "$mode" == all ]]; then
  command -v podman >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
  "$DEV/examples-repo.sh" >/dev/null
fi
./mvnw -B -q -pl bench compile exec:java -Dexec.args="$args"
