#!/bin/sh
# Prints the typedef names of togai_zoho's C sources, one a line, for pgindent:
#   sh tools/typedefs.sh > tools/typedefs.list
#   pgindent --typedefs=tools/typedefs.list src/*.c src/*/*.c
cd "$(dirname "$0")/.."
{
	grep -rhoE '^\}[[:space:]]*[A-Za-z][A-Za-z0-9_]*;|^typedef [^;(]*[[:space:]*]([A-Za-z][A-Za-z0-9_]*);' src |
		grep -oE '[A-Za-z][A-Za-z0-9_]*;$' | tr -d ';'
	echo json_t		# jansson's
} | sort -u
