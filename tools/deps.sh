#!/bin/sh
# Installs the Debian packages togai_zoho needs to build, test and run its demo.
# Does nothing (and needs no network) when every package is already installed.
set -eu

PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-common
libcurl4-openssl-dev libjansson-dev pkg-config make gcc python3 openssl
libmicrohttpd-dev libpq-dev libssl-dev
clang libclang-rt-14-dev valgrind wrk gnuplot-nox"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
	exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Tests and the demo make throwaway clusters; keep the packages from creating and starting
# a default one that would stay running.
mkdir -p /etc/postgresql-common/createcluster.d
[ -e /etc/postgresql-common/createcluster.d/togai_zoho.conf ] ||
	echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/togai_zoho.conf
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
