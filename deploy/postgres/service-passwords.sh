#!/bin/sh
# Compose only: runs once from /docker-entrypoint-initdb.d, after init.sql made the roles (the file names sort so),
# and gives each service role the password from the environment. Compose requires the variables (no default), so
# no role can ever have a known password; to change one later: ALTER ROLE ... PASSWORD, then update the variable.
set -eu
: "${TEPAT_REGISTRY_DB_PASSWORD:?set TEPAT_REGISTRY_DB_PASSWORD}"
: "${TEPAT_VERIFICATION_DB_PASSWORD:?set TEPAT_VERIFICATION_DB_PASSWORD}"
: "${TEPAT_DISBURSEMENT_DB_PASSWORD:?set TEPAT_DISBURSEMENT_DB_PASSWORD}"
# psql variables quote the values (:'name'), so a password may hold any character.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v registry="$TEPAT_REGISTRY_DB_PASSWORD" \
    -v verification="$TEPAT_VERIFICATION_DB_PASSWORD" \
    -v disbursement="$TEPAT_DISBURSEMENT_DB_PASSWORD" <<'SQL'
ALTER ROLE registry PASSWORD :'registry';
ALTER ROLE verification PASSWORD :'verification';
ALTER ROLE disbursement PASSWORD :'disbursement';
SQL
