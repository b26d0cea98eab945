#!/usr/bin/env bash
# make test-faults: the fault-injection suite (e2e FaultInjectionTest, JUnit tag "faults") on a farm of
# its own (dev/fault-farm.sh), built from this checkout, then the fault farm is stopped again.
# FAULTS_SKIP_BUILD=1 uses the jars already built (dev/test.sh, right after its build, runs it so).
# FAULTS_LOCKED=1: the caller holds /tmp/buildfarm-farm.lock already (taking it again would wait forever).
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"
# One farm at a time shares this machine's CPU with the fault farm: hold the farm lock throughout.
# (-o: the lock stays with flock itself, not with the services started below.)
if [[ -z "${FAULTS_LOCKED:-}" ]]; then
  flock -n /tmp/buildfarm-farm.lock true || echo "[test-faults] $(date +%T) waiting for /tmp/buildfarm-farm.lock (another farm run holds it)"
  exec env FAULTS_LOCKED=1 flock -o /tmp/buildfarm-farm.lock "$0" "$@"
fi

"$DEV/stack.sh" up
[[ -n "${FAULTS_SKIP_BUILD:-}" ]] || ./mvnw -B -q install -DskipTests
trap '"$DEV/fault-farm.sh" down' EXIT
"$DEV/fault-farm.sh" down
"$DEV/fault-farm.sh" up
# BUILDFARM_ENDPOINT, REGISTRY, KAFKA of the fault farm, for the tests.
export $("$DEV/fault-farm.sh" env)
./mvnw -B -Pe2e -pl e2e verify -De2e.groups=faults -De2e.excludedGroups=none -Dtest="${FAULTS_TEST:-FaultInjectionTest}" \
  -Dsurefire.failIfNoSpecifiedTests=false
