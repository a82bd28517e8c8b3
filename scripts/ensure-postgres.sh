#!/usr/bin/env bash
# The tests need PostgreSQL on 127.0.0.1:5432 that the current user can reach as "postgres"
# without a password (INTAKE_TEST_POSTGRES_URL overrides). Start the local cluster if it is down.
set -euo pipefail
url="${INTAKE_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if pg_isready -q -d "$url" 2>/dev/null; then exit 0; fi
if [ "$(id -u)" -eq 0 ] && ls /etc/postgresql >/dev/null 2>&1; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
fi
for _ in $(seq 1 30); do pg_isready -q -d "$url" && exit 0; sleep 1; done
echo "PostgreSQL is not reachable at $url (set INTAKE_TEST_POSTGRES_URL)" >&2
exit 1
