#!/usr/bin/env bash
# make demo: from a fresh machine to one multi-arch tag, pulled and run per architecture.
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
cd "$REPO"
PLATFORMS=(linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6)
IMAGE="$REGISTRY/demo/hello:main"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "Starting the local stack (Docker + QEMU, registry, Kafka, PostgreSQL, git)"
"$DEV/stack.sh" up

say "Building buildfarm"
./mvnw -B -q install -DskipTests

say "Starting controller, manifest assembler and an agent for four platforms"
"$DEV/services.sh" down
"$DEV/services.sh" up

say "Publishing examples/ to the stack's git server"
read -r url ref commit < <("$DEV/examples-repo.sh")
echo "$url $ref at $commit"

say "Submitting examples/hello over gRPC as $IMAGE"
# Over mutual TLS, with the operator token and certificate dev/services.sh made for this stack.
operator_client_env
java -jar cli/target/cli-0.1.0-SNAPSHOT-all.jar submit \
  --git-url "$url" --ref "$ref" --context hello \
  --platform "$(IFS=,; echo "${PLATFORMS[*]}")" -t "$IMAGE" --wait

say "One tag, each architecture gets its own variant"
for p in "${PLATFORMS[@]}"; do
  docker pull -q --platform "$p" "$IMAGE" >/dev/null
  printf '%-14s %s\n' "$p" "$(docker run --rm --platform "$p" "$IMAGE")"
done

cat <<MSG

The stack and the farm are still running:
  controller (gRPC)  https://127.0.0.1:8443 (mutual TLS)   dashboard  http://127.0.0.1:8080/dashboard/
  CLI                 . dev/env.sh && operator_client_env && cli/target/buildfarm list
  certificates        $TLS_DIR/   registry  http://$REGISTRY
  logs               $STACK_DIR/logs/
  status             make status        stop      make down
MSG
