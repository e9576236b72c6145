#!/usr/bin/env bash
# Local infrastructure (PostgreSQL + Kafka) as plain processes, for tests, CI and developers.
#
#   deploy/scripts/infra.sh {up|down|status}
#
# up starts both (idempotent, waits until ready and creates the topics); down stops both and keeps their data;
# status exits 0 only when both are ready. See postgres.sh and kafka.sh for the environment variables.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
    up)
        bash "$HERE/postgres.sh" start
        bash "$HERE/kafka.sh" start
        ;;
    down)
        # Stop both even if the first one fails, then report the failure.
        rc=0
        bash "$HERE/kafka.sh" stop || rc=$?
        bash "$HERE/postgres.sh" stop || rc=$?
        exit "$rc"
        ;;
    status)
        rc=0
        bash "$HERE/postgres.sh" status || rc=1
        bash "$HERE/kafka.sh" status || rc=1
        exit "$rc"
        ;;
    *)
        echo "usage: $0 {up|down|status}" >&2
        exit 2
        ;;
esac
