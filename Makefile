# togai_zoho: PGXS build, tests and demo.
EXTENSION    = togai_zoho
EXTVERSION   = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" togai_zoho.control)
MODULE_big   = togai_zoho

# The extension's C code by layer (CONTRIBUTING.md, "Architecture"); the receiver is a program apart.
SRC_LAYERS   = src src/pure src/clients src/store src/enqueue src/actions src/delivery src/sql
OBJS         = $(patsubst %.c,%.o,$(foreach d,$(SRC_LAYERS),$(wildcard $(d)/*.c)))

# The current version's install script is generated from sql/install/, one file per
# concern, in this order (a file may use only what an earlier one created). Released
# install scripts are frozen in sql/released/; upgrade scripts live in sql/updates/.
INSTALL_SQL  = $(addprefix sql/install/,begin.sql catalogue.sql connections.sql flows.sql \
               mirrors.sql outbox.sql identity.sql mappings.sql money.sql taxes.sql \
               unique_fields.sql exchange_rates.sql budget.sql payments.sql polling.sql \
               polling_togai.sql webhooks.sql ready_flows.sql views.sql privileges.sql)
DATA_built   = $(EXTENSION)--$(EXTVERSION).sql
DATA         = $(wildcard sql/released/$(EXTENSION)--*.sql) $(wildcard sql/updates/$(EXTENSION)--*--*.sql)
# the manual: the operations guide, the money life cycle, the SQL reference, upgrades
DOCS         = $(wildcard doc/$(EXTENSION)*.md)

# pg_regress and isolation suites (test/sql, test/expected, test/specs) each on a
# temporary instance configured by test/regress.conf: any PostgreSQL 15 build, no
# server to prepare. initdb refuses root: tools/run-tests.sh runs them as postgres.
REGRESS      = setup connections flows enqueue mappings invoice_lines views privileges catalogue
REGRESS_OPTS = --inputdir=test --outputdir=test/output --dbname=contrib_regression \
               --temp-instance=test/tmp_check --temp-config=test/regress.conf
ISOLATION    = enqueue_concurrency
ISOLATION_OPTS = --inputdir=test --outputdir=test/output_iso \
               --temp-instance=test/tmp_check_iso --temp-config=test/regress.conf
EXTRA_CLEAN  = test/unit/bin test/fuzz/bin test/output test/output_iso test/tmp_check \
               test/tmp_check_iso src/receiver/togai_zoho_receiver $(OBJS:.o=.d)

PG_CONFIG   ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PG_CPPFLAGS += -DEXTVERSION=\"$(EXTVERSION)\" -Wall -Wextra -Werror -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               $(shell pkg-config --cflags libcurl jansson) -Isrc -MMD -MP
SHLIB_LINK  += $(shell pkg-config --libs libcurl jansson)

# On a fresh machine the server headers are not there yet: only deps, test and demo work,
# and they install them before building in a sub-make.
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
# No JIT bitcode: clang's compile of it wrote each source's header list (-MMD) for the .bc,
# after gcc's for the .o, so a changed header left stale objects in the library.
override with_llvm := no
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
-include $(OBJS:.o=.d)
else
all install installcheck:
	@echo "PostgreSQL 15 server headers not found: run 'make deps' as root first" >&2; exit 1
endif

.PHONY: deps test demo bench reference receiver install-receiver drop-bitcode
# the bitcode an earlier build installed would be inlined by the JIT in place of this library
install: drop-bitcode
drop-bitcode:
	rm -rf '$(DESTDIR)$(pkglibdir)/bitcode/$(MODULE_big)' '$(DESTDIR)$(pkglibdir)/bitcode/$(MODULE_big).index.bc'

$(DATA_built): $(INSTALL_SQL) togai_zoho.control
	cat $(INSTALL_SQL) > $@

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

# Benchmarks: figures printed as a table, nothing asserted (see bench/README.md).
bench: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/run-bench.sh

demo: deps
	$(MAKE) all
	$(MAKE) install
	sh tools/demo.sh

# doc/togai_zoho_reference.md from a fresh install's catalogue (test_reference.py checks it).
reference: all
	$(MAKE) install
	pg_virtualenv -o "shared_preload_libraries=togai_zoho" sh -c \
		'psql -X -q -c "CREATE EXTENSION togai_zoho" && python3 tools/sql_reference.py'

# Unit tests of the pure C parts: no server, run under valgrind. A test links the
# sources listed as its prerequisites.
UNIT_CFLAGS = -std=c11 -g -O0 -Wall -Wextra -Werror -Isrc/pure -Isrc/receiver \
              $(shell pkg-config --cflags libcurl jansson)
UNIT_LIBS   = $(shell pkg-config --libs libcurl jansson) -lcrypto -lm
UNIT_TESTS  = $(addprefix test/unit/bin/test_,url parse policy action budget admission catalogue credit_note upsert signature)

test/unit/bin/test_url: src/pure/url.c src/pure/url.h
test/unit/bin/test_parse: src/pure/parse.c src/pure/parse.h
test/unit/bin/test_policy: src/pure/policy.c src/pure/policy.h
test/unit/bin/test_budget: src/pure/budget.c src/pure/budget.h
test/unit/bin/test_admission: src/pure/admission.c src/pure/admission.h src/pure/budget.c src/pure/budget.h src/pure/policy.c src/pure/policy.h
test/unit/bin/test_action: src/pure/action.c src/pure/action.h src/pure/catalogue.c src/pure/catalogue.h
test/unit/bin/test_catalogue: src/pure/catalogue.c src/pure/catalogue.h
test/unit/bin/test_credit_note: src/pure/credit_note.c src/pure/credit_note.h
test/unit/bin/test_upsert: src/pure/upsert.c src/pure/upsert.h
test/unit/bin/test_signature: src/receiver/signature.c src/receiver/signature.h
test/unit/bin/test_%: test/unit/test_%.c
	@mkdir -p test/unit/bin
	$(CC) $(UNIT_CFLAGS) -o $@ $(filter %.c,$^) $(UNIT_LIBS)

VALGRIND   = valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1

.PHONY: unit
unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do $(VALGRIND) $$t || exit 1; done

# libFuzzer targets of the pure parsers (clang with ASan and UBSan); make test runs each
# for FUZZ_RUNS executions, starting from test/fuzz/corpus.
FUZZ_RUNS  ?= 20000
FUZZ_FLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
              $(shell pkg-config --cflags libcurl jansson)

FUZZ_TARGETS = parse url action
test/fuzz/bin/fuzz_parse: src/pure/parse.c src/pure/parse.h
test/fuzz/bin/fuzz_url: src/pure/url.c src/pure/url.h
test/fuzz/bin/fuzz_action: src/pure/action.c src/pure/action.h src/pure/parse.c src/pure/parse.h \
                           src/pure/catalogue.c src/pure/catalogue.h \
                           src/pure/credit_note.c src/pure/credit_note.h
test/fuzz/bin/fuzz_%: test/fuzz/fuzz_%.c
	@mkdir -p test/fuzz/bin
	clang $(FUZZ_FLAGS) -Isrc/pure -o $@ $(filter %.c,$^) $(shell pkg-config --libs libcurl jansson)

.PHONY: fuzz
fuzz: $(addprefix test/fuzz/bin/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p test/fuzz/bin/corpus_$$t; \
		if ! test/fuzz/bin/fuzz_$$t -runs=$(FUZZ_RUNS) -max_len=4096 -print_final_stats=1 \
			-artifact_prefix=test/fuzz/bin/ \
			test/fuzz/bin/corpus_$$t test/fuzz/corpus/$$t > test/fuzz/bin/$$t.log 2>&1; then \
			tail -40 test/fuzz/bin/$$t.log; echo "fuzz_$$t: FAILED"; exit 1; \
		fi; \
		echo "fuzz_$$t: $$(grep -o 'number_of_executed_units: [0-9]*' test/fuzz/bin/$$t.log | \
			grep -o '[0-9]*$$') runs, 0 crashes, 0 leaks"; \
	done
