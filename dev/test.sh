#!/usr/bin/env bash
# make test: start the stack, build everything with its unit and component tests, start the farm
# on this host, then run the end-to-end suite against it.
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
