#!/bin/sh
# make demo: a throwaway cluster that preloads togai_zoho and pg_cron, the bundled mock Togai
# and Zoho Books servers seeded with a few customers and invoices, pg_cron polling both, and
# both ready flows plus the payment flow end to end. Ends by itself: the mocks are stopped and
# the cluster dropped on exit.
set -eu
cd "$(dirname "$0")/.."

work=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Starts a mock in this shell (so cleanup can stop it) and waits for its "PORT <n>" line.
start_mock() {
	python3 "test/mock/$1.py" --port 0 --demo-seed > "$work/$1.out" 2>"$work/$1.err" &
	pids="$pids $!"
}
mock_port() {
	for _ in $(seq 50); do
		if grep -q '^PORT ' "$work/$1.out" 2>/dev/null; then
			sed -n 's/^PORT //p' "$work/$1.out"
			return
		fi
		sleep 0.1
	done
	echo "mock $1 did not start" >&2
	cat "$work/$1.err" >&2
	exit 1
}

start_mock togai
start_mock zohobooks
togai_port=$(mock_port togai)
zoho_port=$(mock_port zohobooks)

pg_virtualenv -t \
	-o "shared_preload_libraries=togai_zoho,pg_cron" \
	-o "cron.database_name=postgres" -o "cron.use_background_workers=on" \
	-o "togai_zoho.poll_idle_max=1min" \
	psql -X -v ON_ERROR_STOP=1 -q \
		-v togai_url="http://127.0.0.1:$togai_port" \
		-v zoho_url="http://127.0.0.1:$zoho_port" \
		-f tools/demo.sql
