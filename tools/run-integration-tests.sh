#!/bin/sh
# Integration suites: the installed extension in a throwaway cluster, over real HTTP to the
# mock servers in test/mock. Prints "integration: N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
pg_virtualenv -t \
	-o "shared_preload_libraries=togai_zoho,pg_cron" \
	-o "cron.database_name=postgres" -o "cron.use_background_workers=on" \
	python3 test/run_suites.py "$@"
