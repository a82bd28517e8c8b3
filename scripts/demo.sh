#!/usr/bin/env bash
# The demo: a sample Maildir of residents' mail goes through the worker on SQLite and the file
# transport (acknowledgements land as .eml files in var/demo/outbox), then the cases table.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf var/demo
mkdir -p var/demo/maildir/{new,cur,tmp}
i=0
for message in demo/mail/*.eml; do
  i=$((i + 1))
  delivered="var/demo/maildir/new/$(date +%s).demo$i.$(hostname)"
  cp "$message" "$delivered"
  # An MTA stamps the delivery time as the file's mtime: use the message's Date for realistic clocks.
  touch -d "$(sed -n 's/^Date: //p' "$message" | head -1 | tr -d '\r')" "$delivered"
done
export INTAKE_CONFIG=demo/intake.toml
.venv/bin/intake run --once
.venv/bin/intake cases
echo
echo "Acknowledgements written to var/demo/outbox/:"
ls var/demo/outbox | head -30
