#!/usr/bin/env bash
# Make a local PostgreSQL 15 + PostGIS 3 ready for the test suite, idempotently:
#   1. install postgresql-15-postgis-3 from Debian when missing (needs root),
#   2. make sure the 15/main cluster is running,
#   3. create the database (default catchment_test) with the postgis extension.
# Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), CATCHMENT_TEST_DB (catchment_test).
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_CLUSTER="${PG_CLUSTER:-main}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
DB="${CATCHMENT_TEST_DB:-catchment_test}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! dpkg-query -W -f='${Status}' "postgresql-${PG_VERSION}-postgis-3" 2>/dev/null | grep -q "install ok installed"; then
    echo "setup-postgis: installing postgresql-${PG_VERSION}-postgis-3"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "postgresql-${PG_VERSION}" "postgresql-${PG_VERSION}-postgis-3" postgresql-client
fi

if ! pg_lsclusters -h 2>/dev/null | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c' | grep -q .; then
    echo "setup-postgis: creating cluster ${PG_VERSION}/${PG_CLUSTER}"
    as_root pg_createcluster -p "$PGPORT" "$PG_VERSION" "$PG_CLUSTER"
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1 == v && $2 == c {print $4}' | grep -q online; then
    echo "setup-postgis: starting cluster ${PG_VERSION}/${PG_CLUSTER}"
    as_root pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
fi

# Run SQL as the database superuser: over TCP when that works (trust auth, as in CI), else
# through the local socket as the postgres OS user (peer auth, a fresh Debian install).
psql_admin() {
    if psql -w -X -q -d postgres -c "SELECT 1" >/dev/null 2>&1; then
        psql -w -X -q -v ON_ERROR_STOP=1 "$@"
    else
        as_root runuser -u postgres -- env -u PGHOST psql -X -q -v ON_ERROR_STOP=1 -p "$PGPORT" "$@"
    fi
}

for _ in $(seq 1 30); do
    pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
    sleep 1
done
pg_isready -h "$PGHOST" -p "$PGPORT"

if [ "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" != "1" ]; then
    echo "setup-postgis: creating database ${DB}"
    psql_admin -d postgres -c "CREATE DATABASE \"${DB}\""
fi
PGOPTIONS="-c client_min_messages=warning" psql_admin -d "$DB" -c "CREATE EXTENSION IF NOT EXISTS postgis"

# A fresh Debian cluster asks for a password over TCP; the tests connect without one. Let the
# test user into the test database from localhost only (first matching pg_hba line wins).
if ! psql -w -X -q -d "$DB" -c "SELECT 1" >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    hba="$(runuser -u postgres -- env -u PGHOST psql -X -tA -p "$PGPORT" -c "SHOW hba_file")"
    echo "setup-postgis: allowing ${PGUSER} into ${DB} from localhost without a password (${hba})"
    printf 'host %s %s 127.0.0.1/32 trust\nhost %s %s ::1/128 trust\n' "$DB" "$PGUSER" "$DB" "$PGUSER" | cat - "$hba" > "$hba.new"
    chown --reference="$hba" "$hba.new" && chmod --reference="$hba" "$hba.new" && mv "$hba.new" "$hba"
    runuser -u postgres -- env -u PGHOST psql -X -q -p "$PGPORT" -c "SELECT pg_reload_conf()" >/dev/null
fi
if ! psql -w -X -q -d "$DB" -c "SELECT 1" >/dev/null 2>&1; then
    echo "setup-postgis: ${PGUSER}@${PGHOST}:${PGPORT}/${DB} refuses a password-less TCP login;" >&2
    echo "  allow it in pg_hba.conf (host ${DB} ${PGUSER} 127.0.0.1/32 trust) or set CATCHMENT_TEST_PG_URL with a password" >&2
    exit 1
fi
echo "setup-postgis: ready: postgresql://${PGUSER}@${PGHOST}:${PGPORT}/${DB} ($(psql -w -X -tAc 'SELECT postgis_lib_version()' -d "$DB") PostGIS)"
