"""`make bench`, table 8: a fresh CPython importing 30 extension modules, with the interposer
(librelink_preload.so preloaded) and without, samples interleaved. Prints a markdown table (and
appends it to the report given).

    python3 bench/python_imports.py PRELOAD_SO REPORT [SAMPLES]
"""
import os
import statistics
import subprocess
import sys
import time

MODULES = [
    "_asyncio", "_bisect", "_blake2", "_bz2", "_codecs_jp", "_contextvars", "_csv", "_ctypes",
    "_datetime", "_decimal", "_elementtree", "_hashlib", "_heapq", "_json", "_lzma", "_md5",
    "_multibytecodec", "_pickle", "_queue", "_random", "_sha3", "_socket", "_sqlite3", "_ssl",
    "_struct", "array", "binascii", "math", "pyexpat", "unicodedata",
]


def sample(preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    start = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-I", "-S", "-c", "import " + ", ".join(MODULES)], env=env)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"python3 -c 'import ...' failed (status {status}, preload {preload!r})")
    return elapsed * 1e3, usage.ru_maxrss / 1024


def cell(values, unit):
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f}) {unit}"


def main():
    preload, report = sys.argv[1], sys.argv[2]
    samples = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    sample(preload), sample(None)  # warm the page cache
    runs = {"relink": [], "glibc": []}
    for _ in range(samples):
        runs["relink"].append(sample(preload))
        runs["glibc"].append(sample(None))
    lines = [
        "",
        f"### 9. Python: `python3 -I -S -c \"import …\"` of {len(MODULES)} extension modules, fresh interpreter",
        "",
        f"{samples} samples each, interleaved; relink = `LD_PRELOAD=librelink_preload.so`.",
        "",
        "| measure | relink / glibc | relink | glibc |",
        "|---|---|---|---|",
    ]
    for i, (name, unit) in enumerate([("wall time", "ms"), ("max RSS", "MiB")]):
        r = [s[i] for s in runs["relink"]]
        g = [s[i] for s in runs["glibc"]]
        ratio = statistics.median(r) / statistics.median(g)
        lines.append(f"| {name} | {ratio:.2f} | {cell(r, unit)} | {cell(g, unit)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    with open(report, "a") as f:
        f.write(text)


if __name__ == "__main__":
    main()
