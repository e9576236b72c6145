#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) for tests, CI and developers, run from Maven Central jars (no Docker).
#
#   deploy/scripts/kafka.sh {install|start|stop|status|restart}
#   deploy/scripts/kafka.sh cluster {start|stop|status|bootstrap} DIR BASEPORT
#   deploy/scripts/kafka.sh cluster {kill|start-node} DIR BASEPORT NODE
#
# `cluster` runs three brokers (KRaft, each broker + controller, static quorum) with their state in DIR: node i
# (1..3) listens on BASEPORT+2(i-1) and its controller on the port after it; replication factor 3 and
# min.insync.replicas=2, so one broker may die without losing an acknowledged (acks=all) record. `kill` sends
# SIGKILL to one node (a crash); `start-node` brings it back on its log dir. The single broker is the default
# and is unchanged by this: tests and CI use it.
#
# Environment: TEPAT_STATE_DIR (default <repo>/.tepat), TEPAT_PYTHON (default <repo>/.venv/bin/python),
# TEPAT_KAFKA_PORT (default 19092; the controller listens on TEPAT_KAFKA_CONTROLLER_PORT, default port+1),
# TEPAT_KAFKA_START_TIMEOUT (seconds, default 120).
# The log dir survives stop/restart; delete <state>/kafka to start from an empty cluster.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${TEPAT_STATE_DIR:-$REPO/.tepat}"
PY="${TEPAT_PYTHON:-$REPO/.venv/bin/python}"
PORT="${TEPAT_KAFKA_PORT:-19092}"
CONTROLLER_PORT="${TEPAT_KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
START_TIMEOUT="${TEPAT_KAFKA_START_TIMEOUT:-120}"
BOOTSTRAP="127.0.0.1:$PORT"

POM="$REPO/deploy/kafka/pom.xml"
LIBS="$REPO/deploy/kafka/.cache/libs"
TEMPLATE="$REPO/deploy/kafka/server.properties"
LOG4J="$REPO/deploy/kafka/log4j2.properties"
KDIR="$STATE/kafka"
DATA="$KDIR/data"
LOGS="$KDIR/logs"
PROPS="$KDIR/server.properties"
PIDFILE="$KDIR/kafka.pid"
CLUSTER_ID_FILE="$KDIR/cluster.id"
OUT="$KDIR/kafka.out"
LOG_MARK=0  # the size of server.log when the current start began (wait_ready reads only what came after)

log() { echo "kafka.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

admin() {
    # PYTHONPATH lets a TEPAT_PYTHON without the editable install still import shared.bus.admin.
    PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m shared.bus.admin "$@"
}

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then die "missing $*; install it (needs root: apt-get install -y $*)"; fi
    log "installing $* with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pom_stamp() { sha256sum "$POM" | cut -d' ' -f1; }

libs_ok() {
    compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null || return 1
    # A changed pom (version bump, dependency removed) must not leave stale jars on the class path.
    [ -f "$LIBS/.pom.sha256" ] && [ "$(cat "$LIBS/.pom.sha256")" = "$(pom_stamp)" ]
}

cmd_install() {
    command -v java >/dev/null || apt_install openjdk-17-jre-headless
    if libs_ok; then return 0; fi
    command -v mvn >/dev/null || apt_install maven
    log "fetching Kafka jars with Maven into $LIBS"
    local tmp="$LIBS.tmp.$$"
    rm -rf "$tmp"
    # Copy into a fresh folder then swap, so jars dropped from the pom disappear from the class path.
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime; then
        rm -rf "$tmp"
        die "mvn dependency:copy-dependencies failed"
    fi
    compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || { rm -rf "$tmp"; die "no kafka_2.13 jar after mvn"; }
    pom_stamp >"$tmp/.pom.sha256"
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
}

pid_alive() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: only our broker counts as running.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

java_cp() { java -cp "$LIBS/*" -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" "$@"; }

write_props() {
    mkdir -p "$DATA" "$LOGS"
    {
        sed -e "s/127\.0\.0\.1:19092/127.0.0.1:$PORT/g" -e "s/127\.0\.0\.1:19093/127.0.0.1:$CONTROLLER_PORT/g" \
            "$TEMPLATE"
        echo
        echo "# Added by deploy/scripts/kafka.sh"
        echo "log.dirs=$DATA"
    } >"$PROPS.tmp"
    mv "$PROPS.tmp" "$PROPS"
}

format_once() {
    if [ -f "$DATA/meta.properties" ]; then return 0; fi
    if [ ! -s "$CLUSTER_ID_FILE" ]; then
        java_cp kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$CLUSTER_ID_FILE.tmp"
        mv "$CLUSTER_ID_FILE.tmp" "$CLUSTER_ID_FILE"
    fi
    local cluster_id
    cluster_id="$(cat "$CLUSTER_ID_FILE")"
    [ -n "$cluster_id" ] || die "could not generate a cluster id"
    log "formatting $DATA (cluster id $cluster_id)"
    if ! java_cp kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$PROPS" >"$KDIR/format.log" 2>&1; then
        cat "$KDIR/format.log" >&2
        die "kafka.tools.StorageTool format failed"
    fi
}

# What the broker logged since this start (server.log is appended to across starts).
log_since_start() { tail -c "+$((LOG_MARK + 1))" "$LOGS/server.log" 2>/dev/null || true; }

# 0: ready; 1: the JVM exited or hit a fatal fault (the caller may try again); dies when the broker stays unready
# past the timeout.
wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        if ! pid_alive; then
            tail -n 30 "$OUT" "$LOGS/server.log" 2>/dev/null >&2 || true
            log "the broker exited during startup (logs: $OUT, $LOGS/server.log)"
            return 1
        fi
        # A fatal fault (e.g. a corrupt metadata log after an unclean stop) can leave the JVM halting but still
        # holding its ports for a while: a retry would then collide with it, or talk to it and call it ready.
        if log_since_start | grep -q "Encountered fatal fault"; then
            log_since_start | grep -A1 "Encountered fatal fault" | head -n 4 >&2
            log "the broker hit a fatal fault during startup (log: $LOGS/server.log)"
            return 1
        fi
        # Short admin waits in a loop so a crashed JVM is noticed within seconds instead of at the timeout.
        if admin wait --bootstrap "$BOOTSTRAP" --timeout 5 >/dev/null 2>&1; then return 0; fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 30 "$LOGS/server.log" 2>/dev/null >&2 || true
            die "broker not ready at $BOOTSTRAP after ${START_TIMEOUT}s"
        fi
    done
}

# Make sure the JVM of a failed start is gone before the next attempt binds the same ports.
end_failed_start() {
    local pid i
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    log "the failed broker (pid $pid) ignored SIGTERM for 15s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
}

port_busy() {
    # bash's /dev/tcp: a successful connect means some process (maybe another checkout's broker) holds the port.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_start() {
    if pid_alive; then
        log "already running (pid $(cat "$PIDFILE"))"
        LOG_MARK="$(stat -c %s "$LOGS/server.log" 2>/dev/null || echo 0)"
        wait_ready || die "the running broker exited"
        return 0
    fi
    local p
    for p in "$PORT" "$CONTROLLER_PORT"; do
        if port_busy "$p"; then
            die "port $p is already in use by another process (another checkout's broker? stop it with its own" \
                "deploy/scripts/kafka.sh stop, or set TEPAT_KAFKA_PORT)"
        fi
    done
    cmd_install
    mkdir -p "$KDIR"
    write_props
    format_once
    local started=$SECONDS attempt
    # A broker stopped a moment ago may still hold its log dir lock or sockets: one more try after a pause.
    for attempt in 1 2; do
        log "starting broker on $BOOTSTRAP (state $KDIR, attempt $attempt)"
        LOG_MARK="$(stat -c %s "$LOGS/server.log" 2>/dev/null || echo 0)"
        # setsid + nohup: the broker must outlive the shell (CI step, make target) that started it.
        setsid nohup java -Xms512m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
            -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$LOGS" \
            -cp "$LIBS/*" kafka.Kafka "$PROPS" >"$OUT" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
        if wait_ready; then break; fi
        end_failed_start
        if log_since_start | grep -q "CorruptRecordException"; then
            die "the broker's local state in $DATA is corrupt (left by an unclean stop?). It holds test and" \
                "development data only: delete $KDIR/data and $KDIR/cluster.id, then start again"
        fi
        [ "$attempt" -lt 2 ] || die "the broker exited during startup twice"
        cp "$OUT" "$OUT.failed" 2>/dev/null || true
        sleep 5
    done
    log "ready after $((SECONDS - started))s (pid $(cat "$PIDFILE"))"
    admin topics --bootstrap "$BOOTSTRAP" --timeout 30
}

cmd_stop() {
    if ! pid_alive; then
        rm -f "$PIDFILE"
        log "not running"
        return 0
    fi
    local pid
    pid="$(cat "$PIDFILE")"
    log "stopping broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for i in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "still running after 30s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 1
    fi
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_status() {
    if ! pid_alive; then
        echo "kafka: not running"
        return 1
    fi
    if admin wait --bootstrap "$BOOTSTRAP" --timeout 5 >/dev/null 2>&1; then
        echo "kafka: running and ready at $BOOTSTRAP (pid $(cat "$PIDFILE"), data $DATA)"
        return 0
    fi
    echo "kafka: running (pid $(cat "$PIDFILE")) but not ready at $BOOTSTRAP"
    return 1
}

# ---- three-broker cluster -------------------------------------------------------------------------------------

CLUSTER_NODES=3

node_port() { echo $((BASEPORT + 2 * ($1 - 1))); }
node_dir() { echo "$CDIR/node$1"; }

node_alive() {
    local pidfile pid
    pidfile="$(node_dir "$1")/kafka.pid"
    [ -f "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

cluster_bootstrap() {
    local i out=""
    for i in $(seq 1 "$CLUSTER_NODES"); do out="${out:+$out,}127.0.0.1:$(node_port "$i")"; done
    echo "$out"
}

cluster_voters() {
    local i out=""
    for i in $(seq 1 "$CLUSTER_NODES"); do out="${out:+$out,}$i@127.0.0.1:$(($(node_port "$i") + 1))"; done
    echo "$out"
}

write_node_props() {
    local i="$1" dir port
    dir="$(node_dir "$i")"
    port="$(node_port "$i")"
    mkdir -p "$dir/data" "$dir/logs"
    cat >"$dir/server.properties.tmp" <<EOF
# Written by deploy/scripts/kafka.sh cluster: node $i of a local three-broker KRaft cluster.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$(cluster_voters)
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
# Every record on three brokers; a write (acks=all) needs two of them, so one broker may be down.
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=3
transaction.state.log.num.partitions=3
share.coordinator.state.topic.num.partitions=1
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.segment.bytes=104857600
EOF
    mv "$dir/server.properties.tmp" "$dir/server.properties"
}

format_node() {
    local i="$1" dir
    dir="$(node_dir "$i")"
    if [ -f "$dir/data/meta.properties" ]; then return 0; fi
    if ! java_cp kafka.tools.StorageTool format -t "$(cat "$CDIR/cluster.id")" -c "$dir/server.properties" \
        >"$dir/format.log" 2>&1; then
        cat "$dir/format.log" >&2
        die "formatting node $i failed"
    fi
}

launch_node() {
    local i="$1" dir
    dir="$(node_dir "$i")"
    if node_alive "$i"; then return 0; fi
    if port_busy "$(node_port "$i")"; then die "port $(node_port "$i") is already in use by another process"; fi
    log "starting node $i on 127.0.0.1:$(node_port "$i") (state $dir)"
    # A small heap and the C1 compiler only: three JVMs on a developer machine or a CI runner.
    setsid nohup java -Xms256m -Xmx"${TEPAT_KAFKA_CLUSTER_HEAP:-384m}" -XX:+UseG1GC -XX:TieredStopAtLevel=1 \
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$dir/logs" \
        -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" >"$dir/kafka.out" 2>&1 </dev/null &
    echo $! >"$dir/kafka.pid"
}

wait_node() {
    local i="$1" deadline=$((SECONDS + START_TIMEOUT))
    while :; do
        node_alive "$i" || {
            tail -n 30 "$(node_dir "$i")/kafka.out" >&2 || true
            die "node $i exited during startup"
        }
        if admin wait --bootstrap "127.0.0.1:$(node_port "$i")" --timeout 5 >/dev/null 2>&1; then return 0; fi
        [ "$SECONDS" -lt "$deadline" ] || die "node $i not ready after ${START_TIMEOUT}s"
    done
}

stop_node() {
    local i="$1" signal="$2" pidfile pid n
    pidfile="$(node_dir "$i")/kafka.pid"
    if ! node_alive "$i"; then
        rm -f "$pidfile"
        return 0
    fi
    pid="$(cat "$pidfile")"
    kill "-$signal" "$pid" 2>/dev/null || true
    for n in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
    log "node $i stopped ($signal)"
}

cmd_cluster() {
    local action="${1:-}" node="${4:-}" i rc=0
    CDIR="${2:-}"
    BASEPORT="${3:-}"
    [ -n "$action" ] && [ -n "$CDIR" ] && [ -n "$BASEPORT" ] \
        || die "usage: $0 cluster {start|stop|status} DIR BASEPORT | cluster {kill|start-node} DIR BASEPORT NODE"
    mkdir -p "$CDIR"
    CDIR="$(cd "$CDIR" && pwd)"
    case "$action" in
        start)
            cmd_install
            if [ ! -s "$CDIR/cluster.id" ]; then
                java_cp kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1 >"$CDIR/cluster.id.tmp"
                mv "$CDIR/cluster.id.tmp" "$CDIR/cluster.id"
            fi
            for i in $(seq 1 "$CLUSTER_NODES"); do
                write_node_props "$i"
                format_node "$i"
                launch_node "$i"
            done
            for i in $(seq 1 "$CLUSTER_NODES"); do wait_node "$i"; done
            admin topics --bootstrap "$(cluster_bootstrap)" --timeout 60 --replication-factor 3
            log "cluster ready at $(cluster_bootstrap)"
            ;;
        stop)
            for i in $(seq 1 "$CLUSTER_NODES"); do stop_node "$i" TERM; done
            ;;
        status)
            for i in $(seq 1 "$CLUSTER_NODES"); do
                if node_alive "$i"; then
                    echo "kafka node $i: running on 127.0.0.1:$(node_port "$i")"
                else
                    echo "kafka node $i: not running"
                    rc=1
                fi
            done
            return "$rc"
            ;;
        bootstrap) cluster_bootstrap ;;
        kill)
            [ -n "$node" ] || die "usage: $0 cluster kill DIR BASEPORT NODE"
            stop_node "$node" KILL
            ;;
        start-node)
            [ -n "$node" ] || die "usage: $0 cluster start-node DIR BASEPORT NODE"
            launch_node "$node"
            wait_node "$node"
            ;;
        *) die "unknown cluster action '$action'" ;;
    esac
}

case "${1:-}" in
    cluster)
        shift
        cmd_cluster "$@"
        ;;
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    restart) cmd_stop && cmd_start ;;
    *)
        echo "usage: $0 {install|start|stop|status|restart} | cluster ACTION DIR BASEPORT [NODE]" >&2
        exit 2
        ;;
esac
