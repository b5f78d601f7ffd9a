#!/usr/bin/env bash
# make demo: the main job end to end on the samples, with the embedded
# SQLite register, in a temporary workspace. No prompts, no network.
set -euo pipefail
DSAR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SAMPLES=$(cd "$(dirname "$0")" && pwd)
DEMO=$(mktemp -d "${TMPDIR:-/tmp}/dsar-demo.XXXXXX")
WS=$DEMO/workspace
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step dsar init "$WS"
"$DSAR" init "$WS"
cp "$SAMPLES/dsar.yaml" "$SAMPLES/subjects.yaml" "$SAMPLES/controller.yaml" "$WS/"
mkdir -p "$WS/cdr-csv" && cp "$SAMPLES"/cdr-csv/*.csv "$WS/cdr-csv/"
export DSAR_CONFIG=$WS/dsar.yaml

step dsar keys generate --uid "Alex Example <alex.example@example.ac.uk>" --out "$DEMO/alex"
"$DSAR" keys generate --uid "Alex Example <alex.example@example.ac.uk>" --out "$DEMO/alex"

step dsar request new --subject S-1001 --type access --received "$(date -d '3 days ago' +%F)" --channel email
ID=$("$DSAR" request new --subject S-1001 --type access --received "$(date -d '3 days ago' +%F)" --channel email)
echo "$ID"

step dsar request verify "$ID" --method "staff card checked in person"
"$DSAR" request verify "$ID" --method "staff card checked in person"

step dsar export "$ID" --recipient-key "$DEMO/alex.pub.asc"
BUNDLE=$("$DSAR" export "$ID" --recipient-key "$DEMO/alex.pub.asc")
echo "$BUNDLE"

step dsar decrypt "$BUNDLE" --key "$DEMO/alex.sec.asc" --signer "$WS/keys/controller.pub.asc" --out "$DEMO/opened"
"$DSAR" decrypt "$BUNDLE" --key "$DEMO/alex.sec.asc" --signer "$WS/keys/controller.pub.asc" --out "$DEMO/opened"

step dsar request show "$ID"
"$DSAR" request show "$ID"

printf '\n\033[1mSummary\033[0m\n'
echo "bundle:  $BUNDLE ($(stat -c %s "$BUNDLE") bytes, encrypted and signed)"
echo "opened:  $DEMO/opened"
(cd "$DEMO/opened" && find . -type f | sort | sed 's/^\.\//         /')
echo "The workspace stays in $DEMO for you to look at; delete it when done."
