#!/usr/bin/env bash
# Local infrastructure (PostgreSQL + Kafka) as plain processes, for tests, CI and developers.
#
#   deploy/scripts/infra.sh {up|down|status}
#
# up starts both (idempotent, waits until ready and creates the topics); down stops both and keeps their data;
# status exits 0 only when both are ready. See postgres.sh and kafka.sh for the environment variables.
#
# TEPAT_KAFKA_BROKERS=3 runs a three-broker cluster instead of the single broker (`kafka.sh cluster`; replication
# factor 3, min.insync.replicas=2), state in <state>/kafka-cluster, brokers on TEPAT_KAFKA_CLUSTER_PORT (default
# 29092), +2 and +4. The default (1) is the single broker on 19092 that tests and CI use.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BROKERS="${TEPAT_KAFKA_BROKERS:-1}"
CLUSTER_DIR="${TEPAT_STATE_DIR:-$REPO/.tepat}/kafka-cluster"
CLUSTER_PORT="${TEPAT_KAFKA_CLUSTER_PORT:-29092}"

kafka() {
    case "$BROKERS" in
        1) bash "$HERE/kafka.sh" "$1" ;;
        3) bash "$HERE/kafka.sh" cluster "$1" "$CLUSTER_DIR" "$CLUSTER_PORT" ;;
        *)
            echo "infra.sh: TEPAT_KAFKA_BROKERS must be 1 or 3, not '$BROKERS'" >&2
            return 2
            ;;
    esac
}

case "${1:-}" in
    up)
        bash "$HERE/postgres.sh" start
        kafka start
        ;;
    down)
        # Stop both even if the first one fails, then report the failure.
        rc=0
        kafka stop || rc=$?
        bash "$HERE/postgres.sh" stop || rc=$?
        exit "$rc"
        ;;
    status)
        rc=0
        bash "$HERE/postgres.sh" status || rc=1
        kafka status || rc=1
        exit "$rc"
        ;;
    *)
        echo "usage: $0 {up|down|status}" >&2
        exit 2
        ;;
esac
