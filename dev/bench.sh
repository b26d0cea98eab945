#!/usr/bin/env bash
# make bench: four-platform build wall time, buildfarm against podman, side by side in one run.
# Usage: dev/bench.sh [rounds] [cache|no-cache]       (defaults: 3 rounds, no cache)
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"
"$DEV/stack.sh" up >/dev/null
command -v podman >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
[[ -f bench/target/bench-0.1.0-SNAPSHOT.jar ]] || ./mvnw -B -q install -DskipTests
"$DEV/services.sh" up >/dev/null
"$DEV/examples-repo.sh" >/dev/null
./mvnw -B -q -pl bench exec:java -Dexec.args="${1:-3} ${2:-no-cache}"
