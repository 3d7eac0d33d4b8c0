# relink: build, test, demo and install.
#
#   make / make build   release build of librelink.so, librelink.a, librelink_preload.so
#   make test           cargo tests (release) and the install layout check
#   make demo           build and run the C demo in examples/demo
#   make bench          relink vs glibc side by side (CALLGRIND=1 adds instruction counts)
#   make header         regenerate include/relink.h
#   make install        install into $(DESTDIR)$(PREFIX)
#   make clean          remove build output

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
PRELOAD := $(RELEASE)/librelink_preload.so
HEADER := include/relink.h
DEMO := target/demo
# The nested install in install-check goes through this name so that
# `make -n install-check` only prints the check instead of running it.
SUBMAKE = $(MAKE)

.PHONY: all build test demo bench header install install-check clean

all: build

build:
	$(CARGO) build --release --workspace

# Built only when missing, so that `make build && sudo make install` does
# not run cargo as root.
$(SO) $(STATIC) $(PRELOAD):
	$(CARGO) build --release --workspace

# The interposer tests run target/release/librelink_preload.so, which
# `cargo test` alone does not build (another package of the workspace).
test:
	$(CARGO) build --release --workspace
	$(CARGO) test --release --workspace
	@$(MAKE) --no-print-directory install-check

demo: build
	@mkdir -p $(DEMO)
	ln -sf ../release/librelink.so $(DEMO)/$(SONAME)
	$(CC) $(CFLAGS) $(DEMO_CFLAGS) -fPIC -shared -o $(DEMO)/libdemo_plugin.so examples/demo/plugin.c
	$(CC) $(CFLAGS) $(DEMO_CFLAGS) -Iinclude -o $(DEMO)/demo examples/demo/demo.c \
		-L$(RELEASE) -lrelink -Wl,-rpath,'$$ORIGIN'
	$(DEMO)/demo $(DEMO)/libdemo_plugin.so

bench:
	CALLGRIND=$(CALLGRIND) bench/run.sh

header:
	RELINK_UPDATE_HEADER=1 $(CARGO) test --release --test header

install: $(SO) $(STATIC) $(PRELOAD)
	install -d '$(DESTDIR)$(LIBDIR)' '$(DESTDIR)$(INCLUDEDIR)' '$(DESTDIR)$(PKGCONFIGDIR)'
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
	env -u MAKEFLAGS -u MFLAGS -u LIBDIR -u INCLUDEDIR -u PKGCONFIGDIR \
		$(SUBMAKE) --no-print-directory install DESTDIR="$$tmp/root" PREFIX=/usr \
		>"$$tmp/install.log" 2>&1 || { cat "$$tmp/install.log"; exit 1; }; \
	lib=$$tmp/root/usr/lib; \
	check "$(REALNAME) installed" test -f "$$lib/$(REALNAME)" -a ! -L "$$lib/$(REALNAME)"; \
	check "$(SONAME) -> $(REALNAME)" test "$$(readlink "$$lib/$(SONAME)")" = $(REALNAME); \
	check "librelink.so -> $(SONAME)" test "$$(readlink "$$lib/librelink.so")" = $(SONAME); \
	check "librelink.so resolves" test -f "$$lib/librelink.so"; \
	check "SONAME is $(SONAME)" sh -c '$(READELF) -d "$$1" | grep -q "Library soname: \[$(SONAME)\]"' sh "$$lib/$(REALNAME)"; \
	check "librelink.a installed" test -f "$$lib/librelink.a"; \
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
