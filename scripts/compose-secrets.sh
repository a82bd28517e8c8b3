#!/usr/bin/env bash
# Makes the secret files docker-compose.yml reads, once: a random password for the database's "intake"
# user in the two forms its readers want (postgres_password for the PostgreSQL image, pgpass for libpq in
# the intake containers), and a mail/ folder for the mailbox and SMTP secrets you add. Each is readable by
# its owner alone (libpq ignores a password file others may read); run as root, the owner is uid 10001,
# the image's intake user, as the containers need. Never overwrites.
#   sudo scripts/compose-secrets.sh [DIR]     DIR defaults to deploy/secrets
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-deploy/secrets}"
uid=10001

if [ -e "$dir/postgres_password" ] || [ -e "$dir/pgpass" ]; then
  echo "compose-secrets: $dir already holds the database secrets; nothing changed" >&2
  exit 1
fi

umask 077
mkdir -p "$dir/mail"
password="$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)"
printf '%s\n' "$password" >"$dir/postgres_password"
# host:port:database:user:password; any host and port, as the file is only ever mounted into these containers.
printf '*:*:intake:intake:%s\n' "$password" >"$dir/pgpass"
chmod 0400 "$dir/postgres_password" "$dir/pgpass"
chmod 0700 "$dir/mail"
if [ "$(id -u)" -eq 0 ]; then
  chown -R "$uid:$uid" "$dir/postgres_password" "$dir/pgpass" "$dir/mail"
  echo "compose-secrets: wrote $dir/postgres_password and $dir/pgpass (uid $uid, 0400);" \
       "put mail secrets in $dir/mail/ (chown $uid, chmod 0400)"
else
  echo "compose-secrets: wrote $dir/postgres_password and $dir/pgpass, owned by you: the containers' user" \
       "(uid $uid) cannot read them until you run: sudo chown -R $uid:$uid $dir" >&2
fi
