#!/bin/sh
# make bench: the benchmarks in bench/ against a throwaway cluster that preloads the
# extension, with the mock servers. Prints the figures; asserts nothing.
set -eu
cd "$(dirname "$0")/.."
pg_virtualenv -t \
	-o "shared_preload_libraries=togai_zoho" -o "max_connections=200" -o "fsync=on" \
	python3 bench/run.py "$@"
