#!/usr/bin/env python3
"""Write bench/hot-symbols.txt: the functions of librelink.so that opening libraries runs.

Each workload of bench/hot.c (first opens with RTLD_NOW and RTLD_LAZY of the benchmark's
libraries, lookups, closes and a second open; an rl_link served by the unit cache) runs in a
fresh process under callgrind, which records every function executed. The functions of
librelink.so are listed, those used by the most workloads first, then by name. build.rs has the
linker put them at the start of the text segment in that order, so that what every process
runs on its first open lies in a few adjacent pages: each page fault on code maps the pages
around it (fault-around), and a first open then takes fewer faults and adds less resident
memory.

Run it (`make hot-symbols`) after changes that move work between functions; names that no
longer exist are ignored by the linker, so a stale list only lays out less of the hot code.

Usage: bench/hot_symbols.py [--cc CC]
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

LIBRARIES = ["libz.so.1", "libsqlite3.so.0", "libstdc++.so.6", "libcrypto.so.3",
             "libicuuc.so.72", "libpython3.11.so.1.0"]
# A name each library defines and one none does: hits and misses of rl_sym.
NAMES = ["deflate", "sqlite3_open", "__cxa_throw", "EVP_sha256", "u_strlen_72", "Py_Initialize",
         "relink_no_such_name"]


def functions_of(callgrind_out, soname):
    """Mangled names of the functions of object `soname` that ran, from a callgrind file."""
    objects, names, ran = {}, {}, set()
    current = None
    with open(callgrind_out, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(c?ob)=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(3):
                    objects[m.group(2)] = m.group(3).strip()
                if m.group(1) == "ob":
                    current = objects.get(m.group(2), "")
                continue
            m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(3):
                    names[m.group(2)] = m.group(3).strip()
                if m.group(1) == "fn" and os.path.basename(current or "").startswith(soname):
                    name = names[m.group(2)]
                    if not name.startswith("0x"):
                        ran.add(name)
    return ran


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    args = p.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    subprocess.run(["cargo", "build", "--release", "-p", "relink"], check=True)
    release = os.path.join(root, "target", "release")
    out = os.path.join(root, "target", "hot")
    os.makedirs(out, exist_ok=True)
    hot = os.path.join(out, "hot")
    # The driver finds librelink.so by its SONAME next to itself.
    for name in ("librelink.so", "librelink.so.0"):
        link = os.path.join(out, name)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.join(release, "librelink.so"), link)
    subprocess.run([args.cc, "-O2", "-Wall", "-Iinclude", "-o", hot, "bench/hot.c", "-L" + out,
                    "-lrelink", "-Wl,-rpath," + out], check=True)
    libz_a = subprocess.run([args.cc, "-print-file-name=libz.a"], check=True, capture_output=True,
                            text=True).stdout.strip()
    if not os.path.isabs(libz_a):
        sys.exit("hot_symbols: libz.a not found (Debian: zlib1g-dev)")

    workloads = []
    for lib in LIBRARIES:
        for mode in ("now", "lazy"):
            workloads.append([mode, lib] + NAMES)
    with tempfile.TemporaryDirectory(dir=out) as cache:
        # A cold link writes the unit cache's entry (the archive has not changed for long).
        subprocess.run([hot, "link", libz_a, cache], check=True)
        workloads.append(["link", libz_a, cache])
        uses = collections.Counter()
        for i, w in enumerate(workloads):
            cg = os.path.join(out, "callgrind.%d" % i)
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no",
                            "--callgrind-out-file=" + cg, hot] + w,
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            uses.update(functions_of(cg, "librelink.so"))
            os.unlink(cg)
    if not uses:
        sys.exit("hot_symbols: no function of librelink.so ran")
    ordered = sorted(uses, key=lambda name: (-uses[name], name))
    with open(os.path.join(root, "bench", "hot-symbols.txt"), "w", encoding="utf-8") as f:
        f.write("".join(name + "\n" for name in ordered))
    print("hot_symbols: %d functions in %d workloads -> bench/hot-symbols.txt"
          % (len(ordered), len(workloads)))


if __name__ == "__main__":
    main()
