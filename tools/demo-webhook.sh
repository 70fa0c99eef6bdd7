#!/bin/sh
# Part of make demo, run from psql: starts the webhook receiver as the role that may only hand
# in events, sends it one Zoho Books event signed as Zoho Books signs it (and one wrongly
# signed), and stops it. Usage: demo-webhook.sh <zoho books payment id>
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d)
secret=demoWebhookSecret2026
printf 'zohobooks zoho %s\n' "$secret" > "$work/secrets"
chmod 600 "$work/secrets"
src/receiver/togai_zoho_receiver --listen 127.0.0.1:0 --secrets "$work/secrets" \
	--dsn "host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=postgres user=togai_zoho_webhook password=demo-receiver-pw" \
	> "$work/out" 2> "$work/err" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q '^LISTENING ' "$work/out" && break; sleep 0.1; done
port=$(sed -n 's/^LISTENING //p' "$work/out")
python3 - "$port" "$secret" "$1" <<'PY'
import hashlib, hmac, http.client, json, sys
port, secret, payment = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = json.dumps({"payment": {"payment_id": payment}})
for label, sig in (("wrongly signed", "00" * 32),
                   ("signed", hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest())):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/zohobooks/zoho", body, {"Content-Type": "application/json",
                                                 "X-Zoho-Webhook-Signature": sig})
    r = c.getresponse()
    print("  %-15s POST /zohobooks/zoho -> HTTP %d %s" % (label, r.status, r.read().decode()))
PY
