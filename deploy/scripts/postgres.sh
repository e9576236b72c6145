#!/usr/bin/env bash
# Local PostgreSQL for tests, CI and developers, from Debian packages (no Docker): a dedicated cluster `tepat`.
#
#   deploy/scripts/postgres.sh {install|start|stop|status|url [DB]|createdb NAME}
#   deploy/scripts/postgres.sh durable {start|stop|crash|status} DIR PORT
#
# start    installs PostgreSQL if needed, creates/starts the cluster, sets the superuser password, creates database
#          `tepat` if missing and runs deploy/postgres/init.sql in it (idempotent).
# createdb drops and re-creates database NAME and runs init.sql in it (a fresh database for a test run).
#          Both also run dev-passwords.sql: on this local cluster each service role's password is its name.
# url      prints the superuser URL of database DB (default tepat).
# durable  a throw-away cluster in DIR on 127.0.0.1:PORT that keeps every acknowledged commit
#          (fsync, synchronous_commit=on, full_page_writes), for fault tests that stop or crash PostgreSQL:
#          the `tepat` cluster above trades durability for test speed and may lose a committed transaction
#          on a crash. `crash` is an immediate shutdown (no checkpoint, recovery from WAL at the next start).
#          Trust authentication on loopback only; any role name connects.
#
# Environment: TEPAT_PG_PORT (default 55432), TEPAT_PG_VERSION (default: the version of an existing `tepat`
# cluster, else the highest installed major version).
# Needs root (apt-get, pg_createcluster, runuser postgres).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PORT="${TEPAT_PG_PORT:-55432}"
CLUSTER="tepat"
DB="tepat"
INIT_SQL="$REPO/deploy/postgres/init.sql"
DEV_PASSWORDS_SQL="$REPO/deploy/postgres/dev-passwords.sql"
SUPERUSER_PASSWORD="postgres"

log() { echo "postgres.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "must run as root (it manages a system PostgreSQL cluster)"; }

cmd_install() {
    if command -v pg_createcluster >/dev/null && command -v psql >/dev/null; then return 0; fi
    need_root
    log "installing postgresql with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

pg_version() {
    if [ -n "${TEPAT_PG_VERSION:-}" ]; then
        echo "$TEPAT_PG_VERSION"
        return 0
    fi
    local v
    # An existing tepat cluster wins, so installing a newer major version later does not fork a second cluster.
    v="$(pg_lsclusters -h 2>/dev/null | awk -v c="$CLUSTER" '$2 == c {print $1}' | sort -n | tail -n1)"
    if [ -n "$v" ]; then
        echo "$v"
        return 0
    fi
    v="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null \
        | awk -F/ '{print $5}' | sort -n | tail -n1)"
    [ -n "$v" ] || die "no PostgreSQL server found under /usr/lib/postgresql"
    echo "$v"
}

cluster_exists() { [ -f "/etc/postgresql/$1/$CLUSTER/postgresql.conf" ]; }

cluster_online() { pg_lsclusters -h 2>/dev/null | awk -v v="$1" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}' | grep -q online; }

as_postgres() { runuser -u postgres -- "$@"; }

# psql as the postgres superuser over the Unix socket (peer auth), failing on the first error.
# client_min_messages=warning hides the "already exists, skipping" notices of the idempotent init.sql.
su_psql() {
    as_postgres env PGOPTIONS="-c client_min_messages=warning" \
        psql -X -q -v ON_ERROR_STOP=1 -h /var/run/postgresql -p "$PORT" "$@"
}

write_conf() {
    local ver="$1" conf="/etc/postgresql/$1/$CLUSTER/conf.d/90-tepat.conf" tmp
    tmp="$(mktemp)"
    # Test speed over durability: this cluster only ever holds throw-away data. Fault tests that crash
    # PostgreSQL must not run here (a crash may drop acknowledged commits): they use `durable` instead.
    cat >"$tmp" <<EOF
# Written by deploy/scripts/postgres.sh; local test/dev cluster, never production.
port = $PORT
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
# Debian's packaged cluster turns TLS on with a snakeoil certificate; Compose's postgres image (the deployment) has
# it off on its internal network, and the tests and benchmarks should pay what the deployment pays.
ssl = off
EOF
    if [ -f "$conf" ] && cmp -s "$tmp" "$conf"; then
        rm -f "$tmp"
        return 1
    fi
    install -o postgres -g postgres -m 0644 "$tmp" "$conf"
    rm -f "$tmp"
    return 0
}

wait_ready() {
    local i
    for i in $(seq 1 120); do
        if pg_isready -q -h 127.0.0.1 -p "$PORT" -d postgres; then return 0; fi
        sleep 0.5
    done
    die "PostgreSQL not ready on 127.0.0.1:$PORT after 60s (see /var/log/postgresql/postgresql-$(pg_version)-$CLUSTER.log)"
}

valid_db_name() { [[ "$1" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "invalid database name '$1' (use [a-z_][a-z0-9_]*)"; }

run_init() {
    su_psql -d "$1" -f - <"$INIT_SQL" >/dev/null
    su_psql -d "$1" -f - <"$DEV_PASSWORDS_SQL" >/dev/null
}

ensure_db() {
    local name="$1"
    if [ -z "$(su_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
        log "creating database $name"
        su_psql -d postgres -c "CREATE DATABASE \"$name\""
    fi
    run_init "$name"
}

cmd_start() {
    need_root
    cmd_install
    local ver
    ver="$(pg_version)"
    if ! cluster_exists "$ver"; then
        log "creating cluster $ver/$CLUSTER on port $PORT"
        # Manual start: the cluster runs only when a developer or CI asks for it, not at boot.
        pg_createcluster "$ver" "$CLUSTER" -p "$PORT" --start-conf=manual --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    local conf_changed=0
    if write_conf "$ver"; then conf_changed=1; fi
    if cluster_online "$ver"; then
        if [ "$conf_changed" -eq 1 ]; then
            # port, shared_buffers and max_connections only take effect on restart.
            log "configuration changed, restarting cluster $ver/$CLUSTER"
            pg_ctlcluster --skip-systemctl-redirect "$ver" "$CLUSTER" restart -m fast
        else
            log "cluster $ver/$CLUSTER already running on port $PORT"
        fi
    else
        log "starting cluster $ver/$CLUSTER on port $PORT"
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$CLUSTER" start
    fi
    wait_ready
    su_psql -d postgres -c "ALTER ROLE postgres PASSWORD '$SUPERUSER_PASSWORD'"
    ensure_db "$DB"
    log "ready: $(cmd_url "$DB")"
}

cmd_stop() {
    need_root
    command -v pg_lsclusters >/dev/null || { log "PostgreSQL not installed"; return 0; }
    local ver
    ver="$(pg_version)"
    if cluster_exists "$ver" && cluster_online "$ver"; then
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$CLUSTER" stop -m fast
        log "stopped cluster $ver/$CLUSTER"
    else
        log "cluster $ver/$CLUSTER not running"
    fi
}

cmd_status() {
    if ! command -v pg_isready >/dev/null; then
        echo "postgres: not installed"
        return 1
    fi
    if pg_isready -q -h 127.0.0.1 -p "$PORT" -d postgres; then
        echo "postgres: running and ready at 127.0.0.1:$PORT ($(cmd_url "$DB"))"
        return 0
    fi
    echo "postgres: not ready at 127.0.0.1:$PORT"
    return 1
}

cmd_url() {
    echo "postgresql://postgres:$SUPERUSER_PASSWORD@127.0.0.1:$PORT/${1:-$DB}"
}

cmd_createdb() {
    local name="${1:-}"
    [ -n "$name" ] || die "usage: $0 createdb NAME"
    valid_db_name "$name"
    case "$name" in postgres | template0 | template1) die "refusing to drop system database $name" ;; esac
    need_root
    if ! pg_isready -q -h 127.0.0.1 -p "$PORT" -d postgres; then cmd_start; fi
    # FORCE ends sessions left over by an earlier, crashed test run instead of failing on them.
    su_psql -d postgres -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
    su_psql -d postgres -c "CREATE DATABASE \"$name\""
    run_init "$name"
    log "fresh database: $(cmd_url "$name")"
}

# Runs initdb/pg_ctl as the postgres user when called as root (PostgreSQL refuses to run as root).
as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cmd_durable() {
    local action="${1:-}" dir="${2:-}" port="${3:-}"
    [ -n "$action" ] && [ -n "$dir" ] || die "usage: $0 durable {start|stop|crash|status} DIR PORT"
    local bin
    bin="/usr/lib/postgresql/$(pg_version)/bin"
    case "$action" in
        start)
            [ -n "$port" ] || die "usage: $0 durable start DIR PORT"
            if [ ! -f "$dir/PG_VERSION" ]; then
                mkdir -p "$dir"
                if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$dir"; fi
                as_owner "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
                cat >>"$dir/postgresql.conf" <<EOF
# Written by deploy/scripts/postgres.sh durable: every acknowledged commit survives a crash.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 100
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
            fi
            # Idempotent: a running cluster is left as it is.
            if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then return 0; fi
            as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null
            ;;
        stop) if as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null; fi ;;
        crash) as_owner "$bin/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null ;;
        status) as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null ;;
        *) die "usage: $0 durable {start|stop|crash|status} DIR PORT" ;;
    esac
}

case "${1:-}" in
    install) cmd_install ;;
    durable)
        shift
        cmd_durable "$@"
        ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) cmd_url "${2:-}" ;;
    createdb) cmd_createdb "${2:-}" ;;
    *)
        echo "usage: $0 {install|start|stop|status|url [DB]|createdb NAME|durable ACTION DIR PORT}" >&2
        exit 2
        ;;
esac
