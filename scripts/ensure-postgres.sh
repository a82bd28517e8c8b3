#!/usr/bin/env bash
# The tests need a PostgreSQL server they can reach without a password. By default that is the local
# cluster on 127.0.0.1:5432 as user "postgres"; INTAKE_TEST_POSTGRES (a SQLAlchemy URL, the same
# variable tests/conftest.py reads) points elsewhere, and then this script only checks it answers.
# For the local cluster it starts it if it is down and, as root, lets "postgres" in from 127.0.0.1
# with trust authentication (a stock Debian cluster asks for a password over TCP).
set -euo pipefail
default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
url="${INTAKE_TEST_POSTGRES:-$default}"
libpq_url="${url/+psycopg/}"

answers() { psql -X -q -d "$libpq_url" -c 'select 1' >/dev/null 2>&1; }

if answers; then exit 0; fi
if [ "$url" != "$default" ]; then
  echo "PostgreSQL does not answer at INTAKE_TEST_POSTGRES=$url" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ] || ! ls /etc/postgresql >/dev/null 2>&1; then
  echo "PostgreSQL does not answer at $url: start it and allow user postgres from 127.0.0.1 (trust)," \
       "or set INTAKE_TEST_POSTGRES" >&2
  exit 1
fi
for version in $(ls /etc/postgresql); do
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  rule="host all postgres 127.0.0.1/32 trust"
  if ! grep -qxF "$rule" "$hba"; then
    echo "ensure-postgres: allowing postgres from 127.0.0.1 without a password in $hba (tests only)"
    sed -i "1i $rule" "$hba"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || pg_ctlcluster --skip-systemctl-redirect "$version" main reload
done
for _ in $(seq 1 30); do answers && exit 0; sleep 1; done
echo "PostgreSQL is not reachable at $url (set INTAKE_TEST_POSTGRES)" >&2
exit 1
