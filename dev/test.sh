#!/usr/bin/env bash
# make test: start the stack, build everything with its unit and component tests, start the farm
# on this host, run the end-to-end suite against it, then the fault-injection suite on a farm of its
# own (dev/test-faults.sh, with the jars just built).
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"

"$DEV/stack.sh" up
./mvnw -B install
# Services from this build replace any left running from an earlier one.
"$DEV/services.sh" down
"$DEV/services.sh" up
./mvnw -B -Pe2e -pl e2e verify
# The fault farm shares this machine's CPU: dev/test-faults.sh takes /tmp/buildfarm-farm.lock itself
# (a caller already holding it sets FAULTS_LOCKED=1).
FAULTS_SKIP_BUILD=1 "$DEV/test-faults.sh"
