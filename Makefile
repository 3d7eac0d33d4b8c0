# relink: build, test, demo and install.
#
#   make / make build   release build of librelink.so, librelink.a, librelink_preload.so and the
#                       relink command
#   make test           cargo tests of the workspace (release), relink-core built for the
#                       bare-metal targets, the install layout check, and the
#                       cross-architecture tests (test-cross; CROSS=0 leaves them out)
#   make test-cross     relink cross-built for each machine of .ci/cross-arches and the C
#                       tests of c-tests/cross/ run under qemu-user (.ci/install-cross
#                       installs what they need)
#   make demo           build and run the C demo in examples/demo
#   make bench          relink vs glibc side by side (CALLGRIND=1 adds instruction counts)
#   make hot-symbols    list again the functions opening libraries runs, which the linker puts
#                       first in librelink.so (bench/hot-symbols.txt; needs valgrind)
#   make header         regenerate include/relink.h
#   make install        install into $(DESTDIR)$(PREFIX)
#   make clean          remove build output
#
# Optional, slower checks (not part of `make test`):
#   make fuzz           cargo-fuzz targets open_mem and open_rel, FUZZ_TIME seconds each
#                       (nightly toolchain; installs cargo-fuzz when missing)
#   make check-valgrind the malformed-image cases in one process under valgrind: fails on
#                       invalid accesses and definite leaks
#   make tsan           the 8-thread stress test against a ThreadSanitizer build of relink
#                       (nightly, -Zsanitizer=thread -Zbuild-std), TSAN_TIME seconds

CARGO ?= cargo
ifeq ($(origin CC),default)
CC := gcc
endif
CFLAGS ?= -O2 -g
DEMO_CFLAGS := -Wall -Wextra -Werror
PKG_CONFIG ?= pkg-config
READELF ?= readelf
CALLGRIND ?= 0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR ?=

VERSION := $(shell sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n 1)
SONAME := librelink.so.0
REALNAME := librelink.so.$(VERSION)

RELEASE := target/release
SO := $(RELEASE)/librelink.so
STATIC := $(RELEASE)/librelink.a
CLI := $(RELEASE)/relink
PRELOAD := $(RELEASE)/librelink_preload.so
HEADER := include/relink.h
DEMO := target/demo
# The nested install in install-check goes through this name so that
# `make -n install-check` only prints the check instead of running it.
SUBMAKE = $(MAKE)

NIGHTLY ?= nightly
FUZZ_TIME ?= 60
TSAN_TIME ?= 20
TARGET_TRIPLE := x86_64-unknown-linux-gnu
FUZZ_SEEDS := target/fuzz-seeds
TSAN := target/tsan
TSAN_LIB := $(TSAN)/$(TARGET_TRIPLE)/release

CROSS ?= 1

.PHONY: all build test test-cross core-bare demo bench hot-symbols header install install-check clean
.PHONY: nightly fuzz fuzz-build fuzz-seeds check-valgrind tsan

all: build

# The relink command looks for the interposer in $(LIBDIR) too.
build:
	RELINK_LIBDIR='$(LIBDIR)' $(CARGO) build --release --workspace

# Built only when missing, so that `make build && sudo make install` does
# not run cargo as root.
$(SO) $(STATIC) $(CLI) $(PRELOAD):
	RELINK_LIBDIR='$(LIBDIR)' $(CARGO) build --release --workspace

# The interposer tests run target/release/librelink_preload.so, which
# `cargo test` alone does not build (another package of the workspace).
test:
	$(CARGO) build --release --workspace
	$(CARGO) test --release --workspace
	@$(MAKE) --no-print-directory core-bare
	@$(MAKE) --no-print-directory install-check
ifneq ($(CROSS),0)
	@$(MAKE) --no-print-directory test-cross
endif

test-cross:
	.ci/cross-test

# relink-core has no operating system below it: it must build for targets without one
# (.ci/rust-targets adds them to the toolchain).
CORE_TARGETS := x86_64-unknown-none aarch64-unknown-none

core-bare:
	@installed=$$(rustup target list --installed 2>/dev/null); \
	for t in $(CORE_TARGETS); do \
		printf '%s\n' "$$installed" | grep -qx "$$t" || \
			{ echo "core-bare: the Rust target $$t is missing: run .ci/rust-targets" >&2; exit 1; }; \
	done
	$(CARGO) build --release -p relink-core $(addprefix --target ,$(CORE_TARGETS))

demo: build
	@mkdir -p $(DEMO)
	ln -sf ../release/librelink.so $(DEMO)/$(SONAME)
	$(CC) $(CFLAGS) $(DEMO_CFLAGS) -fPIC -shared -o $(DEMO)/libdemo_plugin.so examples/demo/plugin.c
	$(CC) $(CFLAGS) $(DEMO_CFLAGS) -Iinclude -o $(DEMO)/demo examples/demo/demo.c \
		-L$(RELEASE) -lrelink -Wl,-rpath,'$$ORIGIN'
	$(DEMO)/demo $(DEMO)/libdemo_plugin.so

bench:
	CALLGRIND=$(CALLGRIND) bench/run.sh

hot-symbols:
	python3 bench/hot_symbols.py --cc $(CC)

header:
	RELINK_UPDATE_HEADER=1 $(CARGO) test --release --test header

install: $(SO) $(STATIC) $(CLI) $(PRELOAD)
	install -d '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(PKGCONFIGDIR)' '$(DESTDIR)$(BINDIR)'
	install -m 0755 $(CLI) '$(DESTDIR)$(BINDIR)/relink'
	install -m 0755 $(SO) '$(DESTDIR)$(LIBDIR)/$(REALNAME)'
	ln -sf $(REALNAME) '$(DESTDIR)$(LIBDIR)/$(SONAME)'
	ln -sf $(SONAME) '$(DESTDIR)$(LIBDIR)/librelink.so'
	install -m 0644 $(STATIC) '$(DESTDIR)$(LIBDIR)/librelink.a'
	install -m 0755 $(PRELOAD) '$(DESTDIR)$(LIBDIR)/librelink_preload.so'
	install -m 0644 $(HEADER) '$(DESTDIR)$(INCLUDEDIR)/relink.h'
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		relink.pc.in > '$(DESTDIR)$(PKGCONFIGDIR)/relink.pc'

# Installs into a scratch DESTDIR with PREFIX=/usr and checks the layout.
install-check: build
	@tmp=$$(mktemp -d) || exit 1; \
	trap 'rm -rf "$$tmp"' EXIT; \
	pass=0; fail=0; \
	check() { \
		what=$$1; shift; \
		if "$$@" >/dev/null 2>&1; then pass=$$((pass + 1)); \
		else fail=$$((fail + 1)); echo "install-check: FAILED: $$what"; fi; \
	}; \
	env -u MAKEFLAGS -u MFLAGS -u BINDIR -u LIBDIR -u INCLUDEDIR -u PKGCONFIGDIR \
		$(SUBMAKE) --no-print-directory install DESTDIR="$$tmp/root" PREFIX=/usr \
		>"$$tmp/install.log" 2>&1 || { cat "$$tmp/install.log"; exit 1; }; \
	lib=$$tmp/root/usr/lib; \
	check "$(REALNAME) installed" test -f "$$lib/$(REALNAME)" -a ! -L "$$lib/$(REALNAME)"; \
	check "$(SONAME) -> $(REALNAME)" test "$$(readlink "$$lib/$(SONAME)")" = $(REALNAME); \
	check "librelink.so -> $(SONAME)" test "$$(readlink "$$lib/librelink.so")" = $(SONAME); \
	check "librelink.so resolves" test -f "$$lib/librelink.so"; \
	check "SONAME is $(SONAME)" sh -c '$(READELF) -d "$$1" | grep -q "Library soname: \[$(SONAME)\]"' sh "$$lib/$(REALNAME)"; \
	check "librelink.a installed" test -f "$$lib/librelink.a"; \
	check "relink command installed" test -x "$$tmp/root/usr/bin/relink"; \
	check "relink command runs" "$$tmp/root/usr/bin/relink" check "$$lib/$(REALNAME)"; \
	check "librelink_preload.so installed" test -f "$$lib/librelink_preload.so"; \
	check "librelink_preload.so exports dlopen@GLIBC_2.34" sh -c '$(READELF) --dyn-syms -W "$$1" | grep -q " dlopen@@GLIBC_2.34$$"' sh "$$lib/librelink_preload.so"; \
	check "relink.h installed" cmp $(HEADER) "$$tmp/root/usr/include/relink.h"; \
	check "relink.pc installed" test -f "$$lib/pkgconfig/relink.pc"; \
	pc() { env -u PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH="$$lib/pkgconfig" PKG_CONFIG_LIBDIR="$$lib/pkgconfig" $(PKG_CONFIG) "$$@" relink; }; \
	check "pkg-config prefix" test "$$(pc --variable=prefix)" = /usr; \
	check "pkg-config libdir" test "$$(pc --variable=libdir)" = /usr/lib; \
	check "pkg-config includedir" test "$$(pc --variable=includedir)" = /usr/include; \
	check "pkg-config version" test "$$(pc --modversion)" = $(VERSION); \
	check "pkg-config libs" sh -c 'case " $$1 " in *" -lrelink "*) exit 0;; esac; exit 1' sh "$$(pc --libs)"; \
	check "header compiles" sh -c 'printf "#include <relink.h>\nint main(void) { return RL_NOW == 2 ? 0 : 1; }\n" | $(CC) -fsyntax-only -x c -I"$$1" -' sh "$$tmp/root/usr/include"; \
	echo "install-check: $$pass passed, $$fail failed"; \
	test $$fail -eq 0

clean:
	$(CARGO) clean

# The nightly toolchain with the standard library's sources (for -Zbuild-std).
nightly:
	@rustup toolchain list | grep -q '^$(NIGHTLY)' || rustup toolchain install $(NIGHTLY) --profile minimal
	@rustup component list --toolchain $(NIGHTLY) --installed | grep -q '^rust-src' || \
		rustup component add rust-src --toolchain $(NIGHTLY)

fuzz-build: nightly
	@$(CARGO) +$(NIGHTLY) fuzz --version >/dev/null 2>&1 || $(CARGO) +$(NIGHTLY) install cargo-fuzz
	$(CARGO) +$(NIGHTLY) fuzz build

# Small shared objects without constructors (no C runtime files), and relocatable objects.
fuzz-seeds:
	@mkdir -p $(FUZZ_SEEDS)/open_mem $(FUZZ_SEEDS)/open_rel
	$(CC) -shared -fPIC -nostdlib -O1 -o $(FUZZ_SEEDS)/open_mem/simple.so c-tests/fixtures/simple.c
	$(CC) -shared -fPIC -nostdlib -O1 -Wl,--hash-style=sysv -o $(FUZZ_SEEDS)/open_mem/sysv.so c-tests/fixtures/simple.c
	$(CC) -shared -fPIC -nostdlib -O1 -o $(FUZZ_SEEDS)/open_mem/tls.so c-tests/fixtures/tls.c
	$(CC) -shared -fPIC -nostdlib -O1 -Wl,-z,pack-relative-relocs -o $(FUZZ_SEEDS)/open_mem/relr.so c-tests/fixtures/relr.c
	$(CC) -shared -fPIC -nostdlib -O1 -Wl,-z,lazy -Wl,--version-script=c-tests/fixtures/ver_two.map \
		-o $(FUZZ_SEEDS)/open_mem/ver.so c-tests/fixtures/ver_two.c
	$(CC) -c -fPIC -O1 -o $(FUZZ_SEEDS)/open_rel/simple.o c-tests/fixtures/simple.c
	$(CC) -c -fPIC -O1 -o $(FUZZ_SEEDS)/open_rel/tls.o c-tests/fixtures/tls.c

fuzz: fuzz-build fuzz-seeds
	@for t in open_mem open_rel; do \
		mkdir -p target/fuzz-corpus/$$t && \
		$(CARGO) +$(NIGHTLY) fuzz run $$t target/fuzz-corpus/$$t $(FUZZ_SEEDS)/$$t -- \
			-max_total_time=$(FUZZ_TIME) -rss_limit_mb=4096 || exit 1; \
	done

check-valgrind:
	@command -v valgrind >/dev/null || { echo "check-valgrind: install valgrind" >&2; exit 1; }
	$(CARGO) test --release --test malformed -- --ignored --exact malformed_images_under_valgrind --nocapture

# relink built with ThreadSanitizer (its standard library too), and the stress test program
# built with -fsanitize=thread against it.
tsan: nightly
	RUSTFLAGS="-Zsanitizer=thread" $(CARGO) +$(NIGHTLY) build -Zbuild-std --release \
		--target $(TARGET_TRIPLE) --target-dir $(TSAN) --lib
	@mkdir -p $(TSAN)/stress
	ln -sf $(abspath $(TSAN_LIB))/librelink.so $(TSAN)/stress/$(SONAME)
	ln -sf $(abspath $(TSAN_LIB))/librelink.so $(TSAN)/stress/librelink.so
	$(CC) -shared -fPIC -O1 -o $(TSAN)/stress/libsimple.so c-tests/fixtures/simple.c
	$(CC) -shared -fPIC -O1 -o $(TSAN)/stress/libstress_hooked.so c-tests/fixtures/stress_hooked.c
	$(CC) -fsanitize=thread -g -O1 -Wall -Werror -rdynamic -Iinclude -Ic-tests -o $(TSAN)/stress/stress \
		c-tests/stress.c c-tests/tsan_compat.c -L$(TSAN)/stress -lrelink -Wl,-rpath,'$$ORIGIN' -lpthread
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 $(TSAN_OPTIONS)" \
		$(TSAN)/stress/stress $(TSAN)/stress $(TSAN_TIME)
