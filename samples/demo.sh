#!/usr/bin/env bash
# make demo: the main job end to end on the samples, with the embedded
# SQLite register, in a temporary workspace. No prompts, no network.
set -euo pipefail
DSAR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SAMPLES=$(cd "$(dirname "$0")" && pwd)
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/dsar-demo.XXXXXX")
WS=$DEMO/workspace
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step dsar init "$WS" --no-passphrase
"$DSAR" init "$WS" --no-passphrase
# Every kind of sample source: the PBX's CDR file and queue log, Cisco CUCM,
# a call recorder and an agent log (generic), Microsoft Teams and Entra ID.
cp "$SAMPLES/subjects.yaml" "$SAMPLES/controller.yaml" "$WS/"
cp "$SAMPLES/dsar-all.yaml" "$WS/dsar.yaml"
cp -r "$SAMPLES/cdr-csv" "$SAMPLES/queue_log" "$SAMPLES/cucm" "$SAMPLES/generic" "$SAMPLES/msgraph" "$WS/"
export DSAR_CONFIG=$WS/dsar.yaml

step dsar keys generate --uid "Alex Example <alex.example@example.ac.uk>" --out "$DEMO/alex" --no-passphrase
"$DSAR" keys generate --uid "Alex Example <alex.example@example.ac.uk>" --out "$DEMO/alex" --no-passphrase

step dsar request new --subject S-1001 --type access --received "$(date -d '3 days ago' +%F)" --channel email
ID=$("$DSAR" request new --subject S-1001 --type access --received "$(date -d '3 days ago' +%F)" --channel email)
echo "$ID"

step dsar request verify "$ID" --method "staff card checked in person"
"$DSAR" request verify "$ID" --method "staff card checked in person"

step dsar sources check --subject S-1001
"$DSAR" sources check --subject S-1001

step dsar export "$ID" --recipient-key "$DEMO/alex.pub.asc"
# The sample sources hold some deliberately broken rows: the export lists
# them in the manifest and exits 3 ("bundle written, some rows unreadable").
status=0
BUNDLE=$("$DSAR" export "$ID" --recipient-key "$DEMO/alex.pub.asc") || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 3 ] || exit "$status"
echo "$BUNDLE (exit status $status)"

step dsar decrypt "$BUNDLE" --key "$DEMO/alex.sec.asc" --signer "$WS/keys/controller.pub.asc" --out "$DEMO/opened"
"$DSAR" decrypt "$BUNDLE" --key "$DEMO/alex.sec.asc" --signer "$WS/keys/controller.pub.asc" --out "$DEMO/opened"

step dsar request show "$ID"
"$DSAR" request show "$ID"

printf '\n\033[1mSummary\033[0m\n'
echo "bundle:  $BUNDLE ($(stat -c %s "$BUNDLE") bytes, encrypted and signed)"
echo "opened:  $DEMO/opened"
(cd "$DEMO/opened" && find . -type f | sort | sed 's/^\.\//         /')
echo "The workspace stays in $DEMO for you to look at; delete it when done."
