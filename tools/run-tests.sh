#!/bin/sh
# Runs every test suite of togai_zoho against throwaway clusters.
# Expects the extension to be built and installed (make test does both).
set -u
cd "$(dirname "$0")/.."

failed=0
passed=0

run() {
	name=$1
	shift
	echo "=== $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "=== $name FAILED"
	fi
}

# pg_regress and isolation suites, each on the temporary instance make installcheck
# starts (test/regress.conf preloads the extension and pg_cron); afterwards the server
# log must hold none of the secrets the suites used. initdb refuses root, so as root
# they run as postgres in a copy of the tree.
regress() {
	dir=.
	as=""
	if [ "$(id -u)" -eq 0 ]; then
		dir=$(mktemp -d)
		cp -r Makefile togai_zoho.control sql test "$dir"/
		chown -R postgres "$dir"
		as="runuser -u postgres --"
	fi
	rm -rf "$dir/test/output" "$dir/test/output_iso"
	if ! $as make -s -C "$dir" installcheck; then
		cat "$dir"/test/output/regression.diffs "$dir"/test/output_iso/regression.diffs 2>/dev/null
		return 1
	fi
	# pg_regress keeps each instance's server log in its output directory
	for log in "$dir"/test/output/log/postmaster.log "$dir"/test/output_iso/log/postmaster.log; do
		[ -s "$log" ] || { echo "server log $log not found"; return 1; }
		if grep -nE "tok_(live_1234|sbx_5678|mock|ops_secret|never_logged_42)" "$log"; then
			echo "secrets found in the server log"; return 1
		fi
		echo "server log: no secrets ($(wc -l < "$log") lines checked)"
	done
	[ "$dir" = . ] || [ -n "${KEEP:-}" ] || rm -rf "$dir"
}

run "unit tests of the pure C parts, under valgrind" make -s unit
run "fuzz targets of the pure parsers (libFuzzer, ASan, UBSan)" make -s fuzz
run "pg_regress and isolation (test/sql, test/specs)" regress
run "integration suites (test/, real HTTP to the mock servers)" sh tools/run-integration-tests.sh

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
