#!/bin/sh
# Integration suites: the installed extension in a throwaway cluster, over real HTTP to the
# mock servers in test/mock. Prints "integration: N passed, N failed". Quiet polls are not
# spaced out here (poll_idle_max 0), so tests can poll twice in a row; the pacing tests set it.
set -eu
cd "$(dirname "$0")/.."
pg_virtualenv -t \
	-o "shared_preload_libraries=togai_zoho,pg_cron" \
	-o "cron.database_name=postgres" -o "cron.use_background_workers=on" \
	-o "togai_zoho.poll_idle_max=0" \
	python3 test/run_suites.py "$@"
