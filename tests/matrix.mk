# tests/matrix.mk - the test matrix as make rules. tests/run.sh drives it
# (`make test`): it probes which configurations this machine can run,
# then calls
#
#     make -f tests/matrix.mk -j N -k built CONFIGS="..." PROGS="..." CHECKS="..."
#
# for each configuration and then the checks, beside its own loop over the
# runs, and prints the summary from the .res files. Every configuration is one
# pattern rule that builds tests/<prog>.c into $(B)/<config>/<prog>, and
# one that runs it (tests/run1.sh) into $(B)/results/<config>.<prog>.res;
# every check is a rule that runs tests/checks.sh. run.sh asks for
# `built` (programs and checks, N at once), a configuration at a time,
# and runs the programs itself, one at a time, each configuration's as
# soon as it is built (the scheduler tests measure nothing, but they are
# meant to have the CPUs to themselves); `results` does it all in make,
# runs included (GORT_RUN_JOBS > 1).
#
#   config     compiler, flags                                   scale  runner
#   gcc-O0     gcc -O0                                           1
#   gcc-O2     gcc -O2                                           1
#   clang-O0   clang -O0                                         1
#   clang-O2   clang -O2                                         1
#   valgrind   gcc -O1 -gdwarf-4 -DGORT_VALGRIND                 0.02   valgrind
#   ubsan      clang -O1 -fsanitize=undefined                    0.5
#   asan       clang -O1 -fsanitize=address                      0.2
#   tsan       clang -O1 -fsanitize=thread                       0.1
#   aarch64    aarch64-linux-gnu-gcc -O2                         0.05   qemu-aarch64
#   musl       musl-gcc -O2 -Wl,--eh-frame-hdr (musl libc)         1
#   compact    clang -O1 -fsanitize=address,undefined            0.2
#              run with GORT_DEBUG=compact: every park compacts the
#              goroutine's stack (gort.h >>compact), so every wake-up
#              restores one, under ASan and UBSan
#   windows    x86_64-w64-mingw32-gcc -O2 (Windows x64)          0.25   wine
#              only the programs whose directives say `windows`: the
#              others use Linux interfaces (fork, pipes, sockets,
#              signals) that have no Windows form yet; README lists them
#
# Every configuration also gets $(WARN) and links -lm (and -ldl where the
# probe found dladdr needs it: $(B)/<config>/.ldl). "scale" is what the
# program sees in $GORT_TEST_SCALE (tests/check.h: check_scale), times
# SCALE_MUL. The compiler's default language (gnu17) is used;
# tests/compile/ checks C99. A program is rebuilt when its source, a test
# source it includes or names in also=, gort.h, a header in tests/ or the
# configuration's command changed.

ifeq ($(ROOT),)
ROOT      := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
endif
T         ?= $(ROOT)/tests
B         ?= $(ROOT)/tests/build
CONFIGS   ?= gcc-O0 gcc-O2 clang-O0 clang-O2 valgrind ubsan asan tsan aarch64 musl compact windows
PROGS     ?= $(patsubst $(T)/%.c,%,$(wildcard $(T)/test_*.c))
CHECKS    ?=
SCALE_MUL ?= 1
RUN_JOBS  ?= 1
export ROOT T B

# -fstack-clash-protection: gort.h asks it of code that runs in goroutines
WARN := -Wall -Wextra -Wpedantic -Werror -g -pthread -fstack-clash-protection -rdynamic

CLANG_MAJOR := $(or $(shell clang --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1),14)
SAN_PKG     := clang libclang-rt-$(CLANG_MAJOR)-dev

# Per configuration: CC_, CFLAGS_, SCALE_, RUNNER_, ENV_ (the run's
# environment) and PKG_ (what to apt-get install for it).
CC_gcc-O0   := gcc
CC_gcc-O2   := gcc
CC_clang-O0 := clang
CC_clang-O2 := clang
CC_valgrind := gcc
CC_ubsan    := clang
CC_asan     := clang
CC_tsan     := clang
CC_aarch64  := aarch64-linux-gnu-gcc
CC_musl     := musl-gcc
CC_compact  := clang
CC_windows  := x86_64-w64-mingw32-gcc

CFLAGS_gcc-O0   := -O0
CFLAGS_gcc-O2   := -O2
CFLAGS_clang-O0 := -O0
CFLAGS_clang-O2 := -O2
CFLAGS_valgrind := -O1 -gdwarf-4 -DGORT_VALGRIND
CFLAGS_ubsan    := -O1 -fsanitize=undefined -fno-sanitize-recover=all
CFLAGS_asan     := -O1 -fsanitize=address -fno-omit-frame-pointer
CFLAGS_tsan     := -O1 -fsanitize=thread
CFLAGS_aarch64  := -O2
# --eh-frame-hdr: musl-gcc's link leaves out the .eh_frame_hdr that gcc's own
# link makes, and libgcc's unwinder (test_gdb) finds unwind tables by it
CFLAGS_musl     := -O2 -Wl,--eh-frame-hdr
CFLAGS_compact  := -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# MinGW's own printf: the tests print size_t with %zu, which msvcrt lacks
CFLAGS_windows  := -O2 -D__USE_MINGW_ANSI_STDIO=1
# PE has no -rdynamic; -pthread -static: the tests' own plain threads use
# MinGW's winpthreads, linked in (no DLL to find under Wine); every
# Windows compiler probes big frames page by page (__chkstk) already
WARN_windows    := -Wall -Wextra -Wpedantic -Werror -g -pthread -static
LIBS_windows    := -lsynchronization -lws2_32

SCALE_valgrind := 0.02
SCALE_ubsan    := 0.5
SCALE_asan     := 0.2
SCALE_tsan     := 0.1
SCALE_aarch64  := 0.05
SCALE_compact  := 0.2
SCALE_windows  := 0.25

RUNNER_valgrind := valgrind -q --error-exitcode=99 --exit-on-first-error=no --fair-sched=yes
RUNNER_aarch64  := qemu-aarch64 -L /usr/aarch64-linux-gnu
RUNNER_windows  := bash $(ROOT)/tests/wine-run.sh

ENV_ubsan := UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ENV_asan  := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
ENV_tsan  := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
ENV_compact := GORT_DEBUG=compact ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

PKG_gcc-O0   := gcc
PKG_gcc-O2   := gcc
PKG_clang-O0 := clang
PKG_clang-O2 := clang
PKG_valgrind := gcc valgrind
PKG_ubsan    := $(SAN_PKG)
PKG_asan     := $(SAN_PKG)
PKG_tsan     := $(SAN_PKG)
PKG_aarch64  := gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
PKG_musl     := musl-tools
PKG_compact  := $(SAN_PKG)
PKG_windows  := gcc-mingw-w64-x86-64 wine64

# `make -f tests/matrix.mk cfg-CONFIG`: the configuration as shell
# assignments (tests/run.sh's probe reads them).
cfg-%:
	@printf "CC='%s'\nCFLAGS='%s'\nRUNNER='%s'\nRUN_ENV='%s'\nINSTALL='%s'\nWARN='%s'\nSCALE='%s'\n" \
	  '$(CC_$*)' '$(CFLAGS_$*)' '$(RUNNER_$*)' '$(ENV_$*)' '$(PKG_$*)' '$(call warn,$*)' '$(or $(SCALE_$*),1)'

# A program's directives ("// gort-test: ..." lines in its source), and
# the test sources it includes ( #include "x.c" ): read from all sources
# in one go into $(B)/tests.mk (make rereads it when a source changed),
# as D_<prog> and X_<prog>.
$(B)/tests.mk: $(wildcard $(T)/test_*.c)
	@mkdir -p $(@D)
	@for f in $^; do \
	    p=$$(basename $$f .c); \
	    printf 'D_%s := %s\n' $$p "$$(sed -n 's,^[[:space:]]*//[[:space:]]*gort-test:[[:space:]]*,,p' $$f | tr ',\t\n' '   ')"; \
	    printf 'X_%s := %s\n' $$p "$$(sed -n 's,^#include "\([^"/]*\.c\)".*,\1,p' $$f | tr '\n' ' ')"; \
	done >$@
ifeq ($(filter cfg-%,$(MAKECMDGOALS)),)
include $(B)/tests.mk
endif
directives = $(D_$(1))
dvalues    = $(patsubst $(2)=%,%,$(filter $(2)=%,$(D_$(1))))
extra_srcs = $(addprefix $(T)/,$(call dvalues,$(1),also) $(X_$(1)))
# -ldl where the probe found dladdr needs it
ldl        = $(strip $(file <$(B)/$(1)/.ldl))

HEADERS := $(ROOT)/gort.h $(wildcard $(T)/*.h)

# a configuration's warning (and common) flags
warn = $(or $(WARN_$(1)),$(WARN))
# build CONFIG PROG: the compile command (MinGW writes PROG.exe: PROG is
# made a link to it, the name make and tests/run1.sh know)
build_cmd = $(CC_$(1)) $(if $(filter no-stack-clash-protection,$(call directives,$(2))),$(filter-out \
              -fstack-clash-protection,$(call warn,$(1))),$(call warn,$(1))) $(CFLAGS_$(1)) -I$(ROOT) -I$(ROOT)/tests \
              $(call dvalues,$(2),cflags) \
              $(if $(filter $(ROOT)/tests,$(T)),,-I$(T)) -o $(B)/$(1)/$(2) $(T)/$(2).c \
              $(addprefix $(T)/,$(call dvalues,$(2),also)) \
              $(addprefix -Wl$(comma)--wrap=,$(call dvalues,$(2),$(if $(filter windows,$(1)),winwrap,wrap))) \
              -lm $(call ldl,$(1)) $(LIBS_$(1))
comma := ,

.SECONDEXPANSION:
.PHONY: results built FORCE
FORCE:

# The configuration's command, rewritten only when it changed: a program
# depends on it, so new flags rebuild it.
$(B)/%/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC_$*) $(call warn,$*) $(CFLAGS_$*) $(call ldl,$*) $(LIBS_$*)' | cmp -s - $@ || \
	  echo '$(CC_$*) $(call warn,$*) $(CFLAGS_$*) $(call ldl,$*) $(LIBS_$*)' >$@

# One rule per configuration: build (a failed build leaves no program and
# its log; the run reports it), then run.
define CONFIG_RULES
$(B)/$(1)/%: $(T)/%.c $$$$(call extra_srcs,$$$$*) $(HEADERS) $(B)/$(1)/.flags
	@t0=$$$$(date +%s.%N); rm -f $$@; \
	 ( cd $(ROOT) && echo '$$(call build_cmd,$(1),$$*)' && $$(call build_cmd,$(1),$$*) ) >$$@.build.log 2>&1 || rm -f $$@ $$@.exe; \
	 if [ -f $$@.exe ]; then ln -sf $$(notdir $$@).exe $$@; fi; \
	 awk -v a="$$$$t0" -v b="$$$$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' >$$@.secs
$(B)/results/$(1).%.res: $(B)/$(1)/%
	@env CFG=$(1) PROG=$$* SCALE="$$$$(awk -v a='$(or $(SCALE_$(1)),1)' -v b='$(SCALE_MUL)' 'BEGIN { printf "%g", a * b }')" \
	     RUNNER='$(RUNNER_$(1))' RUN_ENV='$(ENV_$(1))' bash $(ROOT)/tests/run1.sh
endef
$(foreach c,$(CONFIGS),$(eval $(call CONFIG_RULES,$(c))))

$(B)/results/check.%.res: FORCE
	@bash $(ROOT)/tests/checks.sh $*

# What `make test` runs: every (configuration, program) pair not excluded
# by a no-<config> directive (run.sh reports those as skipped), then the
# checks. The windows configuration takes only the programs that say
# `windows` (opt-in while the port is partial; run.sh counts the others).
in_cfg = $(if $(filter windows,$(1)),$(filter windows,$(call directives,$(2))),$(if $(filter no-$(1),$(call directives,$(2))),,y))
PAIRS := $(foreach c,$(CONFIGS),$(foreach p,$(PROGS),$(if $(call in_cfg,$(c),$(p)),$(c)/$(p))))
RUNS  := $(foreach x,$(PAIRS),$(B)/results/$(subst /,.,$(x)).res)
CHECK_RESULTS := $(addprefix $(B)/results/check.,$(addsuffix .res,$(CHECKS)))

# Everything in make: runs as make schedules them (RUN_JOBS at once).
results: $(RUNS) $(CHECK_RESULTS)

# What tests/run.sh asks for, one configuration at a time: its programs
# built, and the checks (it runs the programs itself).
built: $(addprefix $(B)/,$(PAIRS)) $(CHECK_RESULTS)

# Programs are not intermediate files: keep them.
.SECONDARY:
