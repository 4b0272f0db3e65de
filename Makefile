# wm - sandboxed workflow runner. Plain make; see README.md.
#   make            build/wm
#   make check      install missing deps, build, run every test
#   make demo       install missing deps, build, run examples/demo.md
#   make asan       the whole test suite under ASan + UBSan
#   make install    PREFIX=/usr/local DESTDIR=  (make uninstall: the same)
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS each (fuzz-smoke: 30 s)
#   make lint       cppcheck + clang-tidy

VERSION := 0.1.0
BUILD ?= build
PREFIX ?= /usr/local
LIBEXECDIR ?= $(PREFIX)/libexec/wm
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libseccomp libcap jansson libzstd libarchive yaml-0.1 libcmark libsodium

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wwrite-strings -Wformat=2 -Wimplicit-fallthrough -fno-common
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
OPT ?= -O2 -g
SAN ?=

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libarchive is not linked into wm: common/lazyarchive.c loads it when a
# rootfs tarball or `wm export` needs it (it costs every start 6 ms else).
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(filter-out libarchive,$(PKGS)) 2>/dev/null)
ARCHIVE_LIBS = $(shell $(PKG_CONFIG) --libs libarchive 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# wm itself links these libraries statically (libc stays shared): the
# dynamic loader's symbol resolution made up a third of `wm --version`.
# `make STATIC_DEPS=0` links them as shared libraries instead (distribution
# packages, which rebuild against security updates differently).
STATIC_DEPS ?= 1
PKG_STATIC = $(shell $(PKG_CONFIG) --libs --static $(filter-out libarchive,$(PKGS)) 2>/dev/null)
ifeq ($(STATIC_DEPS),1)
WM_LIBS = -Wl,-Bstatic $(filter -l%,$(PKG_STATIC)) -Wl,-Bdynamic \
	$(sort $(filter-out -l%,$(PKG_STATIC)))
else
WM_LIBS = $(PKG_LIBS)
endif

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) -I. -I$(BUILD)/gen \
	-DWM_VERSION='"$(VERSION)"' -DWM_LIBEXECDIR='"$(LIBEXECDIR)"' $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS = $(PKG_LIBS)

MODULES := common workflow policies sandbox state image orchestrator
LIB_SRC := $(filter-out orchestrator/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
# Sources generated at build time (e.g. embedded built-in policies) append here.
GEN_SRC :=
GEN_OBJ :=
include policies/builtin.mk
include templates/templates.mk
include orchestrator/serve/web.mk
include sandbox/pid1/pid1.mk

LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
	$(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_SRC)) $(GEN_OBJ)
MAIN_OBJ := $(BUILD)/obj/orchestrator/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# Test-only support code shared by unit tests.
UNIT_SUPPORT := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/unit/support/*.c))

.PHONY: all bench valgrind check check-nodeps unit e2e demo asan clean deps install uninstall check-layering format-check
.DELETE_ON_ERROR:

all: $(BUILD)/wm $(BUILD)/wm.1

$(BUILD)/wm: $(MAIN_OBJ) $(BUILD)/libwm.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(BUILD)/libwm.a $(WM_LIBS)

$(BUILD)/libwm.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libwm.a $(UNIT_SUPPORT)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(UNIT_SUPPORT) $(BUILD)/libwm.a \
		$(ALL_LDFLAGS) $(LIBS) $(ARCHIVE_LIBS) $(CMOCKA_LIBS)

$(BUILD)/wm.1: tools/wm.1.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@

# --- sandbox attack probe (tests/attacks/*.sh run it inside sandboxes) ---
PROBE := $(BUILD)/tests/probe
all: $(PROBE)
$(PROBE): tests/attacks/probe.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<
# --- end of the probe block ---

deps:
	@tools/install-deps

unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

e2e: $(BUILD)/wm
	@WM=$(abspath $(BUILD)/wm) tests/run-e2e

# Every test, one summary line at the end.
check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@$(MAKE) --no-print-directory check-layering
	@WM=$(abspath $(BUILD)/wm) tests/run-all $(UNIT_BIN)

asan:
	@tools/install-deps
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" HARDEN= check-nodeps

check-nodeps: all $(UNIT_BIN)
	@WM=$(abspath $(BUILD)/wm) tests/run-all $(UNIT_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo $(BUILD)/wm

# Every unit test program under valgrind: no leaks, no invalid accesses.
# Forked test children are not followed (they _exit without freeing).
# Valgrind cannot emulate seccomp(2) or clone3 into namespaces, so the two
# programs that load real filters and spawn real sandboxes run under
# `make asan` (LeakSanitizer included) instead.
VALGRIND_SKIP := test_policies_run test_sandbox
valgrind: $(UNIT_BIN)
	@for t in $(filter-out $(addprefix $(BUILD)/tests/,$(VALGRIND_SKIP)),$(UNIT_BIN)); do \
		printf 'valgrind %s\n' "$$(basename $$t)"; \
		valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--error-exitcode=99 --child-silent-after-fork=yes $$t >$(BUILD)/valgrind.log 2>&1; \
		rc=$$?; if [ $$rc != 0 ]; then cat $(BUILD)/valgrind.log; exit 1; fi; \
	done

# Benchmarks print ratios against baselines measured in the same run; never in check.
bench: all
	@tools/install-deps --bench
	@for b in tools/bench/*; do [ -x "$$b" ] || continue; echo "== $$b"; "$$b" $(BUILD)/wm || exit 1; done

check-layering:
	@tools/check-layering

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

# The units name /usr/local/bin/wm; installed copies name $(PREFIX)/bin/wm.
UNITS := tools/systemd/wm-run@.service tools/systemd/wm-run@.timer
# JSON Schemas of the front matter and of policy files, for editors.
SCHEMAS := share/wm/schema/workflow-frontmatter.schema.json share/wm/schema/policy.schema.json
install: all
	install -Dm755 $(BUILD)/wm $(DESTDIR)$(PREFIX)/bin/wm
	install -Dm644 $(BUILD)/wm.1 $(DESTDIR)$(PREFIX)/share/man/man1/wm.1
	install -Dm644 tools/completion/wm.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/wm
	install -Dm644 tools/completion/_wm $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_wm
	install -Dm644 tools/completion/wm.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/wm.fish
	install -Dm644 policies.example.yaml $(DESTDIR)$(PREFIX)/share/wm/policies.example.yaml
	install -d $(DESTDIR)$(PREFIX)/share/wm/schema
	install -m644 $(SCHEMAS) $(DESTDIR)$(PREFIX)/share/wm/schema/
	install -d $(DESTDIR)$(PREFIX)/share/wm/systemd
	for u in $(UNITS); do \
		sed 's|/usr/local/bin/wm|$(PREFIX)/bin/wm|g' "$$u" >"$(DESTDIR)$(PREFIX)/share/wm/systemd/$${u##*/}" && \
		chmod 644 "$(DESTDIR)$(PREFIX)/share/wm/systemd/$${u##*/}" || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/wm $(DESTDIR)$(PREFIX)/share/man/man1/wm.1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wm \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_wm \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/wm.fish \
		$(DESTDIR)$(PREFIX)/share/wm/policies.example.yaml \
		$(addprefix $(DESTDIR)$(PREFIX)/share/wm/systemd/,$(notdir $(UNITS))) \
		$(addprefix $(DESTDIR)$(PREFIX)/share/wm/schema/,$(notdir $(SCHEMAS)))
	-rmdir $(DESTDIR)$(PREFIX)/share/wm/systemd $(DESTDIR)$(PREFIX)/share/wm/schema \
		$(DESTDIR)$(PREFIX)/share/wm 2>/dev/null

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD) build-asan -name '*.d' 2>/dev/null)

# --- state: test-only helper programs (tests/tools/*.c), built with `make unit`
# and `make e2e` so end-to-end tests can create runs without the scheduler.
TOOL_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(wildcard tests/tools/*.c))
$(BUILD)/tests/%: tests/tools/%.c $(BUILD)/libwm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwm.a $(ALL_LDFLAGS) $(LIBS)
unit e2e check check-nodeps: $(TOOL_BIN)
# tools/bench/state_*.c: `make bench-state` builds and runs them (ratios, no thresholds).
BENCH_STATE_BIN := $(patsubst tools/bench/%.c,$(BUILD)/bench/%,$(wildcard tools/bench/state_*.c))
$(BUILD)/bench/%: tools/bench/%.c $(BUILD)/libwm.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libwm.a $(ALL_LDFLAGS) $(LIBS)
.PHONY: bench-state
bench-state: $(BENCH_STATE_BIN)
	@for b in $(BENCH_STATE_BIN); do $$b; done
# --- end state

# --- quality: libFuzzer harnesses tests/fuzz/fuzz_*.c, built with clang into
# build-fuzz/. The library is compiled with -fsanitize=fuzzer-no-link (coverage
# without libFuzzer's main), each harness links libFuzzer. `make fuzz` runs each
# for FUZZ_SECONDS; new inputs go to build-fuzz/corpus/NAME, crashes to
# build-fuzz/crash-NAME-*. Seeds: tests/fuzz/corpus/NAME/ plus fixtures copied
# at build time (workflows, built-in policies, policy test data).
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
# Memory caps: the parsers bound hostile input (policy files and front matter
# by wm_yaml_check, workflows by size), so an input that needs more than this
# (under ASan, whose shadow and 256 MB quarantine count too) is a finding, as is any single
# allocation over 100 MB.
FUZZ_RSS_MB ?= 1024
FUZZ_MALLOC_MB ?= 100
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
.PHONY: fuzz fuzz-smoke fuzz-build fuzz-seeds

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_input.h $(BUILD)/libwm.a
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libwm.a $(ALL_LDFLAGS) -fsanitize=fuzzer $(LIBS)

fuzz-build:
	@tools/install-deps --fuzz
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang HARDEN= \
		OPT="-O1 -g -fno-omit-frame-pointer" SAN="$(FUZZ_SAN) -fsanitize=fuzzer-no-link" \
		$(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))

fuzz-seeds:
	@rm -rf $(FUZZ_BUILD)/seeds
	@for n in $(FUZZ_NAMES); do mkdir -p $(FUZZ_BUILD)/seeds/$$n $(FUZZ_BUILD)/corpus/$$n; done
	@seed() { d=$(FUZZ_BUILD)/seeds/$$1; shift; for f in "$$@"; do \
		[ ! -f "$$f" ] || cp "$$f" "$$d/$$(echo "$${f#../}" | tr / _)"; done; }; \
	seed fuzz_workflow tests/data/valid/*.md tests/data/invalid/*.md templates/*.md \
		../shared/fixtures/workflows/*.md; \
	seed fuzz_policy policies/builtin/*.yaml tests/data/policies/*.yaml; \
	seed fuzz_oci tests/data/policies/*.json; \
	seed fuzz_dialect tests/data/dialects/*.md

fuzz: fuzz-build fuzz-seeds
	@for n in $(FUZZ_NAMES); do \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		c=tests/fuzz/corpus/$$n; [ -d $$c ] || c=; \
		$(FUZZ_BUILD)/$$n -max_total_time=$(FUZZ_SECONDS) -timeout=30 -print_final_stats=1 \
			-rss_limit_mb=$(FUZZ_RSS_MB) -malloc_limit_mb=$(FUZZ_MALLOC_MB) \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$n- $(FUZZ_BUILD)/corpus/$$n \
			$(FUZZ_BUILD)/seeds/$$n $$c >$(FUZZ_BUILD)/$$n.log 2>&1 \
			|| { tail -40 $(FUZZ_BUILD)/$$n.log; echo "fuzz: $$n FAILED"; exit 1; }; \
		grep -E 'Done [0-9]+ runs' $(FUZZ_BUILD)/$$n.log; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=30

# Static analysis: cppcheck, then clang-tidy (.clang-tidy) over every C file
# with the project's flags; any finding fails. cppcheck does not model
# __attribute__((cleanup)), so every wm_autofree/wm_autoclose variable
# (common/cleanup.h) would look leaked on each early return: its leak checks
# are off, and clang-tidy's analyzer, which models the attribute, covers leaks.
LINT_SRC = $(sort $(LIB_SRC) orchestrator/main.c $(wildcard tests/unit/*.c tests/unit/*/*.c \
	tests/tools/*.c tests/fuzz/*.c))
LINT_CFLAGS = -D_GNU_SOURCE -I. -DWM_VERSION='"$(VERSION)"' -DWM_LIBEXECDIR='"$(LIBEXECDIR)"' $(PKG_CFLAGS)
.PHONY: lint
lint:
	@tools/install-deps --lint
	cppcheck --enable=warning,performance,portability --error-exitcode=1 --inline-suppr -q \
		--suppress=resourceLeak --suppress=memleak --std=c11 $(LINT_CFLAGS) \
		--include=/usr/include/jansson.h $(LINT_SRC)
	@echo "clang-tidy: $(words $(LINT_SRC)) files"
	@mkdir -p $(BUILD)
	@printf '%s\n' $(LINT_SRC) | xargs -P2 -I{} clang-tidy --quiet {} -- -std=c11 $(LINT_CFLAGS) \
		>$(BUILD)/clang-tidy.log 2>&1; rc=$$?; \
		grep -v 'warnings\? generated\.$$' $(BUILD)/clang-tidy.log; exit $$rc
# --- end quality

# --- sched: build/wm-notify, the notification deliverer (orchestrator/notify/).
# It links libcurl; wm itself never does (every wm start would pay for it):
# wm finds the helper with wm_libexec_find() and starts it detached.
NOTIFY_SRC := $(wildcard orchestrator/notify/*.c)
NOTIFY_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(NOTIFY_SRC))
CURL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS = $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null)
$(NOTIFY_OBJ): ALL_CFLAGS += $(CURL_CFLAGS)
LINT_SRC += $(NOTIFY_SRC)
all: $(BUILD)/wm-notify
$(BUILD)/wm-notify: $(NOTIFY_OBJ) $(BUILD)/libwm.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(NOTIFY_OBJ) $(BUILD)/libwm.a $(LIBS) $(CURL_LIBS)
install: install-notify
.PHONY: install-notify
install-notify: $(BUILD)/wm-notify
	install -Dm755 $(BUILD)/wm-notify $(DESTDIR)$(LIBEXECDIR)/wm-notify
uninstall: uninstall-notify
.PHONY: uninstall-notify
uninstall-notify:
	rm -f $(DESTDIR)$(LIBEXECDIR)/wm-notify
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
# --- end sched
# --- serve: `wm serve` lives in the helper build/wm-serve, the only binary
# that links libmicrohttpd (wm's start-up cost stays as it was); `wm serve`
# execs it (orchestrator/libexec.h). orchestrator/serve/route.c is pure and
# also linked into its unit test and fuzz harness.
SERVE_SRC := $(filter-out $(LIB_SRC),$(wildcard orchestrator/serve/*.c))
SERVE_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(SERVE_SRC)) $(BUILD)/obj/gen/serve_openapi.o
SERVE_LIBS = $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null) -lm
all: $(BUILD)/wm-serve
$(BUILD)/wm-serve: $(SERVE_OBJ) $(BUILD)/libwm.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(SERVE_OBJ) $(BUILD)/libwm.a $(LIBS) $(SERVE_LIBS)
$(BUILD)/gen/serve_openapi.c: orchestrator/serve/openapi.json tools/embed-file
	@mkdir -p $(dir $@)
	tools/embed-file $@ wm_serve_openapi_json $<
$(BUILD)/tests/test_serve: $(BUILD)/obj/orchestrator/serve/route.o
$(BUILD)/tests/test_serve: UNIT_SUPPORT += $(BUILD)/obj/orchestrator/serve/route.o
$(BUILD)/fuzz_serve_route: $(BUILD)/obj/orchestrator/serve/route.o
$(BUILD)/fuzz_serve_route: LIBS += $(BUILD)/obj/orchestrator/serve/route.o $(BUILD)/libwm.a
install: install-serve
uninstall: uninstall-serve
.PHONY: install-serve uninstall-serve
UNITS += tools/systemd/wm-serve.service
install-serve: $(BUILD)/wm-serve
	install -Dm755 $(BUILD)/wm-serve $(DESTDIR)$(LIBEXECDIR)/wm-serve
uninstall-serve:
	rm -f $(DESTDIR)$(LIBEXECDIR)/wm-serve
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
# wm-serve's sources are not in libwm.a: linted all the same.
LINT_SRC += $(SERVE_SRC)
# --- end serve
