#!/usr/bin/env bash
# make bench: the benchmark suite, on the real local stack and the farm's services (both started if
# needed). Prints one table, every figure with its result, target, met or missed, and conditions,
# and writes it to bench/results/<time>-<mode>.md and .json; a whole run (quick, full) also to latest.md and latest.json.
# Usage: dev/bench.sh [quick|full] [--profile]    quick (default): T1–T9, #4 cancel, #3 webhook in under
#                                                 5 minutes; full: the same with longer runs and more samples
#        dev/bench.sh submit|lifecycle|logs|cancel|webhook|build|memory|fairness [--profile]   one part, quick sizes
#        (fairness, not in quick/full: a quiet namespace's queue wait while another floods, vs. idle)
#        (auth, not in quick/full: SubmitBuild latency with no auth, a token, token + TLS, token + mutual TLS,
#         against two controllers of its own that dev/bench-auth.sh starts and stops)
#        dev/bench.sh faults   the fault campaign on the fault farm (dev/fault-farm.sh, started and stopped here):
#                              jobs lost, duplicate winners, lost-agent detection, kill-to-rerun
# --profile: a JFR recording of the controller during T1/T2; its top frames are printed under the table.
# T1/T2 stop the agent and start it again afterwards; this script starts it again on any exit too.
# On a farm shared with other runs, hold the lock for the whole run:
#   flock /tmp/buildfarm-farm.lock dev/bench.sh quick
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"

# The benchmarks run in a JVM of their own, not inside Maven's: Maven's JVM goes on compiling its own
# code for seconds after it starts, and that would compete with the farm for the CPU being measured.
run_bench() {
  local cp="$REPO/bench/target/classpath.txt"
  ./mvnw -B -q -pl bench compile dependency:build-classpath -Dmdep.outputFile="$cp" -Dmdep.includeScope=runtime
  java -cp "$REPO/bench/target/classes:$(cat "$cp")" dev.buildfarm.bench.Bench "$@"
}

mode="${1:-quick}"
case "$mode" in
  quick|full|submit|lifecycle|logs|cancel|webhook|build|memory|fairness|auth|--profile) ;;
  faults)
    # A farm of its own, so the kills reach nothing else; it shares the CPU, so hold the farm lock.
    if [[ -z "${FAULTS_LOCKED:-}" ]]; then exec env FAULTS_LOCKED=1 flock -o /tmp/buildfarm-farm.lock "$0" "$@"; fi
    "$DEV/stack.sh" up >/dev/null
    [[ -f bench/target/bench-0.1.0-SNAPSHOT.jar && -f controller/target/quarkus-app/quarkus-run.jar ]] || ./mvnw -B -q install -DskipTests
    trap '"$DEV/fault-farm.sh" down >/dev/null 2>&1 || true' EXIT
    "$DEV/fault-farm.sh" up >/dev/null
    export $("$DEV/fault-farm.sh" env)
    run_bench faults
    exit ;;
  *) sed -n '5,13p' "$0" >&2; exit 2 ;;
esac

"$DEV/stack.sh" up >/dev/null
[[ -f bench/target/bench-0.1.0-SNAPSHOT.jar && -f controller/target/quarkus-app/quarkus-run.jar ]] || ./mvnw -B -q install -DskipTests
"$DEV/services.sh" up >/dev/null
if [[ "$mode" =~ ^(quick|full|build|--profile)$ ]]; then
  command -v podman >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
  "$DEV/examples-repo.sh" >/dev/null
fi
trap '"$DEV/services.sh" up >/dev/null 2>&1 || true' EXIT
if [[ "$mode" == auth ]]; then
  trap '"$DEV/bench-auth.sh" down >/dev/null 2>&1 || true' EXIT
  "$DEV/bench-auth.sh" up
fi
run_bench "$@"
