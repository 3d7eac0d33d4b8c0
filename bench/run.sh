#!/bin/sh
# Builds relink, the fixtures and the benchmark driver, then runs the benchmark.
# Environment: CALLGRIND=1 adds instruction counts under valgrind; BENCH_QUICK=1 takes few
# samples (a smoke test, not for numbers); BENCH_ARGS passes extra driver arguments
# (e.g. "--lib libz.so.1"; with --lib, add --link for the rl_link table).
set -eu

start=$(date +%s)
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

CC=${CC:-gcc}
CXX=${CXX:-g++}
out=target/bench

cargo build --release --workspace
mkdir -p "$out"
ln -sf ../release/librelink.so "$out/librelink.so"
ln -sf ../release/librelink.so "$out/librelink.so.0"

$CC -O2 -fPIC -shared -Wall -o "$out/libplt_dep.so" bench/fixtures/plt_dep.c \
    -Wl,-soname,libplt_dep.so
$CC -O2 -fPIC -shared -Wall -o "$out/libplt.so" bench/fixtures/plt.c \
    -L"$out" -lplt_dep -Wl,-z,lazy -Wl,-rpath,'$ORIGIN'
$CXX -O2 -fPIC -shared -Wall -o "$out/libthrow.so" bench/fixtures/throw.cpp
$CC -O2 -Wall -c -o "$out/link_sqlite.o" c-tests/fixtures/arc_sqlite_user.c
$CC -O2 -Wall -Wextra -Iinclude -Werror -o "$out/relink-bench" bench/bench.c \
    -L"$out" -lrelink -Wl,-rpath,'$ORIGIN' -ldl -lpthread

set -- --fixtures "$out" --report "$out/report.md" --cc "$CC"
if [ "${CALLGRIND:-0}" = 1 ]; then
    set -- "$@" --callgrind
fi
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    set -- "$@" --quick
fi
# shellcheck disable=SC2086
"$out/relink-bench" run "$@" ${BENCH_ARGS:-}

# Table 9: a fresh CPython importing extension modules, with the interposer and without.
python_samples=30
if [ "${BENCH_QUICK:-0}" = 1 ]; then
    python_samples=3
fi
python3 bench/python_imports.py "$root/target/release/librelink_preload.so" "$out/report.md" "$python_samples"

total=$(( $(date +%s) - start ))
printf '\nTotal run time (build included): %d s\n' "$total" | tee -a "$out/report.md"
