# gort - Go's goroutines, channels, select and scheduler for C and C++.
# gort is one header (gort.h); this Makefile tests, benchmarks and installs it.
#
#   make test        build and run tests/test_*.c in every configuration of
#                    the matrix (gcc/clang -O0/-O2, ASan, UBSan, TSan,
#                    Valgrind, aarch64 under qemu), the compile checks in
#                    tests/compile/, the examples and the install check.
#                    Ends with "N passed, N failed"; see tests/run.sh (the
#                    driver) and tests/matrix.mk (the configurations and
#                    the build, run and check rules, run with make -j).
#                    Narrow it down with CONFIGS="asan tsan" TESTS="test_chan".
#                    Each tests/fuzz_<name>.c is one check there: replayed
#                    from tests/fuzz/corpus_<name>/, then fuzzed for a share
#                    of GORT_FUZZ_SECONDS (default 60 s in all; skipped with
#                    a "skipped:" line if clang has no libFuzzer).
#   make fuzz        build every tests/fuzz_<name>.c with clang -fsanitize=
#                    fuzzer,address,undefined and run them (one process each)
#                    until stopped (Ctrl-C), starting from the committed
#                    corpus tests/fuzz/corpus_<name>/; new inputs go to
#                    tests/build/fuzz/corpus_<name>/ and crashes to
#                    tests/build/fuzz/ (crash-*, leak-*, timeout-*).
#                    FUZZERS="chan" picks fuzzers; FUZZ_ARGS adds libFuzzer
#                    flags (e.g. FUZZ_ARGS=-max_total_time=600).
#                    Replay inputs: tests/build/fuzz/fuzz_<name> FILE...
#   make stress      the stress tests at 100x their `make test` size (10^8
#                    values through tests/test_stress.c's close storms), in
#                    gcc-O2, then 10x under TSan
#   make bench       run the benchmarks (bench/run.sh; BENCH_ARGS=--quick etc.;
#                    WINDOWS=1: Windows builds under Wine)
#   make examples    build examples/*.c into tests/build/examples/
#   make install     gort.h into $(PREFIX)/include, gort.pc into
#                    $(PREFIX)/lib/pkgconfig, gortConfig.cmake into
#                    $(PREFIX)/lib/cmake/gort (PREFIX=/usr/local, DESTDIR honoured)
#   make uninstall   remove what install put there
#   make clean       remove tests/build/
#   make help        this text
#
# Using it from another project after `make install`:
#   cc $(pkg-config --cflags gort) prog.c $(pkg-config --libs gort)
# or without pkg-config:
#   cc -O2 -pthread -fstack-clash-protection prog.c -o prog
# or from CMake: find_package(gort) and target_link_libraries(app gort::gort)
# (CMakeLists.txt gives the same target to add_subdirectory and FetchContent)

PREFIX     ?= /usr/local
INCLUDEDIR ?= $(PREFIX)/include
LIBDIR     ?= $(PREFIX)/lib
PKGDIR     ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=
INSTALL    ?= install

CC         ?= cc
# examples are built the way CI builds them: warning-free at -O2
# (-fstack-clash-protection: a large local array must hit the guard page,
# not jump it; see gort.h, CONFIGURATION; -fno-omit-frame-pointer: full
# backtraces in gort_dump, see gort_dump in the manual)
EXAMPLE_CFLAGS ?= -O2 -g -Wall -Wextra -Wpedantic -Werror -pthread -fstack-clash-protection -fno-omit-frame-pointer
# dladdr (goroutine start function names in gort_dump) lives in libdl before glibc 2.34
EXAMPLE_LDLIBS ?= $(shell echo 'int dladdr(const void *, void *); int main(void) { return dladdr(0, 0); }' | \
                    $(CC) -x c - -o /dev/null >/dev/null 2>&1 || echo -ldl)

# The version is GORT_VERSION_STRING from gort.h when it has one.
VERSION := $(or $(shell sed -n 's/^\#define GORT_VERSION_STRING *"\([^"]*\)".*/\1/p' gort.h 2>/dev/null),0.1.0)

BUILD      := tests/build
EXAMPLES   := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c)) \
              $(patsubst examples/%.cpp,$(BUILD)/examples/%,$(wildcard examples/*.cpp))

# Fuzzers: tests/fuzz_<name>.c (libFuzzer; see the file's header)
FUZZERS     ?= $(patsubst tests/fuzz_%.c,%,$(wildcard tests/fuzz_*.c))
FUZZ_CC     ?= clang
FUZZ_CFLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
               -DGORT_FUZZ_LIBFUZZER -Wall -Wextra -Wpedantic -Werror -pthread -rdynamic
FUZZ_ARGS   ?=

.PHONY: all help test check stress bench examples install uninstall clean fuzz

all: test

# the usage block at the top of this file
help:
	@sed -n '3,/^$$/{/^$$/q;s/^# \{0,1\}//p}' $(firstword $(MAKEFILE_LIST))

# CONFIGS/TESTS narrow the matrix; GORT_NO_SKIP=1 makes a skip a failure.
test check:
	$(if $(CONFIGS),GORT_CONFIGS="$(CONFIGS)") $(if $(TESTS),GORT_TESTS="$(TESTS)") bash tests/run.sh

stress:
	GORT_CONFIGS=gcc-O2 GORT_TESTS="test_stress test_chanlife" GORT_CHECKS=0 \
	  GORT_SCALE_MUL=100 GORT_TEST_TIMEOUT=3600 bash tests/run.sh
	GORT_CONFIGS=tsan GORT_TESTS="test_stress test_chanlife" GORT_CHECKS=0 \
	  GORT_SCALE_MUL=100 GORT_TEST_TIMEOUT=3600 bash tests/run.sh

bench:
	@if [ -f bench/run.sh ]; then bash bench/run.sh $(if $(filter 1,$(WINDOWS)),--windows) $(BENCH_ARGS); \
	 else echo "no bench/run.sh yet"; exit 1; fi

examples: $(EXAMPLES)

# One fuzzer process per fuzzer, in parallel, until stopped.
fuzz: $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZERS))
	@for f in $(FUZZERS); do \
	    mkdir -p $(BUILD)/fuzz/corpus_$$f; \
	    echo "fuzz_$$f: new inputs in $(BUILD)/fuzz/corpus_$$f, crashes in $(BUILD)/fuzz/"; \
	    $(BUILD)/fuzz/fuzz_$$f -timeout=60 -rss_limit_mb=4096 -artifact_prefix=$(BUILD)/fuzz/ \
	        $(FUZZ_ARGS) $(BUILD)/fuzz/corpus_$$f tests/fuzz/corpus_$$f & \
	done; wait

$(BUILD)/fuzz/fuzz_%: tests/fuzz_%.c gort.h tests/check.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -I. -Itests -o $@ $< $(EXAMPLE_LDLIBS)

$(BUILD)/examples/%: examples/%.c gort.h $(wildcard examples/*.h)
	@mkdir -p $(@D)
	$(CC) $(EXAMPLE_CFLAGS) -I. -o $@ $< -lm $(EXAMPLE_LDLIBS)

CXX        ?= c++
$(BUILD)/examples/%: examples/%.cpp gort.h
	@mkdir -p $(@D)
	$(CXX) -std=c++11 $(EXAMPLE_CFLAGS) -I. -o $@ $< $(EXAMPLE_LDLIBS)

# gort.pc, generated here so that the top level stays gort.h + Makefile.
# -pthread goes in Cflags and Libs: the header needs it to compile
# (pthread.h, thread-safe errno) and the program needs it to link.
# -fstack-clash-protection in Cflags: code that runs in goroutines needs
# it so that a frame larger than a page cannot jump the guard page.
$(BUILD)/gort.pc: gort.h Makefile FORCE
	@mkdir -p $(@D)
	@{ echo 'prefix=$(PREFIX)'; \
	   echo 'includedir=$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))'; \
	   echo; \
	   echo 'Name: gort'; \
	   echo "Description: Go's goroutines, channels, select and scheduler for C and C++ (header-only)"; \
	   echo 'Version: $(VERSION)'; \
	   echo 'Cflags: -I$${includedir} -pthread -fstack-clash-protection'; \
	   echo 'Libs: -pthread $(EXAMPLE_LDLIBS)'; \
	 } > $@.tmp && mv $@.tmp $@

.PHONY: FORCE
FORCE:

# gortConfig.cmake for find_package(gort) after `make install`: the same
# gort::gort INTERFACE target that CMakeLists.txt gives add_subdirectory
# and FetchContent users (include directory, -pthread, and
# -fstack-clash-protection where the compiler has it).
$(BUILD)/gortConfig.cmake: gort.h Makefile FORCE
	@mkdir -p $(@D)
	@{ echo '# gortConfig.cmake - written by gort'"'"'s Makefile (make install)'; \
	   echo 'include(CMakeFindDependencyMacro)'; \
	   echo 'include(CheckCCompilerFlag)'; \
	   echo 'set(THREADS_PREFER_PTHREAD_FLAG ON)'; \
	   echo 'find_dependency(Threads)'; \
	   echo 'set(gort_VERSION $(VERSION))'; \
	   echo 'if(NOT TARGET gort::gort)'; \
	   echo '  add_library(gort::gort INTERFACE IMPORTED)'; \
	   echo '  set_target_properties(gort::gort PROPERTIES'; \
	   echo '    INTERFACE_INCLUDE_DIRECTORIES "$(INCLUDEDIR)"'; \
	   echo '    INTERFACE_COMPILE_OPTIONS "$$<$$<COMPILE_LANGUAGE:C,CXX>:-pthread>"'; \
	   echo '    INTERFACE_LINK_OPTIONS "-pthread"'; \
	   echo '    INTERFACE_LINK_LIBRARIES "Threads::Threads;$${CMAKE_DL_LIBS}")'; \
	   echo '  get_property(_gort_langs GLOBAL PROPERTY ENABLED_LANGUAGES)'; \
	   echo '  if("C" IN_LIST _gort_langs)'; \
	   echo '    check_c_compiler_flag(-fstack-clash-protection GORT_HAS_STACK_CLASH_PROTECTION)'; \
	   echo '  else()'; \
	   echo '    include(CheckCXXCompilerFlag)'; \
	   echo '    check_cxx_compiler_flag(-fstack-clash-protection GORT_HAS_STACK_CLASH_PROTECTION)'; \
	   echo '  endif()'; \
	   echo '  if(GORT_HAS_STACK_CLASH_PROTECTION)'; \
	   echo '    set_property(TARGET gort::gort APPEND PROPERTY INTERFACE_COMPILE_OPTIONS'; \
	   echo '      "$$<$$<COMPILE_LANGUAGE:C,CXX>:-fstack-clash-protection>")'; \
	   echo '  endif()'; \
	   echo 'endif()'; \
	 } > $@.tmp && mv $@.tmp $@
$(BUILD)/gortConfigVersion.cmake: gort.h Makefile FORCE
	@mkdir -p $(@D)
	@{ echo 'set(PACKAGE_VERSION $(VERSION))'; \
	   echo 'if(PACKAGE_FIND_VERSION VERSION_GREATER PACKAGE_VERSION)'; \
	   echo '  set(PACKAGE_VERSION_COMPATIBLE FALSE)'; \
	   echo 'else()'; \
	   echo '  set(PACKAGE_VERSION_COMPATIBLE TRUE)'; \
	   echo '  if(PACKAGE_FIND_VERSION STREQUAL PACKAGE_VERSION)'; \
	   echo '    set(PACKAGE_VERSION_EXACT TRUE)'; \
	   echo '  endif()'; \
	   echo 'endif()'; \
	 } > $@.tmp && mv $@.tmp $@

CMAKEDIR ?= $(LIBDIR)/cmake/gort

install: $(BUILD)/gort.pc $(BUILD)/gortConfig.cmake $(BUILD)/gortConfigVersion.cmake
	$(INSTALL) -d "$(DESTDIR)$(INCLUDEDIR)" "$(DESTDIR)$(PKGDIR)" "$(DESTDIR)$(CMAKEDIR)"
	$(INSTALL) -m 644 gort.h "$(DESTDIR)$(INCLUDEDIR)/gort.h"
	$(INSTALL) -m 644 $(BUILD)/gort.pc "$(DESTDIR)$(PKGDIR)/gort.pc"
	$(INSTALL) -m 644 $(BUILD)/gortConfig.cmake $(BUILD)/gortConfigVersion.cmake "$(DESTDIR)$(CMAKEDIR)/"

uninstall:
	rm -f "$(DESTDIR)$(INCLUDEDIR)/gort.h" "$(DESTDIR)$(PKGDIR)/gort.pc" \
	      "$(DESTDIR)$(CMAKEDIR)/gortConfig.cmake" "$(DESTDIR)$(CMAKEDIR)/gortConfigVersion.cmake"

clean:
	rm -rf $(BUILD) examples/build
