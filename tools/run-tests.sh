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

# pg_regress suites on a cluster that preloads the extension and pg_cron; afterwards
# the server log must hold none of the secrets the suites used.
regress() {
	rm -rf results output_iso regression.diffs regression.out
	pg_virtualenv -t \
		-o "shared_preload_libraries=togai_zoho,pg_cron" \
		-o "cron.database_name=postgres" -o "cron.use_background_workers=on" \
		sh -c '
			make -s installcheck || { cat regression.diffs output_iso/regression.diffs 2>/dev/null; exit 1; }
			log="$(dirname "$PG_CLUSTER_CONF_ROOT")/log/postgresql-15-regress.log"
			[ -s "$log" ] || { echo "server log $log not found"; exit 1; }
			if grep -nE "tok_(live_1234|sbx_5678|mock|ops_secret|never_logged_42)" "$log"; then
				echo "secrets found in the server log"; exit 1
			fi
			echo "server log: no secrets ($(wc -l < "$log") lines checked)"'
}

run "unit tests of the pure C parts, under valgrind" make -s unit
run "fuzz targets of the pure parsers (libFuzzer, ASan, UBSan)" make -s fuzz
run "pg_regress (sql/, expected/)" regress
run "integration suites (test/, real HTTP to the mock servers)" sh tools/run-integration-tests.sh

echo
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
