# tansiq - top-level Makefile; the single entry point for building, testing and measuring.
#
#   make            debug build, warnings as errors
#   make run        a node on loopback with demo data
#   make test       unit + integration + fuzz-corpus replay
#   make sanitize   the same tests built with ASan + UBSan
#   make fuzz       libFuzzer targets (clang), each run for FUZZ_SECONDS
#   make bench      benchmarks with their reference figures
#   make bench-compare REF=...  import, TAXII GET and policy filter against REF, same run
#   make lint       clang-format check + tools/checksrc + include-graph check
#   make format     clang-format in place
#   make config     which optional parts (TQ_HAVE_ICU, TQ_HAVE_GEOS, TQ_HAVE_POSTGRES) are on

CC       ?= cc
SANITIZE ?=
BUILD    ?= build
PKGS      = json-c libmicrohttpd libsodium sqlite3 libcurl openssl gnutls zlib expat
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Optional parts are build switches: detected with pkg-config unless set on the command line
# (make TQ_HAVE_GEOS=0, make TQ_HAVE_POSTGRES=1). A switch that is on defines -DTQ_HAVE_<X>=1
# and adds the library; code tests the switch, and a part that is off compiles to stubs that
# return TQ_ENOTSUP (docs/STYLE.md, section 8). `make config` prints them.
ICU_PKGS      = icu-uc icu-i18n
GEOS_PKGS     = geos
POSTGRES_PKGS = libpq
define tq_switch
ifeq ($$(origin TQ_HAVE_$(1)),undefined)
TQ_HAVE_$(1) := $$(shell pkg-config --exists $$($(1)_PKGS) 2>/dev/null && echo 1 || echo 0)
endif
ifeq ($$(TQ_HAVE_$(1)),1)
FEATURE_CFLAGS += -DTQ_HAVE_$(1)=1 $$(shell pkg-config --cflags $$($(1)_PKGS) 2>/dev/null)
FEATURE_LIBS   += $$(shell pkg-config --libs $$($(1)_PKGS) 2>/dev/null)
endif
endef
$(eval $(call tq_switch,ICU))
$(eval $(call tq_switch,GEOS))
$(eval $(call tq_switch,POSTGRES))

WARN   = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
         -Wformat=2 -Wvla -Werror
OPT   ?= -O2 -g
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude -Isrc $(PKG_CFLAGS) $(FEATURE_CFLAGS) \
             $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) $(FEATURE_LIBS) -lpthread -lm $(LDLIBS)

ifneq ($(SANITIZE),)
BUILD = build-san
CFLAGS_ALL += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
              -DTQ_DEBUG_BUILD
LDFLAGS += -fsanitize=address,undefined
endif

# Every module under src/ but the CLI goes into the library; a new module needs no line here.
LIB_SRC   := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC   := $(sort $(wildcard src/cli/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC  := $(sort $(wildcard fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
# The dashboard's assets (docs/internals/web.md): web/ bundled by esbuild into $(BUILD)/web/,
# then turned into a C table by tools/embed.py and compiled into the library. node_modules is
# installed (npm ci) only when it is missing.
WEB_SRC  := $(shell find web -type f 2>/dev/null)
WEB_GEN  := $(BUILD)/gen/web_assets.c
WEB_OBJ  := $(BUILD)/gen/web_assets.o
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libtansiq.a
TANSIQ   := $(BUILD)/tansiq
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
REPLAYS  := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/replay_%)
BENCHES  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EVAL     := $(BUILD)/tools/eval_screen

.PHONY: all run test unit integration replay sanitize fuzz bench bench-compare lint format clean deps demo-data \
        config eval

all: $(TANSIQ) $(UNITS) $(REPLAYS) $(BENCHES) $(EVAL)

deps:
	@scripts/install-deps.sh

config:
	@echo "TQ_HAVE_ICU=$(TQ_HAVE_ICU) TQ_HAVE_GEOS=$(TQ_HAVE_GEOS) TQ_HAVE_POSTGRES=$(TQ_HAVE_POSTGRES)"

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ) $(WEB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

node_modules/.package-lock.json:
	npm ci --ignore-scripts --no-audit --no-fund

$(WEB_GEN): $(WEB_SRC) node_modules/.package-lock.json scripts/web-build.sh tools/embed.py
	scripts/web-build.sh $(BUILD)
	python3 tools/embed.py $(BUILD)/web $@

$(WEB_OBJ): $(WEB_GEN) src/web/web.h include/tansiq/web.h include/tansiq/web_store.h
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(TANSIQ): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/fixture.h tests/unit/backend.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(LIB) -lcmocka $(LDLIBS_ALL)

$(BUILD)/fuzz/replay_%: fuzz/%.c fuzz/replay.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< fuzz/replay.c $(LIB) $(LDLIBS_ALL)

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS_ALL)

# run and test install missing Debian packages first, then build in a fresh make so that
# pkg-config sees the libraries just installed.
run: deps
	@$(MAKE) --no-print-directory $(TANSIQ)
	@scripts/run-demo.sh $(TANSIQ)

test: deps
	@$(MAKE) --no-print-directory all
	@scripts/test.sh $(BUILD)

sanitize:
	$(MAKE) SANITIZE=1 OPT="-O1 -g" test

FUZZ_SECONDS ?= 30
fuzz:
	@scripts/fuzz.sh $(FUZZ_SECONDS)

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(BUILD)

# Import, TAXII GET and the policy filter against another commit in the same run (REF=HEAD~1).
bench-compare: deps
	@scripts/bench-compare.sh $(or $(REF),HEAD~1)

# Name matching measured on public labelled data (scripts/eval.sh, tools/eval_screen.c).
# tests/eval/run.sh holds its figures at their floors in `make test`.
eval: $(EVAL)
	@scripts/eval.sh $(BUILD)

$(EVAL): tools/eval_screen.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS_ALL)

lint:
	@tools/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
