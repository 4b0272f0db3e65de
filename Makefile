# wm - sandboxed workflow runner. Plain make; see README.md.
#   make            build/wm
#   make check      install missing deps, build, run every test
#   make demo       install missing deps, build, run examples/demo.md
#   make asan       the whole test suite under ASan + UBSan
#   make install    PREFIX=/usr/local DESTDIR=

VERSION := 0.1.0
BUILD ?= build
PREFIX ?= /usr/local
CC ?= cc
PKG_CONFIG ?= pkg-config

PKGS := libseccomp libcap jansson libzstd libarchive yaml-0.1 libcmark libsodium

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wwrite-strings -Wformat=2 -Wimplicit-fallthrough -fno-common
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
OPT ?= -O2 -g
SAN ?=

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) $(HARDEN) $(SAN) -I. -I$(BUILD)/gen \
	-DWM_VERSION='"$(VERSION)"' $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)
LIBS = $(PKG_LIBS)

MODULES := common policies sandbox state orchestrator
LIB_SRC := $(filter-out orchestrator/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
# Sources generated at build time (e.g. embedded built-in policies) append here.
GEN_SRC :=
include policies/builtin.mk

LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRC)) \
	$(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_SRC))
MAIN_OBJ := $(BUILD)/obj/orchestrator/main.o
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
# Test-only support code shared by unit tests.
UNIT_SUPPORT := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/unit/support/*.c))

.PHONY: all check check-nodeps unit e2e demo asan clean deps install check-layering format-check
.DELETE_ON_ERROR:

all: $(BUILD)/wm

$(BUILD)/wm: $(MAIN_OBJ) $(BUILD)/libwm.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(BUILD)/libwm.a $(LIBS)

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
		$(ALL_LDFLAGS) $(LIBS) $(CMOCKA_LIBS)

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

check-layering:
	@tools/check-layering

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

install: all
	install -Dm755 $(BUILD)/wm $(DESTDIR)$(PREFIX)/bin/wm
	install -Dm644 policies.example.yaml $(DESTDIR)$(PREFIX)/share/wm/policies.example.yaml

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) build-asan -name '*.d' 2>/dev/null)
