#!/usr/bin/env bash
# The real local stack, offline, on 127.0.0.1 only:
#   Docker engine + QEMU binfmt, registry :5000, registry with htpasswd auth :5002 (user and password
#   in $BUILDFARM_STACK_DIR/secrets/registry-5002.{user,password}), Kafka (KRaft) :9092, PostgreSQL :5432,
#   git daemon :9418, and the multi-arch base image 127.0.0.1:5000/library/busybox:latest.
# Usage: dev/stack.sh install|up|down|status     (data, pids and logs under $BUILDFARM_STACK_DIR)
set -euo pipefail
DEV="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$DEV/env.sh"
S="$STACK_DIR"
LOGS="$S/logs"
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
PGBIN="${PGBIN:-/usr/lib/postgresql/15/bin}"
PG_SOCK="$S/postgres/run"
DOCKER_SOCK=/var/run/docker.sock

log() { echo "[stack] $(date +%T) $*"; }
die() { echo "[stack] ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

tcp_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
docker_ok() { curl -fsS --max-time 2 --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1; }
# The registry's and Kafka's ports and directories are variables, so dev/fault-farm.sh starts a
# second registry and broker of its own with these same functions.
REGISTRY_PORT="${REGISTRY_PORT:-5000}"
REGISTRY_DIR="${REGISTRY_DIR:-$S/registry}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_DIR="${KAFKA_DIR:-$S/kafka}"
KAFKA_LIB="${KAFKA_LIB:-$S/kafka/lib}"
registry_ok() { curl -fsS --max-time 2 "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1; }
pg_ok() { "$PGBIN/pg_isready" -q -h 127.0.0.1 -p 5432; }
kafka_ok() { tcp_open "$KAFKA_PORT"; }
git_ok() { tcp_open 9418; }
# postgres refuses to run as root; cd / so it never complains about an unreadable cwd.
as_pg() { (cd / && runuser -u postgres -- "$@"); }

# running PID: the process exists and is no zombie (pid 1 here may reap exited daemons late).
running() { local st; st="$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" && [[ "$st" != Z ]]; }

# alive PIDFILE PATTERN: the pid in PIDFILE runs and its command line matches PATTERN
# (so a stale pid file never makes us signal some unrelated process).
alive() {
  local pid cmd
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && running "$pid" && cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" && [[ "$cmd" == *"$2"* ]]
}

# start_bg PIDFILE LOG CMD...: run CMD in its own session (Ctrl-C on `make up` leaves it running),
# stdout+stderr appended to LOG; its pid goes to PIDFILE (or nowhere for "-") and to $BG_PID.
start_bg() {
  local pidfile="$1" logf="$2"; shift 2
  echo "---- $(date -Is) starting: $*" >>"$logf"
  setsid "$@" >>"$logf" 2>&1 </dev/null &
  BG_PID=$!
  [[ "$pidfile" == - ]] || echo "$BG_PID" >"$pidfile"
}

# wait_for NAME LOG SECONDS PID CHECK...: poll CHECK until it succeeds; fail with the log's tail
# on timeout or as soon as process PID (the one just started) has exited.
wait_for() {
  local name="$1" logf="$2" secs="$3" pid="$4"; shift 4
  local end=$((SECONDS + secs)) why=
  until "$@"; do
    if ! running "$pid"; then why="exited"
    elif ((SECONDS >= end)); then why="not ready after ${secs}s"
    else sleep 0.3; continue; fi
    echo "[stack] ERROR: $name $why; last lines of $logf:" >&2
    tail -n 20 "$logf" | cut -c1-400 >&2 || true
    exit 1
  done
}

# stop_pid NAME PIDFILE PATTERN: TERM, then KILL after 30 s.
stop_pid() {
  local name="$1" pidfile="$2" pattern="$3" pid i
  if alive "$pidfile" "$pattern"; then
    pid="$(cat "$pidfile")"
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.2; done
    running "$pid" && { log "$name still running: KILL"; kill -9 "$pid" 2>/dev/null || true; }
  fi
  rm -f "$pidfile"
}

# ---------------------------------------------------------------- install

cmd_install() {
  # chromium + chromium-driver: the dashboard tests drive a real headless browser.
  # apache2-utils: htpasswd, the bcrypt password file of the authenticated registry.
  local want=(docker.io qemu-user-static docker-registry apache2-utils postgresql git jq curl ca-certificates chromium chromium-driver)
  command -v java >/dev/null || want+=(openjdk-17-jdk-headless)  # mvnw and Kafka need a JDK
  local missing=() p update='' have foreign
  # (No `cmd | grep -q` here: with pipefail, grep's early exit can SIGPIPE cmd and fail the test.)
  have=" $(dpkg-query -W -f='${db:Status-Abbrev}${Package} ' "${want[@]}" 2>/dev/null || true) "
  for p in "${want[@]}"; do [[ "$have" == *" ii $p "* ]] || missing+=("$p"); done
  # Foreign architectures, only for `apt-get download busybox-static:ARCH` (dev/base-image.sh).
  foreign=" $(dpkg --print-architecture) $(dpkg --print-foreign-architectures | tr '\n' ' ') "
  for p in amd64 arm64 armhf armel; do
    [[ "$foreign" == *" $p "* ]] || { dpkg --add-architecture "$p"; update=1; }
  done
  if ((${#missing[@]})) || [[ -n "$update" ]]; then
    log "apt-get update; install: ${missing[*]:-(nothing)}"
    # A mirror mid-sync can fail one list (exit 100) while the ones we need are fine: go on.
    apt-get update -qq || log "WARNING: apt-get update reported errors; trying anyway"
    ((${#missing[@]} == 0)) || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
  # Kafka broker jars from Maven Central (a JVM app: no Debian package).
  if [[ ! -f "$S/kafka/lib/.complete" ]]; then
    log "downloading Kafka jars into $S/kafka/lib"
    rm -rf "$S/kafka/lib"
    "$REPO/mvnw" -q -B -f "$DEV/kafka/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$S/kafka/lib" -DincludeScope=runtime
    touch "$S/kafka/lib/.complete"
  fi
}

# ---------------------------------------------------------------- services

up_docker() {
  if docker_ok; then log "docker: already up"; return; fi
  mkdir -p "$S/docker/root" "$S/docker/exec"
  log "docker: starting dockerd"
  # dockerd writes its own pid file; the log gets its stdout+stderr.
  start_bg - "$LOGS/dockerd.log" dockerd --iptables=false --data-root "$S/docker/root" \
    --exec-root "$S/docker/exec" --pidfile "$S/docker/dockerd.pid" -H "unix://$DOCKER_SOCK"
  wait_for docker "$LOGS/dockerd.log" 60 "$BG_PID" docker_ok
}

up_qemu() {
  # arm64/arm RUN steps and `docker run --platform linux/arm*` execute under qemu-user-static.
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  local a
  for a in aarch64 arm; do
    [[ -e /proc/sys/fs/binfmt_misc/qemu-$a ]] || cat "/usr/lib/binfmt.d/qemu-$a.conf" >/proc/sys/fs/binfmt_misc/register
  done
  log "qemu: binfmt qemu-aarch64 and qemu-arm registered"
}

up_registry() {
  if registry_ok; then log "registry: already up"; return; fi
  mkdir -p "$REGISTRY_DIR/data"
  # Our own config: the packaged one has auth and listens on every interface.
  cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
  log "registry: starting"
  start_bg "$REGISTRY_DIR/registry.pid" "$LOGS/registry.log" docker-registry serve "$REGISTRY_DIR/config.yml"
  wait_for registry "$LOGS/registry.log" 30 "$BG_PID" registry_ok
}

# A second registry that wants a login (htpasswd, bcrypt): what registry credentials are tested against.
AUTH_REGISTRY_PORT="${AUTH_REGISTRY_PORT:-5002}"
AUTH_REGISTRY_DIR="$S/registry-auth"
# Up means it answers /v2/ with 401 (a registry without auth would answer 200).
auth_registry_ok() { [[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$AUTH_REGISTRY_PORT/v2/" 2>/dev/null)" == 401 ]]; }

up_auth_registry() {
  local secrets="$S/secrets" htpasswd="$AUTH_REGISTRY_DIR/htpasswd"
  local user_file="$S/secrets/registry-$AUTH_REGISTRY_PORT.user" password_file="$S/secrets/registry-$AUTH_REGISTRY_PORT.password"
  mkdir -p "$secrets" "$AUTH_REGISTRY_DIR/data"; chmod 700 "$secrets"
  if [[ ! -s "$user_file" || ! -s "$password_file" || ! -s "$htpasswd" ]]; then
    log "registry :$AUTH_REGISTRY_PORT: new login in $secrets"
    (umask 077
     echo "buildfarm-registry" >"$user_file"
     openssl rand -hex 24 >"$password_file"
     # -i: the password from stdin, never on a command line.
     htpasswd -B -i -c "$htpasswd" "$(cat "$user_file")" <"$password_file" 2>/dev/null)
    # A running registry reads the file again on its own; a new one starts below.
  fi
  if auth_registry_ok; then log "registry :$AUTH_REGISTRY_PORT: already up"; return; fi
  cat >"$AUTH_REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $AUTH_REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$AUTH_REGISTRY_PORT
auth:
  htpasswd:
    realm: buildfarm
    path: $htpasswd
EOF
  log "registry :$AUTH_REGISTRY_PORT (htpasswd): starting"
  start_bg "$AUTH_REGISTRY_DIR/registry.pid" "$LOGS/registry-auth.log" docker-registry serve "$AUTH_REGISTRY_DIR/config.yml"
  wait_for "registry :$AUTH_REGISTRY_PORT" "$LOGS/registry-auth.log" 30 "$BG_PID" auth_registry_ok
}

up_kafka() {
  if kafka_ok; then log "kafka: already up"; return; fi
  local k="$KAFKA_DIR"
  mkdir -p "$k/data"
  cat >"$k/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$k/data
num.partitions=4
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  # Kafka 4 logs to log4j2 and ships no config in its jars: stderr only (kafka.log for the broker),
  # so that the tools' stdout carries only their answer.
  cat >"$k/log4j2.properties" <<'EOF'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = info
EOF
  local jvm=(-Dlog4j2.configurationFile="$k/log4j2.properties" -cp "$KAFKA_LIB/*")
  if [[ ! -f "$k/data/meta.properties" ]]; then
    # Static quorum (controller.quorum.voters), so no --standalone.
    local id
    id="$(java "${jvm[@]}" kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka.log")"
    [[ "$id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka random-uuid gave '$id'"
    log "kafka: formatting storage, cluster id $id"
    java "${jvm[@]}" kafka.tools.StorageTool format -t "$id" -c "$k/server.properties" >>"$LOGS/kafka.log" 2>&1 \
      || { tail -n 20 "$LOGS/kafka.log" >&2; die "kafka storage format failed"; }
  fi
  log "kafka: starting broker (waited for at the end of up: it is the slowest to start)"
  touch "$LOGS/kafka.log"
  KAFKA_FROM=$(($(wc -l <"$LOGS/kafka.log") + 1))
  start_bg "$k/kafka.pid" "$LOGS/kafka.log" java -Xms256m -Xmx512m "${jvm[@]}" kafka.Kafka "$k/server.properties"
  KAFKA_PID=$BG_PID
}

wait_kafka() {
  [[ -n "${KAFKA_PID:-}" ]] || return 0
  # Ready when this run's part of the log says so (the port opens a little earlier).
  kafka_started() { kafka_ok && [[ "$(tail -n +"$KAFKA_FROM" "$LOGS/kafka.log")" == *"Kafka Server started"* ]]; }
  wait_for kafka "$LOGS/kafka.log" 90 "$KAFKA_PID" kafka_started
  log "kafka: ready"
}

up_postgres() {
  if pg_ok; then log "postgres: already up"; else
    local d="$S/postgres/data"
    mkdir -p "$d" "$PG_SOCK"
    chmod 755 "$S" "$S/postgres"
    touch "$LOGS/postgres.log"
    chown postgres: "$d" "$PG_SOCK" "$LOGS/postgres.log"
    chmod 700 "$d"
    as_pg test -x "$d" || die "user postgres cannot reach $d: make the parent directories of $S world-executable (chmod o+x)"
    if [[ ! -f "$d/PG_VERSION" ]]; then
      log "postgres: initdb"
      as_pg "$PGBIN/initdb" -D "$d" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >>"$LOGS/postgres.log" 2>&1 \
        || { tail -n 20 "$LOGS/postgres.log" >&2; die "initdb failed"; }
      cat >>"$d/postgresql.conf" <<EOF
# buildfarm dev stack
listen_addresses = '127.0.0.1'
port = 5432
unix_socket_directories = '$PG_SOCK'
EOF
    fi
    log "postgres: starting"
    as_pg "$PGBIN/pg_ctl" -D "$d" -l "$LOGS/postgres.log" -w -t 60 start >/dev/null \
      || { tail -n 20 "$LOGS/postgres.log" >&2; die "postgres did not start"; }
    wait_for postgres "$LOGS/postgres.log" 30 "$(head -n 1 "$d/postmaster.pid")" pg_ok
  fi
  # Role and database for the controller (idempotent; superuser over our unix socket, peer auth).
  local psql=("$PGBIN/psql" -h "$PG_SOCK" -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  as_pg "${psql[@]}" -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
        CREATE ROLE $PG_USER LOGIN PASSWORD '$PG_PASSWORD';
      END IF; END \$\$;"
  # buildfarm for the running farm, buildfarm_test (or $BUILDFARM_TEST_DB) for the controller's own
  # tests. (CREATE DATABASE cannot run inside DO, hence the count.)
  local db
  for db in buildfarm "$PG_DB" buildfarm_test ${BUILDFARM_TEST_DB:-}; do
    [[ "$(as_pg "${psql[@]}" -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" == 1 ]] \
      || as_pg "${psql[@]}" -c "CREATE DATABASE $db OWNER $PG_USER"
  done
}

up_git() {
  if git_ok; then log "git: already up"; return; fi
  mkdir -p "$GIT_BASE"
  log "git: starting git daemon"
  # git-daemon itself rather than `git daemon`, so the pid we record is the server's.
  start_bg "$S/git/daemon.pid" "$LOGS/git-daemon.log" "$(git --exec-path)/git-daemon" --reuseaddr \
    --listen=127.0.0.1 --port=9418 --base-path="$GIT_BASE" --export-all --enable=receive-pack \
    --informative-errors "$GIT_BASE"
  wait_for git "$LOGS/git-daemon.log" 15 "$BG_PID" git_ok
}

# ---------------------------------------------------------------- commands

cmd_up() {
  # Unix socket paths (containerd's, postgres') must stay under 108 bytes.
  ((${#S} <= 60)) || die "stack dir path longer than 60 characters: $S (set BUILDFARM_STACK_DIR)"
  mkdir -p "$LOGS"
  cmd_install
  up_docker
  up_qemu
  up_registry
  up_auth_registry
  up_kafka
  up_postgres
  up_git
  "$DEV/base-image.sh"
  wait_kafka
  log "up in ${SECONDS}s; stack dir $S"
}

cmd_down() {
  stop_pid git "$S/git/daemon.pid" git-daemon
  stop_pid kafka "$S/kafka/kafka.pid" kafka.Kafka
  stop_pid registry "$S/registry/registry.pid" docker-registry
  stop_pid "registry :$AUTH_REGISTRY_PORT" "$AUTH_REGISTRY_DIR/registry.pid" docker-registry
  if [[ -f "$S/postgres/data/postmaster.pid" ]]; then
    log "stopping postgres"
    as_pg "$PGBIN/pg_ctl" -D "$S/postgres/data" -m fast -w stop >/dev/null || true
  fi
  # Last: builds and other services may still have been talking to the engine.
  stop_pid dockerd "$S/docker/dockerd.pid" dockerd
  log "down (data kept in $S)"
}

cmd_status() {
  line() { printf '%-9s %-5s %-46s %s\n' "$1" "$2" "$3" "$4"; }
  st() { if "$@"; then echo up; else echo down; fi; }
  local q=down b=down
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 && -e /proc/sys/fs/binfmt_misc/qemu-arm ]] && q=up
  registry_ok && curl -fsS --max-time 2 -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$REGISTRY/v2/library/busybox/manifests/latest" 2>/dev/null | jq -e '.manifests | length == 4' >/dev/null && b=up
  line docker "$(st docker_ok)" "unix://$DOCKER_SOCK" "$LOGS/dockerd.log"
  line qemu "$q" "binfmt qemu-aarch64 qemu-arm" "-"
  line registry "$(st registry_ok)" "http://$REGISTRY" "$LOGS/registry.log"
  line registry "$(st auth_registry_ok)" "http://127.0.0.1:$AUTH_REGISTRY_PORT (htpasswd)" "$LOGS/registry-auth.log"
  line kafka "$(st kafka_ok)" "$KAFKA" "$LOGS/kafka.log"
  line postgres "$(st pg_ok)" "$PG_URL" "$LOGS/postgres.log"
  line git "$(st git_ok)" "$GIT_URL_BASE (dir $GIT_BASE)" "$LOGS/git-daemon.log"
  line base "$b" "$BASE_IMAGE" "-"
}

# Sourced (dev/fault-farm.sh): only the functions above.
[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0
[[ $EUID == 0 ]] || die "run as root (dockerd, binfmt_misc, apt-get)"
case "${1:-}" in
  install) mkdir -p "$LOGS"; cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
