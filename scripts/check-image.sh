#!/usr/bin/env bash
# On a machine with a Docker daemon (and the Compose plugin): what tests/test_wheel.py and
# tests/test_deploy_files.py check without one, for real. Validates docker-compose.yml, builds the image,
# then inside it: not root, Tesseract has eng and cym, `intake check` passes, and `intake run --once` on
# a Maildir of the demo's residents' mail writes acknowledgements (SQLite, file transport).
# NOT RUN on the machine this was written on (no daemon there): README "Running in production".
#   scripts/check-image.sh [TAG]     TAG defaults to housing-intake:check
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-housing-intake:check}"

docker compose -f docker-compose.yml config --quiet
docker build --tag "$tag" .

in_image() { docker run --rm "$@"; }
[ "$(in_image "$tag" id -u)" != "0" ] || { echo "check-image: the image runs as root" >&2; exit 1; }
langs="$(in_image "$tag" tesseract --list-langs 2>&1)"
for lang in eng cym; do
  grep -qx "$lang" <<<"$langs" || { echo "check-image: Tesseract has no $lang" >&2; exit 1; }
done
in_image "$tag" intake check

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/maildir/new" "$work/maildir/cur" "$work/maildir/tmp" "$work/var"
cp demo/mail/01-*.eml demo/mail/02-*.eml "$work/maildir/new/"
chmod -R a+rwX "$work"   # the image's user (uid 10001) writes var/ and moves the messages
in_image -v "$work:/work" -e INTAKE_VAR_DIR=/work/var \
  -e 'INTAKE_MAILDIR=[{"name": "demo", "path": "/work/maildir"}]' "$tag" intake run --once
count="$(find "$work/var/outbox" -name '*.eml' | wc -l)"
[ "$count" -eq 2 ] || { echo "check-image: $count acknowledgements written for 2 messages" >&2; exit 1; }
echo "check-image: $tag builds, runs as a user of its own, has eng and cym, passes intake check and" \
     "acknowledged both demo messages"
