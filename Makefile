# togai_zoho: PGXS build, tests and demo.
EXTENSION    = togai_zoho
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" togai_zoho.control)
MODULE_big   = togai_zoho
OBJS         = $(patsubst %.c,%.o,$(wildcard src/*.c))
DATA         = $(wildcard sql/togai_zoho--*.sql)

REGRESS      = setup connections flows enqueue mappings views privileges
REGRESS_OPTS = --dbname=contrib_regression

PG_CONFIG   ?= pg_config
PG_CPPFLAGS += -DEXTVERSION=\"$(EXTVERSION)\" -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               $(shell pkg-config --cflags libcurl jansson)
SHLIB_LINK  += $(shell pkg-config --libs libcurl jansson)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.PHONY: deps test demo

deps:
	@sh tools/deps.sh

# Builds, installs and runs every suite against throwaway clusters.
test: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/run-tests.sh

demo: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/demo.sh
