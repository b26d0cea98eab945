#!/usr/bin/env bash
# Memory and start-up of the farm's services: RSS at idle and the peak during a four-platform build
# of examples/hello, and each service's start-up time as Quarkus logs it. Targets: controller
# <= 512 MiB RSS, agent <= 256 MiB RSS.
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"
"$DEV/services.sh" up >/dev/null
operator_client_env
read -r url ref _ < <("$DEV/examples-repo.sh")

rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$(cat "$STACK_DIR/services/$1.pid")/status"; }
declare -A idle peak
for s in controller agent manifest-assembler; do idle[$s]=$(rss "$s"); peak[$s]=${idle[$s]}; done

java -jar cli/target/cli-0.1.0-SNAPSHOT-all.jar submit --git-url "$url" --ref "$ref" --context hello --no-cache \
  --platform linux/amd64,linux/arm64,linux/arm/v7,linux/arm/v6 -t "$REGISTRY/bench/memory:latest" --wait >/dev/null &
build=$!
while kill -0 "$build" 2>/dev/null; do
  for s in controller agent manifest-assembler; do r=$(rss "$s"); ((r > peak[$s])) && peak[$s]=$r; done
  sleep 0.2
done
wait "$build"

echo "| service | RSS idle | RSS peak during a 4-platform build | start-up |"
echo "|---|---|---|---|"
for s in controller agent manifest-assembler; do
  started=$(grep -o 'started in [0-9.]*s' "$STACK_DIR/logs/$s.log" | tail -n 1 | cut -d' ' -f3)
  echo "| $s | ${idle[$s]} MiB | ${peak[$s]} MiB | $started |"
done
