#!/bin/sh
# make demo: a throwaway cluster that preloads togai_zoho and pg_cron, walked through
# the admin surface. Ends by itself; the cluster is dropped on exit.
set -eu
cd "$(dirname "$0")/.."

pg_virtualenv -t \
	-o "shared_preload_libraries=togai_zoho,pg_cron" \
	-o "cron.database_name=postgres" \
	psql -X -v ON_ERROR_STOP=1 -q -f tools/demo.sql
