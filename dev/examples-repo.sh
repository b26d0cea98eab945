#!/usr/bin/env bash
# Publishes examples/ as the git repository $GIT_URL_BASE/examples.git (branch main), served by the
# stack's git daemon, so builds of the examples come from a real git server.
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
bare="$GIT_BASE/examples.git"
[[ -d "$bare" ]] || git init -q --bare "$bare"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -a "$REPO/examples/." "$work/"
git -C "$work" init -q -b main
git -C "$work" add -A
git -C "$work" -c user.name=buildfarm -c user.email=buildfarm@localhost commit -q -m "examples"
git -C "$work" push -q --force "$bare" main
git -C "$bare" symbolic-ref HEAD refs/heads/main
echo "$GIT_URL_BASE/examples.git main $(git -C "$work" rev-parse HEAD)"
