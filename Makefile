# togai_zoho: PGXS build, tests and demo.
EXTENSION    = togai_zoho
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" togai_zoho.control)
MODULE_big   = togai_zoho
OBJS         = $(patsubst %.c,%.o,$(wildcard src/*.c))
DATA         = $(wildcard sql/togai_zoho--*.sql)

REGRESS      = setup connections flows enqueue mappings invoice_lines views privileges
REGRESS_OPTS = --dbname=contrib_regression
ISOLATION    = enqueue_concurrency
EXTRA_CLEAN  = test/unit/bin test/fuzz/bin output_iso src/receiver/togai_zoho_receiver

PG_CONFIG   ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PG_CPPFLAGS += -DEXTVERSION=\"$(EXTVERSION)\" -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               $(shell pkg-config --cflags libcurl jansson)
SHLIB_LINK  += $(shell pkg-config --libs libcurl jansson)

# On a fresh machine the server headers are not there yet: only deps, test and demo work,
# and they install them before building in a sub-make.
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL 15 server headers not found: run 'make deps' as root first" >&2; exit 1
endif

.PHONY: deps test demo bench receiver install-receiver

# The webhook receiver: a program of its own (src/receiver), not part of the server.
RECEIVER = src/receiver/togai_zoho_receiver
receiver: $(RECEIVER)
$(RECEIVER): src/receiver/receiver.c src/receiver/signature.c src/receiver/signature.h
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -I$(shell $(PG_CONFIG) --includedir) -o $@ \
		src/receiver/receiver.c src/receiver/signature.c -lmicrohttpd -lpq -lcrypto
install-receiver: $(RECEIVER)
	install -D -m 755 $(RECEIVER) $(DESTDIR)$(shell $(PG_CONFIG) --bindir)/togai_zoho_receiver
ifneq ($(wildcard $(PGXS)),)
all: $(RECEIVER)
install: install-receiver
endif

deps:
	@sh tools/deps.sh

# Builds, installs and runs every suite against throwaway clusters.
test: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/run-tests.sh

# Benchmarks: figures printed as a table, nothing asserted (see README).
bench: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/run-bench.sh

demo: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/demo.sh

# Unit tests of the pure C parts: no server, run under valgrind.
UNIT_CFLAGS = -std=c11 -g -O0 -Wall -Wextra -Werror $(shell pkg-config --cflags libcurl jansson)
UNIT_LIBS   = $(shell pkg-config --libs libcurl jansson)

test/unit/bin/test_url: test/unit/test_url.c src/url.c src/url.h
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_url.c src/url.c $(UNIT_LIBS)

test/unit/bin/test_parse: test/unit/test_parse.c src/parse.c src/parse.h
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_parse.c src/parse.c $(UNIT_LIBS)

test/unit/bin/test_policy: test/unit/test_policy.c src/policy.c src/policy.h
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_policy.c src/policy.c -lm

test/unit/bin/test_budget: test/unit/test_budget.c src/budget.c src/budget.h
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_budget.c src/budget.c

test/unit/bin/test_signature: test/unit/test_signature.c src/receiver/signature.c src/receiver/signature.h
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_signature.c src/receiver/signature.c -lcrypto

test/unit/bin/test_action: test/unit/test_action.c src/action.c src/action.h
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ test/unit/test_action.c src/action.c $(UNIT_LIBS)

UNIT_TESTS = test/unit/bin/test_url test/unit/bin/test_parse test/unit/bin/test_policy \
             test/unit/bin/test_action test/unit/bin/test_budget test/unit/bin/test_signature
VALGRIND   = valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1

.PHONY: unit
unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do $(VALGRIND) $$t || exit 1; done

# libFuzzer targets of the pure parsers (clang with ASan and UBSan); make test runs each
# for FUZZ_RUNS executions, starting from test/fuzz/corpus.
FUZZ_RUNS  ?= 20000
FUZZ_FLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              $(shell pkg-config --cflags libcurl jansson)

test/fuzz/bin/fuzz_parse: test/fuzz/fuzz_parse.c src/parse.c src/parse.h
	@mkdir -p test/fuzz/bin
	clang $(FUZZ_FLAGS) -o $@ test/fuzz/fuzz_parse.c src/parse.c $(UNIT_LIBS)

test/fuzz/bin/fuzz_url: test/fuzz/fuzz_url.c src/url.c src/url.h
	@mkdir -p test/fuzz/bin
	clang $(FUZZ_FLAGS) -o $@ test/fuzz/fuzz_url.c src/url.c $(UNIT_LIBS)

test/fuzz/bin/fuzz_action: test/fuzz/fuzz_action.c src/action.c src/action.h src/parse.c src/parse.h
	@mkdir -p test/fuzz/bin
	clang $(FUZZ_FLAGS) -o $@ test/fuzz/fuzz_action.c src/action.c src/parse.c $(UNIT_LIBS)

.PHONY: fuzz
fuzz: test/fuzz/bin/fuzz_parse test/fuzz/bin/fuzz_url test/fuzz/bin/fuzz_action
	@for t in parse url action; do \
		mkdir -p test/fuzz/bin/corpus_$$t; \
		if ! test/fuzz/bin/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
			-artifact_prefix=test/fuzz/bin/ \
			test/fuzz/bin/corpus_$$t test/fuzz/corpus/$$t > test/fuzz/bin/$$t.log 2>&1; then \
			tail -40 test/fuzz/bin/$$t.log; echo "fuzz_$$t: FAILED"; exit 1; \
		fi; \
		echo "fuzz_$$t: $$(grep -o 'number_of_executed_units: [0-9]*' test/fuzz/bin/$$t.log | \
			grep -o '[0-9]*$$') runs, 0 crashes, 0 leaks"; \
	done
