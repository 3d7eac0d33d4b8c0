/*
 * relink-bench: relink (rl_open/rl_sym/rl_close) against glibc (dlopen/dlsym/dlclose), measured
 * sample by sample in alternation (relink, glibc, relink, glibc, ...).
 *
 *   relink-bench run --fixtures DIR --report FILE [--cc CC] [--callgrind] [--quick] [--link]
 *                    [--lib NAME]...
 *   relink-bench child-open relink|glibc FLAGS LIB FD
 *   relink-bench child-link relink|glibc FD CC OUT [--cache=DIR] INPUT...
 *
 * The driver ("run") never opens a measured library nor calls relink itself, so every process it
 * forks starts clean:
 *   - first opens run in a freshly exec'd "child-open" process per sample, which does exactly one
 *     open inside bench_open_once() and writes "ok NS RSS_KIB" or "err MESSAGE" to FD;
 *   - steady-state measurements run in two persistent forked workers (one per loader) that the
 *     driver steps one sample at a time, so the two loaders never share a process;
 *   - instruction counts run child-open under valgrind --tool=callgrind, collecting only inside
 *     bench_open_once();
 *   - linking objects and archives (table 8) runs in a freshly exec'd "child-link" process per
 *     sample: rl_link of the inputs, or what a user can do without relink: run the compiler
 *     driver to link them into a shared library (ld -shared) and dlopen that.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relink.h"

enum { RL = 0, DL = 1 };
static const char *const LOADER[2] = {"relink", "glibc"};

#define MAX_SAMPLES 201
#define MAX_ROWS 16
#define MAX_NAMES 1000
#define ERR_LEN 480

/* ---------------------------------------------------------------- small utilities */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("relink-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Copies src into dst, truncated to cap - 1 bytes. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    while (src && n + 1 < cap && src[n])
        n++;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until len bytes or EOF; returns the byte count. */
static size_t read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* Resident set size in KiB, read without allocating. */
static long rss_kib(void)
{
    char buf[128];
    int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = read_full(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n] = 0;
    long size, resident;
    if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
        return -1;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Whether a file with this canonical path is mapped into the calling process. */
static int is_mapped(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (!f)
        return 0;
    char *line = NULL;
    size_t cap = 0, plen = strlen(path);
    int found = 0;
    ssize_t n;
    while (!found && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = 0;
        if ((size_t)n >= plen && strcmp(line + n - plen, path) == 0 &&
            ((size_t)n == plen || line[n - plen - 1] == ' '))
            found = 1;
    }
    free(line);
    fclose(f);
    return found;
}

/* ---------------------------------------------------------------- the two loaders */

static void *ld_open(int l, const char *lib, int flags)
{
    return l == RL ? (void *)rl_open(lib, flags) : dlopen(lib, flags);
}

static void *ld_sym(int l, void *h, const char *name)
{
    return l == RL ? rl_sym(h, name) : dlsym(h, name);
}

static int ld_close(int l, void *h)
{
    return l == RL ? rl_close(h) : dlclose(h);
}

static const char *ld_error(int l)
{
    const char *e = l == RL ? rl_error() : dlerror();
    return e ? e : "failed without an error message";
}

/* The one open that first-open timing and callgrind measure. */
__attribute__((noinline, used)) void *bench_open_once(int loader, const char *lib, int flags)
{
    void *h = ld_open(loader, lib, flags);
    __asm__ volatile("" ::: "memory");
    return h;
}

static int loader_of(const char *name)
{
    if (strcmp(name, "relink") == 0)
        return RL;
    if (strcmp(name, "glibc") == 0)
        return DL;
    die("unknown loader %s", name);
    return -1;
}

/* Reports to the driver on fd, on one line: "ok" and the n numbers of v, or "err" and the
 * message when err is set; then ends the process. */
__attribute__((noreturn)) static void child_report(int fd, const char *err, int n,
                                                   const double *v)
{
    char out[ERR_LEN + 128];
    if (err) {
        snprintf(out, sizeof out, "err %.*s", ERR_LEN - 1, err);
        for (char *p = out; *p; p++)
            if (*p == '\n')
                *p = ' ';
    } else {
        copy_str(out, sizeof out, "ok");
        for (int i = 0; i < n; i++)
            snprintf(out + strlen(out), sizeof out - strlen(out), " %.17g", v[i]);
    }
    snprintf(out + strlen(out), sizeof out - strlen(out), "\n");
    write_all(fd, out, strlen(out));
    _exit(0);
}

static int child_open_main(int argc, char **argv)
{
    if (argc != 4)
        die("usage: child-open relink|glibc FLAGS LIB FD");
    int loader = loader_of(argv[0]);
    int flags = atoi(argv[1]);
    const char *lib = argv[2];
    int fd = atoi(argv[3]);

    (void)now_ns();
    long rss0 = rss_kib();
    uint64_t t0 = now_ns();
    void *h = bench_open_once(loader, lib, flags);
    uint64_t t1 = now_ns();
    long rss1 = rss_kib();

    const double v[2] = {(double)(t1 - t0), (double)(rss1 - rss0)};
    child_report(fd, h ? NULL : ld_error(loader), 2, v);
    return 0;
}

/* Link INPUTs (a "+" prefix: every member of an archive) into one loaded unit and report the
 * time: rl_link for relink; for glibc, CC -shared -Wl,-Bsymbolic -o OUT (the archives' objects
 * are -fPIE code, which -Bsymbolic lets ld link into a shared library) then dlopen(OUT). */
static int child_link_main(int argc, char **argv)
{
    if (argc < 5)
        die("usage: child-link relink|glibc FD CC OUT [--cache=DIR] INPUT...");
    int loader = loader_of(argv[0]);
    int fd = atoi(argv[1]);
    const char *cc = argv[2], *out_so = argv[3], *cache = NULL;
    int n = argc - 4;
    char **inputs = argv + 4;
    if (strncmp(inputs[0], "--cache=", 8) == 0) { /* relink only: rl_open_opts.cache_dir */
        cache = inputs[0] + 8;
        inputs++;
        n--;
    }
    const char *err = NULL;
    char errbuf[ERR_LEN];

    (void)now_ns();
    uint64_t t0 = now_ns();
    if (loader == RL) {
        rl_input in[16];
        if (n > 16)
            die("too many inputs");
        for (int i = 0; i < n; i++) {
            int whole = inputs[i][0] == '+';
            rl_input x = {inputs[i] + whole, NULL, 0, NULL, whole ? RL_INPUT_WHOLE_ARCHIVE : 0};
            in[i] = x;
        }
        rl_open_opts opts = {.size = sizeof opts, .cache_dir = cache};
        if (rl_link(in, (size_t)n, RL_NOW, cache ? &opts : NULL) == NULL)
            err = ld_error(RL);
    } else {
        char *args[64];
        int a = 0;
        args[a++] = (char *)cc;
        args[a++] = "-shared";
        args[a++] = "-Wl,-Bsymbolic";
        args[a++] = "-o";
        args[a++] = (char *)out_so;
        for (int i = 0; i < n && a < 58; i++) {
            if (inputs[i][0] == '+') {
                args[a++] = "-Wl,--whole-archive";
                args[a++] = inputs[i] + 1;
                args[a++] = "-Wl,--no-whole-archive";
            } else {
                args[a++] = inputs[i];
            }
        }
        args[a] = NULL;
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            execvp(cc, args);
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            snprintf(errbuf, sizeof errbuf, "%s -shared failed (status %d)", cc, status);
            err = errbuf;
        } else if (dlopen(out_so, RTLD_NOW) == NULL) {
            err = ld_error(DL);
        }
    }
    uint64_t t1 = now_ns();
    const double v[2] = {(double)(t1 - t0), 0};
    child_report(fd, err, 2, v);
    return 0;
}

/* ---------------------------------------------------------------- results and the report */

struct series {
    int n;
    double v[MAX_SAMPLES];
    char err[ERR_LEN];
    int refcount_only;
};

struct row {
    char label[96];
    char extra[48];
    struct series s[2];
};

enum unit { U_TIME, U_KIB, U_RATE, U_COUNT };

struct table {
    const char *title;
    const char *first_col;
    const char *extra_col; /* NULL: no extra column */
    const char *note;
    enum unit unit;
    int nrows;
    struct row rows[MAX_ROWS];
};

struct stats {
    double med, min, max;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct stats stats_of(const struct series *s)
{
    double v[MAX_SAMPLES];
    memcpy(v, s->v, sizeof(double) * (size_t)s->n);
    qsort(v, (size_t)s->n, sizeof v[0], cmp_double);
    struct stats st = {v[s->n / 2], v[0], v[s->n - 1]};
    if (s->n % 2 == 0)
        st.med = (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
    return st;
}

static void push(struct series *s, double v)
{
    if (s->n < MAX_SAMPLES)
        s->v[s->n++] = v;
}

static void set_err(struct series *s, const char *msg)
{
    copy_str(s->err, sizeof s->err, msg);
}

static struct row *add_row(struct table *t, const char *label, const char *extra)
{
    if (t->nrows == MAX_ROWS)
        die("too many rows in %s", t->title);
    struct row *r = &t->rows[t->nrows++];
    memset(r, 0, sizeof *r);
    copy_str(r->label, sizeof r->label, label);
    copy_str(r->extra, sizeof r->extra, extra);
    return r;
}

static void md_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

static int decimals(double x)
{
    x = x < 0 ? -x : x;
    return x < 10 ? 2 : x < 100 ? 1 : 0;
}

static void fmt_stats(FILE *f, struct stats st, enum unit u)
{
    double scale = 1;
    const char *name = "";
    double m = st.med < 0 ? -st.med : st.med;
    switch (u) {
    case U_TIME:
        if (m < 1e3)
            scale = 1, name = "ns";
        else if (m < 1e6)
            scale = 1e3, name = "µs";
        else
            scale = 1e6, name = "ms";
        break;
    case U_KIB:
        if (m < 10240)
            scale = 1, name = "KiB";
        else
            scale = 1024, name = "MiB";
        break;
    case U_RATE:
        if (m < 1e6)
            scale = 1e3, name = "k/s";
        else
            scale = 1e6, name = "M/s";
        break;
    case U_COUNT:
        if (m < 1e4)
            scale = 1, name = "";
        else if (m < 1e6)
            scale = 1e3, name = "k";
        else
            scale = 1e6, name = "M";
        break;
    }
    int d = decimals(st.med / scale);
    fprintf(f, "%.*f%s%s (%.*f–%.*f)", d, st.med / scale, *name ? " " : "", name, d,
            st.min / scale, d, st.max / scale);
}

static void cell(FILE *f, const struct series *s, enum unit u)
{
    if (s->err[0]) {
        fputs("error: ", f);
        md_text(f, s->err);
    } else if (s->n == 0) {
        fputs("—", f);
    } else {
        fmt_stats(f, stats_of(s), u);
        if (s->refcount_only)
            fputs(" (refcount only)", f);
    }
}

static void render_table(FILE *f, const struct table *t)
{
    fprintf(f, "### %s\n\n", t->title);
    fprintf(f, "| %s | relink / glibc |", t->first_col);
    if (t->extra_col)
        fprintf(f, " %s |", t->extra_col);
    fputs(" relink: median (min–max) | glibc: median (min–max) |\n", f);
    fputs(t->extra_col ? "|---|---:|---:|---:|---:|\n" : "|---|---:|---:|---:|\n", f);
    int footnote = 0;
    for (int i = 0; i < t->nrows; i++) {
        const struct row *r = &t->rows[i];
        fprintf(f, "| %s | ", r->label);
        const struct series *a = &r->s[RL], *b = &r->s[DL];
        if (!a->err[0] && !b->err[0] && a->n > 0 && b->n > 0 && stats_of(b).med != 0)
            fprintf(f, "%.2f×", stats_of(a).med / stats_of(b).med);
        else
            fputs("—", f);
        fputs(" |", f);
        if (t->extra_col)
            fprintf(f, " %s |", r->extra);
        fputc(' ', f);
        cell(f, a, t->unit);
        fputs(" | ", f);
        cell(f, b, t->unit);
        fputs(" |\n", f);
        footnote |= a->refcount_only | b->refcount_only;
    }
    fputc('\n', f);
    if (t->note)
        fprintf(f, "%s\n\n", t->note);
    if (footnote)
        fputs("(refcount only): the library was still mapped after its close, so opening it "
              "again only counted a reference (no load, no unload).\n\n",
              f);
}

/* ---------------------------------------------------------------- library names and paths */

struct lib {
    const char *name;
    char path[PATH_MAX]; /* canonical path, as /proc/self/maps shows it; "" when not found */
    char **names;        /* exported names for the lookup benchmark */
    int nnames;
    char **missing; /* the same names with "_nope" */
};

static int resolve_with_ldconfig(const char *soname, char *out, size_t cap)
{
    static const char *const tools[] = {"/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"};
    for (size_t t = 0; t < sizeof tools / sizeof tools[0]; t++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -p 2>/dev/null", tools[t]);
        FILE *p = popen(cmd, "r");
        if (!p)
            continue;
        char line[1024];
        int found = 0, any = 0;
        size_t slen = strlen(soname);
        while (fgets(line, sizeof line, p)) {
            any = 1;
            char *s = line;
            while (*s == ' ' || *s == '\t')
                s++;
            char *arrow = strstr(s, " => ");
            if (found || !arrow || strncmp(s, soname, slen) != 0 || s[slen] != ' ')
                continue;
#if defined(__x86_64__)
            if (!strstr(s, "x86-64"))
                continue;
#endif
            char *path = arrow + 4;
            path[strcspn(path, "\n")] = 0;
            copy_str(out, cap, path);
            found = 1;
        }
        pclose(p);
        if (any)
            return found;
    }
    return 0;
}

static int resolve_lib(const char *soname, char *out, size_t cap)
{
    char found[PATH_MAX] = "";
    if (strchr(soname, '/')) {
        copy_str(found, sizeof found, soname);
    } else if (!resolve_with_ldconfig(soname, found, sizeof found)) {
        static const char *const dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                           "/lib64", "/usr/lib64", "/lib", "/usr/lib",
                                           "/usr/local/lib"};
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0] && !found[0]; i++) {
            char p[PATH_MAX];
            snprintf(p, sizeof p, "%s/%s", dirs[i], soname);
            if (access(p, R_OK) == 0)
                copy_str(found, sizeof found, p);
        }
    }
    if (!found[0])
        return 0;
    char real[PATH_MAX];
    if (!realpath(found, real))
        return 0;
    copy_str(out, cap, real);
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Defined, default-visible FUNC/OBJECT symbols of the file's .dynsym that an unversioned lookup
 * finds (no hidden versions), sorted and deduplicated. */
static int read_exports(const char *path, char ***out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    const unsigned char *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return -1;

    int count = -1;
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)map;
#define IN_FILE(off, len) ((uint64_t)(off) <= size && (uint64_t)(len) <= size - (uint64_t)(off))
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) ||
        !IN_FILE(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))
        goto done;
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(map + eh->e_shoff);
    const Elf64_Shdr *dynsym = NULL, *versym = NULL;
    for (int i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_DYNSYM)
            dynsym = &sh[i];
        else if (sh[i].sh_type == SHT_GNU_versym)
            versym = &sh[i];
    }
    if (!dynsym || dynsym->sh_link >= eh->e_shnum || !IN_FILE(dynsym->sh_offset, dynsym->sh_size))
        goto done;
    const Elf64_Shdr *strsec = &sh[dynsym->sh_link];
    if (!IN_FILE(strsec->sh_offset, strsec->sh_size))
        goto done;
    const Elf64_Sym *syms = (const Elf64_Sym *)(map + dynsym->sh_offset);
    size_t nsyms = dynsym->sh_size / sizeof(Elf64_Sym);
    const char *strtab = (const char *)(map + strsec->sh_offset);
    const Elf64_Half *vs = NULL;
    if (versym && IN_FILE(versym->sh_offset, versym->sh_size) &&
        versym->sh_size / sizeof(Elf64_Half) >= nsyms)
        vs = (const Elf64_Half *)(map + versym->sh_offset);

    char **names = malloc(sizeof(char *) * (nsyms + 1));
    int n = 0;
    for (size_t i = 1; i < nsyms; i++) {
        const Elf64_Sym *s = &syms[i];
        int type = ELF64_ST_TYPE(s->st_info), bind = ELF64_ST_BIND(s->st_info);
        int vis = ELF64_ST_VISIBILITY(s->st_other);
        if (s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS ||
            (type != STT_FUNC && type != STT_OBJECT))
            continue;
        if ((bind != STB_GLOBAL && bind != STB_WEAK) ||
            (vis != STV_DEFAULT && vis != STV_PROTECTED))
            continue;
        if (vs && ((vs[i] & 0x8000) || (vs[i] & 0x7fff) == 0))
            continue;
        if (s->st_name >= strsec->sh_size)
            continue;
        const char *name = strtab + s->st_name;
        size_t len = strnlen(name, strsec->sh_size - s->st_name);
        if (len == 0 || len == strsec->sh_size - s->st_name)
            continue;
        names[n++] = strndup(name, len);
    }
    qsort(names, (size_t)n, sizeof(char *), cmp_str);
    int uniq = 0;
    for (int i = 0; i < n; i++) {
        if (uniq > 0 && strcmp(names[uniq - 1], names[i]) == 0)
            free(names[i]);
        else
            names[uniq++] = names[i];
    }
    *out = names;
    count = uniq;
done:
    munmap((void *)map, size);
    return count;
#undef IN_FILE
}

/* Up to `cap` exports, spread evenly over the sorted list, and their "_nope" twins. */
static void pick_names(struct lib *l, int cap)
{
    char **all;
    int n = read_exports(l->path, &all);
    if (n <= 0)
        return;
    int keep = n < cap ? n : cap;
    l->names = malloc(sizeof(char *) * (size_t)keep);
    l->missing = malloc(sizeof(char *) * (size_t)keep);
    for (int i = 0; i < keep; i++) {
        l->names[i] = all[(long)i * n / keep];
        if (asprintf(&l->missing[i], "%s_nope", l->names[i]) < 0)
            die("out of memory");
    }
    l->nnames = keep;
}

/* ---------------------------------------------------------------- first opens (exec per sample) */

static char self_exe[PATH_MAX];

struct open_result {
    int ok;
    /* the numbers after "ok": child-open and child-link: ns, RSS KiB added; child-global: ns of
     * the opens, names found, ns per hit, ns per miss; child-cg: the count of operations done in
     * each call of bench_measured() */
    double v[4];
    char err[ERR_LEN];
};

static void run_child(const char *mode, int loader, char *const *tail, const char *cg_out,
                      struct open_result *r);

/* One child-open process; under callgrind when cg_out is set. */
static void run_child_open(int loader, int flags, const char *lib, const char *cg_out,
                           struct open_result *r)
{
    char flagstr[16];
    snprintf(flagstr, sizeof flagstr, "%d", flags);
    char *tail[] = {flagstr, (char *)lib, NULL};
    run_child("child-open", loader, tail, cg_out, r);
}

/* One child process in `mode` with the loader, then `tail`: for "child-open" the descriptor to
 * report on comes after tail[0] and tail[1], for the other modes right after the loader. Under
 * callgrind, child-open collects inside bench_open_once(), the other modes inside each call of
 * bench_measured(), dumped one file per call (cg_out.1, cg_out.2, ...). */
static void run_child(const char *mode, int loader, char *const *tail, const char *cg_out,
                      struct open_result *r)
{
    memset(r, 0, sizeof *r);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = dup(p[1]);
        char fdstr[16], outarg[PATH_MAX + 32];
        snprintf(fdstr, sizeof fdstr, "%d", fd);
        char *args[64];
        int a = 0;
        if (cg_out) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            snprintf(outarg, sizeof outarg, "--callgrind-out-file=%s", cg_out);
            args[a++] = "valgrind";
            args[a++] = "--tool=callgrind";
            args[a++] = outarg;
            args[a++] = "--collect-atstart=no";
            if (strcmp(mode, "child-open") == 0) {
                args[a++] = "--toggle-collect=bench_open_once";
            } else {
                args[a++] = "--toggle-collect=bench_measured";
                args[a++] = "--dump-after=bench_measured";
            }
        }
        args[a++] = self_exe;
        args[a++] = (char *)mode;
        args[a++] = (char *)LOADER[loader];
        if (strcmp(mode, "child-open") == 0) {
            args[a++] = tail[0];
            args[a++] = tail[1];
            args[a++] = fdstr;
        } else {
            args[a++] = fdstr;
            for (int i = 0; tail[i] && a < 63; i++)
                args[a++] = tail[i];
        }
        args[a] = NULL;
        execvp(args[0], args);
        dprintf(fd, "err cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    char buf[ERR_LEN + 64];
    size_t n = read_full(p[0], buf, sizeof buf - 1);
    close(p[0]);
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    int status = 0;
    waitpid(pid, &status, 0);
    if (sscanf(buf, "ok %lf %lf %lf %lf", &r->v[0], &r->v[1], &r->v[2], &r->v[3]) >= 1) {
        r->ok = 1;
    } else if (strncmp(buf, "err ", 4) == 0) {
        copy_str(r->err, sizeof r->err, buf + 4);
    } else if (WIFSIGNALED(status)) {
        snprintf(r->err, sizeof r->err, "the open crashed the process (%s)",
                 strsignal(WTERMSIG(status)));
    } else {
        snprintf(r->err, sizeof r->err, "the child exited with status %d and no result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* RTLD_NOW and RTLD_LAZY samples alternate too: relink NOW, glibc NOW, relink LAZY, glibc LAZY. */
static void first_opens(struct lib *l, int samples, struct row *now, struct row *lazy,
                        struct row *rss)
{
    struct row *rows[2] = {now, lazy};
    const int flags[2] = {RTLD_NOW, RTLD_LAZY};
    int ok[2][2];
    struct open_result r;
    for (int m = 0; m < 2; m++) {
        for (int i = 0; i < 2; i++) { /* a discarded sample each: page cache, and errors */
            run_child_open(i, flags[m], l->name, NULL, &r);
            ok[m][i] = r.ok;
            if (!r.ok) {
                set_err(&rows[m]->s[i], r.err);
                if (m == 0)
                    set_err(&rss->s[i], r.err);
            }
        }
    }
    for (int k = 0; k < samples; k++) {
        for (int m = 0; m < 2; m++) {
            for (int i = 0; i < 2; i++) {
                if (!ok[m][i])
                    continue;
                run_child_open(i, flags[m], l->name, NULL, &r);
                if (!r.ok) {
                    set_err(&rows[m]->s[i], r.err);
                    ok[m][i] = 0;
                    continue;
                }
                push(&rows[m]->s[i], r.v[0]);
                if (m == 0)
                    push(&rss->s[i], r.v[1]);
            }
        }
    }
}

static int callgrind_total(const char *file, double *ir)
{
    FILE *f = fopen(file, "re");
    if (!f)
        return 0;
    char line[4096];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "totals: %llu", &v) == 1 || (!found && sscanf(line, "summary: %llu", &v) == 1)) {
            *ir = (double)v;
            found = 1;
        }
    }
    fclose(f);
    return found;
}

static void callgrind_opens(struct lib *l, int flags, const char *dir, int samples,
                            struct row *row)
{
    int ok[2] = {1, 1};
    for (int k = 0; k < samples; k++) {
        for (int i = 0; i < 2; i++) {
            if (!ok[i])
                continue;
            char out[PATH_MAX + 128];
            snprintf(out, sizeof out, "%s/callgrind.%s.%s.%s.%d", dir, LOADER[i], l->name,
                     flags == RTLD_NOW ? "now" : "lazy", k);
            unlink(out);
            struct open_result r;
            run_child_open(i, flags, l->name, out, &r);
            double ir;
            if (!r.ok) {
                set_err(&row->s[i], r.err);
                ok[i] = 0;
            } else if (!callgrind_total(out, &ir)) {
                set_err(&row->s[i], "no totals: line in callgrind's output");
                ok[i] = 0;
            } else {
                push(&row->s[i], ir);
            }
        }
    }
}

/* Under callgrind, one child process per loader in `mode` with `tail`: the instructions of its
 * d-th bench_measured() call, divided by the count of operations it reported for that call, are
 * a sample of rows[d] (none when rows[d] is NULL). */
static void callgrind_rows(const char *mode, char *const *tail, const char *tag, const char *dir,
                           struct row *const *rows, int nrows)
{
    for (int i = 0; i < 2; i++) {
        char out[PATH_MAX + 128], dump[PATH_MAX + 160];
        snprintf(out, sizeof out, "%s/callgrind.%s.%s", dir, LOADER[i], tag);
        unlink(out);
        for (int d = 1; d <= nrows; d++) {
            snprintf(dump, sizeof dump, "%s.%d", out, d);
            unlink(dump);
        }
        struct open_result r;
        run_child(mode, i, tail, out, &r);
        for (int d = 0; d < nrows && d < 4; d++) {
            double ir;
            snprintf(dump, sizeof dump, "%s.%d", out, d + 1);
            if (!rows[d])
                continue;
            if (!r.ok)
                set_err(&rows[d]->s[i], r.err);
            else if (r.v[d] <= 0)
                set_err(&rows[d]->s[i], "no count of operations from the child");
            else if (!callgrind_total(dump, &ir))
                set_err(&rows[d]->s[i], "no totals: line in callgrind's output");
            else
                push(&rows[d]->s[i], ir / r.v[d]);
        }
    }
}

/* ---------------------------------------------------------------- persistent workers */

struct job {
    int loader;
    const char *lib;  /* argument to the open */
    const char *path; /* canonical path, for the mapped-after-close check */
    int flags;
    char **names, **missing; /* lookups: parent's lists, inherited by fork */
    int nnames;
    long throws; /* throw/catch per thread per sample */
    struct lib *const *cycled; /* threaded cycles: the libraries, in the order threads start on */
    int ncycled, threads;

    /* worker-side state */
    void *h;
    long reps;
    char **hits, **misses;
    int nhits, nmisses;
    long hit_lookups, miss_lookups;
    int (*call_all)(int);
    long (*throw_catch)(long);
    struct cycled_lib *cyc; /* threaded cycles: per library, names this loader finds */
};

struct reply {
    int ok;
    int flag;
    double v;
    char text[ERR_LEN];
};

struct worker {
    pid_t pid;
    int to, from;
};

static volatile uintptr_t sink;

static void fail(struct reply *r, const char *what, const char *msg)
{
    r->ok = 0;
    if (what)
        snprintf(r->text, sizeof r->text, "%s: %s", what, msg);
    else
        copy_str(r->text, sizeof r->text, msg);
}

static void clear_error(int l)
{
    if (l == RL)
        (void)rl_error();
    else
        (void)dlerror();
}

/* 'c': open and close once, note whether the library stays mapped, size the batch. */
static void cycle_setup(struct job *j, struct reply *r)
{
    double best = 1e18;
    for (int k = 0; k < 4; k++) {
        clear_error(j->loader);
        uint64_t t0 = now_ns();
        void *h = ld_open(j->loader, j->lib, RTLD_NOW);
        if (!h)
            return fail(r, NULL, ld_error(j->loader));
        if (ld_close(j->loader, h) != 0)
            return fail(r, "close", ld_error(j->loader));
        uint64_t t1 = now_ns();
        if (k == 0)
            r->flag = is_mapped(j->path);
        else if (t1 - t0 < best)
            best = (double)(t1 - t0);
    }
    j->reps = (long)(2e6 / (best > 20 ? best : 20));
    j->reps = j->reps < 1 ? 1 : j->reps > 100000 ? 100000 : j->reps;
}

/* 'C': reps open+close cycles, ns per cycle. */
static void cycle_sample(struct job *j, struct reply *r)
{
    uint64_t t0 = now_ns();
    for (long k = 0; k < j->reps; k++) {
        void *h = ld_open(j->loader, j->lib, RTLD_NOW);
        if (!h)
            return fail(r, NULL, ld_error(j->loader));
        ld_close(j->loader, h);
    }
    r->v = (double)(now_ns() - t0) / (double)j->reps;
}

static double lookup_loop(int loader, void *h, char **names, int n, long total)
{
    uintptr_t acc = 0;
    int idx = 0;
    uint64_t t0 = now_ns();
    if (loader == RL) {
        for (long k = 0; k < total; k++) {
            acc ^= (uintptr_t)rl_sym(h, names[idx]);
            if (++idx == n)
                idx = 0;
        }
    } else {
        for (long k = 0; k < total; k++) {
            acc ^= (uintptr_t)dlsym(h, names[idx]);
            if (++idx == n)
                idx = 0;
        }
    }
    uint64_t t1 = now_ns();
    sink ^= acc;
    return (double)(t1 - t0) / (double)total;
}

static long lookups_for(double ns_per_call, int n)
{
    long total = (long)(3e6 / (ns_per_call > 1 ? ns_per_call : 1));
    total = (total + n - 1) / n * n;
    return total < n ? n : total;
}

/* Keeps the names this loader finds through j->h (and the "_nope" names it does not), warms
 * the lookups up and sizes the batches. */
static void sym_names(struct job *j, struct reply *r)
{
    j->hits = malloc(sizeof(char *) * (size_t)(j->nnames + 1));
    j->misses = malloc(sizeof(char *) * (size_t)(j->nnames + 1));
    for (int i = 0; i < j->nnames; i++) {
        if (ld_sym(j->loader, j->h, j->names[i]))
            j->hits[j->nhits++] = j->names[i];
        if (!ld_sym(j->loader, j->h, j->missing[i]))
            j->misses[j->nmisses++] = j->missing[i];
    }
    clear_error(j->loader);
    if (j->nhits == 0 || j->nmisses == 0)
        return fail(r, NULL, "no usable names");
    lookup_loop(j->loader, j->h, j->hits, j->nhits, j->nhits);
    j->hit_lookups = lookups_for(lookup_loop(j->loader, j->h, j->hits, j->nhits, j->nhits), j->nhits);
    lookup_loop(j->loader, j->h, j->misses, j->nmisses, j->nmisses);
    j->miss_lookups =
        lookups_for(lookup_loop(j->loader, j->h, j->misses, j->nmisses, j->nmisses), j->nmisses);
    r->flag = j->nhits;
    if (j->nhits < j->nnames || j->nmisses < j->nnames)
        snprintf(r->text, sizeof r->text, "%d of %d names not found, %d \"_nope\" names found",
                 j->nnames - j->nhits, j->nnames, j->nnames - j->nmisses);
}

/* 'y': open, then sym_names. */
static void sym_setup(struct job *j, struct reply *r)
{
    clear_error(j->loader);
    j->h = ld_open(j->loader, j->lib, RTLD_NOW);
    if (!j->h)
        return fail(r, NULL, ld_error(j->loader));
    sym_names(j, r);
}

/* 'p': one full open/call/close to warm the page cache; note whether the fixture unloads. */
static void plt_setup(struct job *j, struct reply *r)
{
    clear_error(j->loader);
    void *h = ld_open(j->loader, j->lib, j->flags);
    if (!h)
        return fail(r, NULL, ld_error(j->loader));
    int (*f)(int) = (int (*)(int))ld_sym(j->loader, h, "plt_call_all");
    if (!f)
        return fail(r, "plt_call_all", ld_error(j->loader));
    sink ^= (uintptr_t)f(1);
    ld_close(j->loader, h);
    r->flag = is_mapped(j->path);
}

/* 'P': open, look plt_call_all up, time its first call (200 first calls through PLT slots), close. */
static void plt_sample(struct job *j, struct reply *r)
{
    void *h = ld_open(j->loader, j->lib, j->flags);
    if (!h)
        return fail(r, NULL, ld_error(j->loader));
    int (*f)(int) = (int (*)(int))ld_sym(j->loader, h, "plt_call_all");
    if (!f)
        return fail(r, "plt_call_all", ld_error(j->loader));
    uint64_t t0 = now_ns();
    int v = f(1);
    uint64_t t1 = now_ns();
    sink ^= (uintptr_t)v;
    ld_close(j->loader, h);
    r->v = (double)(t1 - t0);
}

/* One of the threads of a timed sample: `body` does `n` units of work and counts them in `done`. */
struct timed {
    void (*body)(struct timed *);
    struct job *j;
    int index;
    long n, done;
    pthread_barrier_t *go;
    uint64_t start, end;
    char err[ERR_LEN];
};

static void *timed_main(void *arg)
{
    struct timed *t = arg;
    pthread_barrier_wait(t->go);
    t->start = now_ns();
    t->body(t);
    t->end = now_ns();
    return NULL;
}

#define MAX_THREADS 8

/* Runs `body` in `threads` threads released together, `n` units each; r->v is the units done per
 * second over all threads, from the first start to the last end. Returns the units done, or -1
 * (with r failed) when a thread could not start or reported an error. */
static long run_timed(struct job *j, int threads, long n, void (*body)(struct timed *),
                      struct reply *r)
{
    struct timed t[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    pthread_barrier_t go;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    pthread_barrier_init(&go, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        t[i] = (struct timed){body, j, i, n, 0, &go, 0, 0, ""};
        int e = pthread_create(&tid[i], NULL, timed_main, &t[i]);
        if (e != 0) /* the barrier cannot be released any more: give up the worker */
            die("pthread_create: %s", strerror(e));
    }
    pthread_barrier_wait(&go);
    long done = 0;
    uint64_t t0 = UINT64_MAX, t1 = 0;
    const char *err = NULL;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        done += t[i].done;
        t0 = t[i].start < t0 ? t[i].start : t0;
        t1 = t[i].end > t1 ? t[i].end : t1;
        if (t[i].err[0] && !err)
            err = t[i].err;
    }
    pthread_barrier_destroy(&go);
    if (err) {
        fail(r, NULL, err);
        return -1;
    }
    r->v = (double)done * 1e9 / (double)(t1 - t0);
    return done;
}

/* 't': open the C++ plugin and warm its unwind path. */
static void throw_setup(struct job *j, struct reply *r)
{
    clear_error(j->loader);
    j->h = ld_open(j->loader, j->lib, RTLD_NOW);
    if (!j->h)
        return fail(r, NULL, ld_error(j->loader));
    j->throw_catch = (long (*)(long))ld_sym(j->loader, j->h, "bench_throw_catch");
    if (!j->throw_catch)
        return fail(r, "bench_throw_catch", ld_error(j->loader));
    if (j->throw_catch(1000) != 1000)
        return fail(r, NULL, "bench_throw_catch did not catch every exception");
}

static void throw_body(struct timed *t)
{
    t->done = t->j->throw_catch(t->n);
}

/* '1'/'2': throw/catch per second over all threads, from the first start to the last end. */
static void throw_sample(struct job *j, int threads, struct reply *r)
{
    long caught = run_timed(j, threads, j->throws, throw_body, r);
    if (caught >= 0 && caught != j->throws * threads)
        fail(r, NULL, "bench_throw_catch did not catch every exception");
}

/* Threaded cycles: what one thread looks up in a library between its open and its close. */
#define CYCLE_LOOKUPS 10
#define CYCLE_NAMES 64

struct cycled_lib {
    char *hits[CYCLE_NAMES];
    int nhits;
};

/* One operation of the threaded cycles: open (RTLD_NOW), CYCLE_LOOKUPS lookups of names the
 * library exports, close. Thread i starts on library i and goes round all of them `n` times. */
static void cycle_body(struct timed *t)
{
    const struct job *j = t->j;
    uintptr_t acc = 0;
    int pos = 0;
    for (long round = 0; round < t->n; round++) {
        for (int k = 0; k < j->ncycled; k++) {
            int i = (t->index + k) % j->ncycled;
            const struct cycled_lib *c = &j->cyc[i];
            void *h = ld_open(j->loader, j->cycled[i]->name, RTLD_NOW);
            if (!h) {
                snprintf(t->err, sizeof t->err, "%s: %s", j->cycled[i]->name, ld_error(j->loader));
                return;
            }
            for (int s = 0; s < CYCLE_LOOKUPS; s++)
                acc ^= (uintptr_t)ld_sym(j->loader, h, c->hits[(pos + s) % c->nhits]);
            pos += CYCLE_LOOKUPS;
            if (ld_close(j->loader, h) != 0) {
                snprintf(t->err, sizeof t->err, "%s: close: %s", j->cycled[i]->name,
                         ld_error(j->loader));
                return;
            }
            t->done++;
        }
    }
    __atomic_fetch_xor(&sink, acc, __ATOMIC_RELAXED); /* several threads */
}

/* 'k': per library, keep up to CYCLE_NAMES names this loader finds; one round on this thread to
 * warm up and size the samples; list (in r->text) the libraries still mapped after their close. */
static void cycles_setup(struct job *j, struct reply *r)
{
    j->cyc = calloc((size_t)j->ncycled, sizeof *j->cyc);
    for (int i = 0; i < j->ncycled; i++) {
        const struct lib *l = j->cycled[i];
        clear_error(j->loader);
        void *h = ld_open(j->loader, l->name, RTLD_NOW);
        if (!h)
            return fail(r, l->name, ld_error(j->loader));
        for (int k = 0; k < l->nnames && j->cyc[i].nhits < CYCLE_NAMES; k++)
            if (ld_sym(j->loader, h, l->names[k]))
                j->cyc[i].hits[j->cyc[i].nhits++] = l->names[k];
        clear_error(j->loader);
        if (j->cyc[i].nhits == 0)
            return fail(r, l->name, "no exported name found");
        if (ld_close(j->loader, h) != 0)
            return fail(r, l->name, ld_error(j->loader));
    }
    struct reply warm;
    memset(&warm, 0, sizeof warm);
    for (int k = 0; k < 2; k++) /* the second round sizes the samples */
        if (run_timed(j, 1, 1, cycle_body, &warm) < 0)
            return fail(r, NULL, warm.text);
    size_t len = 0;
    for (int i = 0; i < j->ncycled; i++) {
        if (j->cycled[i]->path[0] && is_mapped(j->cycled[i]->path) && len + 2 < sizeof r->text)
            len += (size_t)snprintf(r->text + len, sizeof r->text - len, "%s%s", len ? ", " : "",
                                    j->cycled[i]->name);
        len = len < sizeof r->text ? len : sizeof r->text - 1;
    }
    /* rounds per thread: each sample about 30 ms of work on one thread, at least one round */
    double round_ns = (double)j->ncycled * 1e9 / warm.v;
    long rounds = (long)(30e6 / round_ns / j->threads);
    j->reps = rounds < 1 ? 1 : rounds;
}

static void cycles_sample(struct job *j, struct reply *r)
{
    run_timed(j, j->threads, j->reps, cycle_body, r);
}

static void worker_loop(struct job *j, int in, int out)
{
    for (;;) {
        char cmd;
        if (read_full(in, &cmd, 1) != 1 || cmd == 'q')
            _exit(0);
        struct reply r;
        memset(&r, 0, sizeof r);
        r.ok = 1;
        switch (cmd) {
        case 'c': cycle_setup(j, &r); break;
        case 'C': cycle_sample(j, &r); break;
        case 'y': sym_setup(j, &r); break;
        case 'h': r.v = lookup_loop(j->loader, j->h, j->hits, j->nhits, j->hit_lookups); break;
        case 'm': r.v = lookup_loop(j->loader, j->h, j->misses, j->nmisses, j->miss_lookups); break;
        case 'p': plt_setup(j, &r); break;
        case 'P': plt_sample(j, &r); break;
        case 't': throw_setup(j, &r); break;
        case '1': throw_sample(j, 1, &r); break;
        case '2': throw_sample(j, 2, &r); break;
        case 'k': cycles_setup(j, &r); break;
        case 'K': cycles_sample(j, &r); break;
        default: fail(&r, NULL, "unknown command"); break;
        }
        if (write_all(out, &r, sizeof r) != 0)
            _exit(1);
    }
}

static void worker_start(struct worker *w, struct job *j)
{
    int down[2], up[2];
    if (pipe2(down, O_CLOEXEC) != 0 || pipe2(up, O_CLOEXEC) != 0)
        die("pipe: %s", strerror(errno));
    fflush(NULL);
    w->pid = fork();
    if (w->pid < 0)
        die("fork: %s", strerror(errno));
    if (w->pid == 0) {
        for (int fd = 3; fd < 1024; fd++)
            if (fd != down[0] && fd != up[1])
                close(fd);
        worker_loop(j, down[0], up[1]);
    }
    close(down[0]);
    close(up[1]);
    w->to = down[1];
    w->from = up[0];
}

static void worker_call(struct worker *w, char cmd, struct reply *r)
{
    memset(r, 0, sizeof *r);
    if (w->pid <= 0) {
        fail(r, NULL, "worker not running");
        return;
    }
    if (write_all(w->to, &cmd, 1) == 0 && read_full(w->from, r, sizeof *r) == sizeof *r)
        return;
    int status = 0;
    waitpid(w->pid, &status, 0);
    w->pid = -1;
    if (WIFSIGNALED(status))
        snprintf(r->text, sizeof r->text, "the worker crashed (%s)", strsignal(WTERMSIG(status)));
    else
        snprintf(r->text, sizeof r->text, "the worker exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    r->ok = 0;
}

static void worker_stop(struct worker *w)
{
    if (w->pid > 0) {
        char q = 'q';
        write_all(w->to, &q, 1);
        waitpid(w->pid, NULL, 0);
    }
    close(w->to);
    close(w->from);
    w->pid = -1;
}

/* Two workers, one per loader, driven in alternation. */
struct pair {
    struct worker w[2];
    struct reply setup[2];
};

static void pair_start(struct pair *p, struct job jobs[2], char setup_cmd)
{
    for (int i = 0; i < 2; i++)
        worker_start(&p->w[i], &jobs[i]);
    for (int i = 0; i < 2; i++)
        worker_call(&p->w[i], setup_cmd, &p->setup[i]);
}

static void pair_sample(struct pair *p, char cmd, int samples, struct row *row)
{
    int ok[2];
    for (int i = 0; i < 2; i++) {
        ok[i] = p->setup[i].ok;
        if (!ok[i])
            set_err(&row->s[i], p->setup[i].text);
    }
    for (int k = 0; k < samples; k++) {
        for (int i = 0; i < 2; i++) {
            if (!ok[i])
                continue;
            struct reply r;
            worker_call(&p->w[i], cmd, &r);
            if (!r.ok) {
                set_err(&row->s[i], r.text);
                ok[i] = 0;
            } else {
                push(&row->s[i], r.v);
            }
        }
    }
}

static void pair_stop(struct pair *p)
{
    for (int i = 0; i < 2; i++)
        worker_stop(&p->w[i]);
}

static void make_jobs(struct job jobs[2], const char *lib, const char *path, int flags)
{
    for (int i = 0; i < 2; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].loader = i;
        jobs[i].lib = lib;
        jobs[i].path = path;
        jobs[i].flags = flags;
    }
}

/* ---------------------------------------------------------------- global scope, callgrind children */

/* What bench_measured() runs: one of the functions below, on these. */
struct op {
    int loader;
    void *h;
    char **names;
    int n;
    const char *lib; /* open_close_once, plt_call_once */
    struct lib *libs; /* global_opens */
    int (*call_all)(int);
    long (*throw_catch)(long);
    const char *err;
};

/* Under callgrind, instructions are collected inside each call of this function only, and each
 * call is dumped to a file of its own. */
__attribute__((noinline, used)) void bench_measured(void (*fn)(struct op *), struct op *op)
{
    fn(op);
    __asm__ volatile("" ::: "memory");
}

static void lookup_pass(struct op *op)
{
    uintptr_t acc = 0;
    for (int i = 0; i < op->n; i++)
        acc ^= (uintptr_t)ld_sym(op->loader, op->h, op->names[i]);
    sink ^= acc;
}

static void open_close_once(struct op *op)
{
    void *h = ld_open(op->loader, op->lib, RTLD_NOW);
    if (!h || ld_close(op->loader, h) != 0)
        op->err = ld_error(op->loader);
}

static void plt_call_once(struct op *op)
{
    sink ^= (uintptr_t)op->call_all(1);
}

static void throw_catch_n(struct op *op)
{
    if (op->throw_catch(op->n) != op->n)
        op->err = "bench_throw_catch did not catch every exception";
}

/* RTLD_NOW | RTLD_GLOBAL opens of op->n libraries by name, one after the other. */
static void global_opens(struct op *op)
{
    for (int i = 0; i < op->n && !op->err; i++)
        if (!ld_open(op->loader, op->libs[i].name, RTLD_NOW | RTLD_GLOBAL))
            op->err = ld_error(op->loader);
}

/* NAME PATH pairs of the command line as libraries. */
static int global_libs(int argc, char **argv, struct lib *libs, int cap)
{
    int n = 0;
    for (int i = 0; i + 1 < argc && n < cap; i += 2, n++) {
        libs[n].name = argv[i];
        copy_str(libs[n].path, sizeof libs[n].path, argv[i + 1]);
    }
    return n;
}

/* Lookups through j->h of up to MAX_NAMES names spread over the libraries (and their "_nope"
 * twins), as sym_names keeps them; NULL or what went wrong. */
static const char *lookups_of(struct job *j, struct lib *libs, int n, struct reply *r)
{
    j->names = malloc(sizeof(char *) * MAX_NAMES);
    j->missing = malloc(sizeof(char *) * MAX_NAMES);
    for (int i = 0; i < n; i++) {
        pick_names(&libs[i], MAX_NAMES / n);
        memcpy(j->names + j->nnames, libs[i].names, sizeof(char *) * (size_t)libs[i].nnames);
        memcpy(j->missing + j->nnames, libs[i].missing, sizeof(char *) * (size_t)libs[i].nnames);
        j->nnames += libs[i].nnames;
    }
    memset(r, 0, sizeof *r);
    r->ok = 1;
    sym_names(j, r);
    return r->ok ? NULL : r->text;
}

/* The handle of the global scope, and lookups_of every library through it. */
static const char *global_lookups(struct job *j, struct lib *libs, int n, struct reply *r)
{
    j->h = ld_open(j->loader, NULL, RTLD_NOW);
    if (!j->h)
        return ld_error(j->loader);
    return lookups_of(j, libs, n, r);
}

/* child-global LOADER FD NAME PATH...: the opens, timed together, then ns per hit and per miss
 * through the global scope (median of 3 batches each). */
static int child_global_main(int argc, char **argv)
{
    if (argc < 4)
        die("usage: child-global relink|glibc FD NAME PATH...");
    int fd = atoi(argv[1]);
    struct lib libs[32];
    memset(libs, 0, sizeof libs);
    struct op op = {.loader = loader_of(argv[0]), .libs = libs};
    op.n = global_libs(argc - 2, argv + 2, libs, 32);

    (void)now_ns();
    uint64_t t0 = now_ns();
    global_opens(&op);
    uint64_t t1 = now_ns();
    if (op.err)
        child_report(fd, op.err, 0, NULL);

    struct job j = {.loader = op.loader};
    struct reply r;
    const char *err = global_lookups(&j, libs, op.n, &r);
    if (err)
        child_report(fd, err, 0, NULL);
    struct series hit = {0}, miss = {0};
    for (int k = 0; k < 3; k++) {
        push(&hit, lookup_loop(j.loader, j.h, j.hits, j.nhits, j.hit_lookups));
        push(&miss, lookup_loop(j.loader, j.h, j.misses, j.nmisses, j.miss_lookups));
    }
    const double v[4] = {(double)(t1 - t0), j.nhits, stats_of(&hit).med, stats_of(&miss).med};
    child_report(fd, NULL, 4, v);
}

/* Under callgrind: one round of the hits, one of the misses of j, each its own count. */
static void measure_lookups(struct job *j, double *v, int *nv)
{
    struct op hits = {.loader = j->loader, .h = j->h, .names = j->hits, .n = j->nhits};
    struct op misses = {.loader = j->loader, .h = j->h, .names = j->misses, .n = j->nmisses};
    bench_measured(lookup_pass, &hits);
    bench_measured(lookup_pass, &misses);
    v[(*nv)++] = j->nhits;
    v[(*nv)++] = j->nmisses;
}

/* child-cg LOADER FD WHAT ARGS..., to run under callgrind; reports the count of operations of
 * each bench_measured() call:
 *   lib NAME PATH   open NAME (RTLD_NOW); the lookups of its names (hits), of the names +
 *                   "_nope" (misses); close; one open + close to warm up, then one measured
 *   plt PATH        PATH is libplt.so: one open (RTLD_LAZY) + call + close to warm up, then the
 *                   first call of plt_call_all() after an RTLD_LAZY open, after an RTLD_NOW open
 *   global NAME PATH...  the RTLD_GLOBAL opens, then lookups (hits, misses) through the global
 *                   scope
 *   throw PATH      PATH is libthrow.so: 1000 throw/catch to warm up, then 1000 measured */
static int child_cg_main(int argc, char **argv)
{
    if (argc < 4)
        die("usage: child-cg relink|glibc FD lib|plt|global|throw ARGS...");
    int fd = atoi(argv[1]);
    const char *what = argv[2];
    struct op op = {.loader = loader_of(argv[0])};
    struct job j = {.loader = op.loader};
    struct reply r;
    struct lib libs[32];
    memset(libs, 0, sizeof libs);
    const char *err = NULL;
    double v[4];
    int nv = 0;

    if (strcmp(what, "plt") == 0) {
        const int flags[3] = {RTLD_LAZY, RTLD_LAZY, RTLD_NOW};
        for (int k = 0; k < 3 && !err; k++) {
            void *h = ld_open(op.loader, argv[3], flags[k]);
            op.call_all = h ? (int (*)(int))ld_sym(op.loader, h, "plt_call_all") : NULL;
            int (*slots)(void) = h ? (int (*)(void))ld_sym(op.loader, h, "plt_slot_count") : NULL;
            if (!op.call_all || !slots) {
                err = ld_error(op.loader);
                break;
            }
            if (k == 0) {
                plt_call_once(&op);
            } else {
                bench_measured(plt_call_once, &op);
                v[nv++] = slots();
            }
            ld_close(op.loader, h);
        }
    } else if (strcmp(what, "lib") == 0 && argc == 5) {
        libs[0].name = argv[3];
        copy_str(libs[0].path, sizeof libs[0].path, argv[4]);
        j.h = ld_open(op.loader, libs[0].name, RTLD_NOW);
        if (!j.h)
            child_report(fd, ld_error(op.loader), 0, NULL);
        err = lookups_of(&j, libs, 1, &r);
        if (err)
            child_report(fd, err, 0, NULL);
        measure_lookups(&j, v, &nv);
        ld_close(op.loader, j.h);
        op.lib = libs[0].name;
        open_close_once(&op);
        if (!op.err)
            bench_measured(open_close_once, &op);
        err = op.err;
        v[nv++] = 1;
    } else if (strcmp(what, "global") == 0) {
        op.libs = libs;
        op.n = global_libs(argc - 3, argv + 3, libs, 32);
        bench_measured(global_opens, &op);
        v[nv++] = 1;
        err = op.err ? op.err : global_lookups(&j, libs, op.n, &r);
        if (!err)
            measure_lookups(&j, v, &nv);
    } else if (strcmp(what, "throw") == 0) {
        void *h = ld_open(op.loader, argv[3], RTLD_NOW);
        op.throw_catch = h ? (long (*)(long))ld_sym(op.loader, h, "bench_throw_catch") : NULL;
        if (!op.throw_catch)
            child_report(fd, ld_error(op.loader), 0, NULL);
        op.n = 1000;
        throw_catch_n(&op);
        if (!op.err)
            bench_measured(throw_catch_n, &op);
        err = op.err;
        v[nv++] = op.n;
    } else {
        die("child-cg: unknown operation %s", what);
    }
    child_report(fd, err, nv, v);
}

/* ---------------------------------------------------------------- the run */

static const char *const DEFAULT_LIBS[] = {
    "libz.so.1",      "libsqlite3.so.0",      "libstdc++.so.6",  "libcrypto.so.3",
    "libicuuc.so.72", "libpython3.11.so.1.0", "libLLVM-14.so.1",
};

static struct table t_open_now = {
    .title = "1. First open in a fresh process, RTLD_NOW",
    .first_col = "library",
    .note = "One open per freshly exec'd process (dependencies included; relink's first call also "
            "builds its view of the host's objects).",
    .unit = U_TIME};
static struct table t_open_lazy = {
    .title = "1b. First open in a fresh process, RTLD_LAZY",
    .first_col = "library",
    .note = "Function (PLT) slots are bound at their first call; data references at open.",
    .unit = U_TIME};
static struct table t_cycle = {
    .title = "2. Steady open + close cycle (RTLD_NOW), per cycle",
    .first_col = "library",
    .unit = U_TIME};
static struct table t_hit = {
    .title = "3. Symbol lookup, hits (rl_sym vs dlsym), per call",
    .first_col = "library",
    .extra_col = "names",
    .note = "Exported FUNC/OBJECT names of the library's .dynsym (up to 1000, spread over the "
            "sorted list), looked up round robin on one handle.",
    .unit = U_TIME};
static struct table t_miss = {
    .title = "3b. Symbol lookup, misses (each name + \"_nope\"), per call",
    .first_col = "library",
    .extra_col = "names",
    .unit = U_TIME};
static struct table t_plt = {
    .title = "4. First call of 200 functions through fresh PLT slots (libplt.so → libplt_dep.so)",
    .first_col = "open mode",
    .note = "Time of one call of plt_call_all() right after the open: 200 first calls, each "
            "through a distinct PLT slot. The fixture is linked without -z now.",
    .unit = U_TIME};
static struct table t_rss = {
    .title = "5. Resident memory added by the first open (RTLD_NOW)",
    .first_col = "library",
    .note = "RSS from /proc/self/statm right before and after the open, in the same fresh "
            "processes as table 1.",
    .unit = U_KIB};
static struct table t_throw = {
    .title = "6. C++ throw/catch throughput through a plugin (libthrow.so), all threads together",
    .first_col = "threads",
    .note = "Higher is better here: a ratio above 1 means relink's process throws faster.",
    .unit = U_RATE};
static struct table t_cg = {
    .title = "7. Instructions of one open (RTLD_NOW) under callgrind",
    .first_col = "library",
    .note = "Total Ir collected inside bench_open_once() (valgrind --tool=callgrind "
            "--toggle-collect), one fresh process per sample.",
    .unit = U_COUNT};

static struct table t_threads = {
    .title = "2b. Threads opening, looking up and closing different libraries at once (RTLD_NOW), "
             "whole process",
    .first_col = "threads",
    .unit = U_RATE};
static struct table t_global = {
    .title = "3c. RTLD_GLOBAL opens of every library, then lookups through the global scope "
             "(rl_open(NULL) vs dlopen(NULL)), in a fresh process",
    .first_col = "measure",
    .extra_col = "names",
    .note = "One freshly exec'd process per sample opens the libraries by name with RTLD_NOW | "
            "RTLD_GLOBAL one after the other (first row: the time of all the opens), then takes "
            "the global scope's handle (rl_open(NULL, RL_NOW) / dlopen(NULL, RTLD_NOW)) and looks "
            "names up through it, round robin: up to 1000 exported names spread over the "
            "libraries (hits) and the same names + \"_nope\" (misses), per call, the median of "
            "3 batches of ~3 ms per process. The scope starts with the program and its "
            "dependencies (libc, librelink), then the libraries in their opening order; a miss "
            "goes through all of them.",
    .unit = U_TIME};
static struct table t_cg_lazy = {
    .title = "7b. Instructions of one open (RTLD_LAZY) under callgrind",
    .first_col = "library",
    .note = "As table 7, with RTLD_LAZY (table 1b).",
    .unit = U_COUNT};
static struct table t_cg_cycle = {
    .title = "7c. Instructions of one open + close cycle (RTLD_NOW), under callgrind",
    .first_col = "library",
    .note = "The steady cycle of table 2: after the lookups of 7d/7e the handle is closed, one "
            "cycle warms up, the next is counted. Tables 7c-7h collect Ir inside each call of "
            "bench_measured() only (--toggle-collect, --dump-after), one process per loader for "
            "7c-7e of a library and for each of 7f, 7g, 7h.",
    .unit = U_COUNT};
static struct table t_cg_hit = {
    .title = "7d. Instructions per symbol lookup, hits (rl_sym vs dlsym), under callgrind",
    .first_col = "library",
    .note = "One round of the names of table 3 (after its warm-up rounds) divided by their "
            "count.",
    .unit = U_COUNT};
static struct table t_cg_miss = {
    .title = "7e. Instructions per symbol lookup, misses (each name + \"_nope\"), under callgrind",
    .first_col = "library",
    .unit = U_COUNT};
static struct table t_cg_global = {
    .title = "7f. Instructions of the RTLD_GLOBAL opens and of lookups through the global scope "
             "(table 3c), under callgrind",
    .first_col = "measure",
    .note = "Opens: all of them together; lookups: one round of the names of table 3c divided by "
            "their count.",
    .unit = U_COUNT};
static struct table t_cg_plt = {
    .title = "7g. Instructions per first call through a fresh PLT slot (libplt.so), under "
             "callgrind",
    .first_col = "open mode",
    .note = "Ir of plt_call_all() right after the open, divided by its 200 calls, after one "
            "open + call + close to warm up (as table 4). The RTLD_NOW row is the cost of the "
            "calls themselves, every slot already bound.",
    .unit = U_COUNT};
static struct table t_cg_throw = {
    .title = "7h. Instructions per C++ throw/catch through a plugin (libthrow.so), one thread, "
             "under callgrind",
    .first_col = "threads",
    .note = "1000 throw/catch of table 6 after 1000 to warm up, divided by 1000.",
    .unit = U_COUNT};

static struct table t_link = {
    .title = "8. Linking objects and archives at run time (RTLD_NOW), in a fresh process",
    .first_col = "inputs",
    .extra_col = "glibc side",
    .note = "relink: one rl_link of the inputs. glibc: what a user can do without relink, run the "
            "compiler driver to link the same inputs into a shared library (cc -shared "
            "-Wl,-Bsymbolic: the archives hold -fPIE code) and dlopen it; and, for reference, "
            "dlopen of the distribution's prebuilt shared library. Same relink samples in both "
            "rows of an input set. Warm unit cache rows: rl_link with rl_open_opts.cache_dir "
            "holding the unit (one run wrote it before the samples), which maps it instead of "
            "linking, against dlopen of the prebuilt library.",
    .unit = U_TIME};

/* One sample of dlopen of `prebuilt` in a fresh process into `s` (sample `k`; below 0: not
 * kept), while `*ok`; an error ends them. */
static void sample_prebuilt(struct series *s, const char *prebuilt, int k, int *ok)
{
    struct open_result r;
    if (!*ok)
        return;
    run_child_open(DL, RTLD_NOW, prebuilt, NULL, &r);
    if (!r.ok) {
        set_err(s, r.err);
        *ok = 0;
    } else if (k >= 0) {
        push(s, r.v[0]);
    }
}

/* Table 8: rl_link of `inputs` against cc -shared + dlopen and against dlopen of `prebuilt`. */
static void link_rows(const char *label, char **inputs, const char *cc, const char *fixtures,
                      const char *prebuilt, int samples)
{
    struct row *ld = add_row(&t_link, label, "cc -shared + dlopen");
    struct row *pre = add_row(&t_link, label, prebuilt);
    char out_so[PATH_MAX];
    snprintf(out_so, sizeof out_so, "%s/linked-%d.so", fixtures, (int)getpid());
    char *tail[24] = {(char *)cc, out_so};
    int n = 2;
    for (int i = 0; inputs[i] && n < 23; i++)
        tail[n++] = inputs[i];
    tail[n] = NULL;
    struct open_result r;
    int ok[2] = {1, 1}, ok_pre = 1;
    for (int k = -1; k < samples; k++) { /* k = -1: discarded (page cache, errors) */
        for (int l = 0; l < 2; l++) {
            if (!ok[l])
                continue;
            run_child("child-link", l, tail, NULL, &r);
            if (!r.ok) {
                set_err(&ld->s[l], r.err);
                if (l == RL)
                    set_err(&pre->s[RL], r.err);
                ok[l] = 0;
            } else if (k >= 0) {
                push(&ld->s[l], r.v[0]);
                if (l == RL)
                    push(&pre->s[RL], r.v[0]);
            }
        }
        sample_prebuilt(&pre->s[DL], prebuilt, k, &ok_pre);
    }
    unlink(out_so);

    /* rl_link with a warm unit cache (one run writes the entry first) against dlopen of the
     * prebuilt library, sample by sample. */
    char warm_label[128];
    snprintf(warm_label, sizeof warm_label, "%s, warm unit cache", label);
    struct row *warm = add_row(&t_link, warm_label, prebuilt);
    char cache[PATH_MAX], arg[PATH_MAX + 16];
    snprintf(cache, sizeof cache, "%s/unit-cache-%d", fixtures, (int)getpid());
    snprintf(arg, sizeof arg, "--cache=%s", cache);
    if (mkdir(cache, 0700) != 0)
        die("mkdir %s: %s", cache, strerror(errno));
    n = 2;
    tail[n++] = arg;
    for (int i = 0; inputs[i] && n < 23; i++)
        tail[n++] = inputs[i];
    tail[n] = NULL;
    /* Entries are written for inputs unchanged for over a second: the object was just built. */
    sleep(2);
    int ok_warm = 1;
    ok_pre = 1;
    for (int k = -2; k < samples; k++) { /* k = -2: writes the entry; -1: discarded */
        if (ok_warm) {
            run_child("child-link", RL, tail, NULL, &r);
            if (!r.ok) {
                set_err(&warm->s[RL], r.err);
                ok_warm = 0;
            } else if (k >= 0) {
                push(&warm->s[RL], r.v[0]);
            }
        }
        if (k >= -1)
            sample_prebuilt(&warm->s[DL], prebuilt, k, &ok_pre);
    }
    DIR *d = opendir(cache);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] != '.') {
            char entry[2 * PATH_MAX];
            snprintf(entry, sizeof entry, "%s/%s", cache, e->d_name);
            unlink(entry);
        }
    }
    if (d)
        closedir(d);
    rmdir(cache);
}

/* Table 3c: RTLD_GLOBAL opens of `libs` (NAME PATH pairs) then lookups through the global scope,
 * one fresh process per sample; `label` names the row of the opens. */
static void global_rows(char *const *libs, const char *label, int samples)
{
    struct row *open_row = add_row(&t_global, label, "");
    struct row *hit = add_row(&t_global, "lookup hit, per call", "");
    struct row *miss = add_row(&t_global, "lookup miss, per call", "");
    int found[2] = {0, 0}, ok[2] = {1, 1};
    for (int k = -1; k < samples; k++) { /* k = -1: discarded (page cache, errors) */
        for (int l = 0; l < 2; l++) {
            struct open_result r;
            if (!ok[l])
                continue;
            run_child("child-global", l, libs, NULL, &r);
            if (!r.ok) {
                set_err(&open_row->s[l], r.err);
                set_err(&hit->s[l], r.err);
                set_err(&miss->s[l], r.err);
                ok[l] = 0;
            } else if (k >= 0) {
                push(&open_row->s[l], r.v[0]);
                found[l] = (int)r.v[1];
                push(&hit->s[l], r.v[2]);
                push(&miss->s[l], r.v[3]);
            }
        }
    }
    if (found[RL] == found[DL])
        snprintf(hit->extra, sizeof hit->extra, "%d", found[RL]);
    else
        snprintf(hit->extra, sizeof hit->extra, "%d / %d", found[RL], found[DL]);
}

static void progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void read_load(char *out, size_t cap)
{
    copy_str(out, cap, "unknown");
    FILE *f = fopen("/proc/loadavg", "re");
    if (!f)
        return;
    double a, b, c;
    if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(out, cap, "%.2f, %.2f, %.2f", a, b, c);
    fclose(f);
}

static void write_header(FILE *f, int quick, const char *const *libs, int nlibs)
{
    struct utsname u;
    uname(&u);
    char cpu[256] = "unknown CPU";
    FILE *ci = fopen("/proc/cpuinfo", "re");
    if (ci) {
        char line[512];
        while (fgets(line, sizeof line, ci)) {
            if (strncmp(line, "model name", 10) == 0 && strchr(line, ':')) {
                char *s = strchr(line, ':') + 1;
                while (*s == ' ')
                    s++;
                s[strcspn(s, "\n")] = 0;
                copy_str(cpu, sizeof cpu, s);
                break;
            }
        }
        fclose(ci);
    }
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    fprintf(f, "# relink vs glibc: benchmark report\n\n");
    fprintf(f, "- date: %s\n- machine: %s, %ld CPUs, Linux %s %s\n- glibc: %s\n", date, cpu,
            sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine, gnu_get_libc_version());
    fprintf(f, "- libraries:");
    for (int i = 0; i < nlibs; i++)
        fprintf(f, " %s", libs[i]);
    fprintf(f, "\n- sampling: relink and glibc alternate sample by sample; each cell is the median "
               "(min–max) of its samples; the ratio is relink's median over glibc's median%s\n",
            quick ? "; QUICK mode (few samples)" : "");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "child-open") == 0)
        return child_open_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "child-link") == 0)
        return child_link_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "child-global") == 0)
        return child_global_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "child-cg") == 0)
        return child_cg_main(argc - 2, argv + 2);
    if (argc < 2 || strcmp(argv[1], "run") != 0)
        die("usage: relink-bench run --fixtures DIR --report FILE [--cc CC] [--callgrind] [--quick] "
            "[--link] [--lib NAME]...\n       relink-bench child-open relink|glibc FLAGS LIB FD"
            "\n       relink-bench child-link relink|glibc FD CC OUT [--cache=DIR] INPUT...");

    const char *fixtures = NULL, *report = NULL, *cc = "cc";
    int callgrind = 0, quick = 0, link_arg = 0;
    const char *libs_arg[32];
    int nlibs = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc)
            fixtures = argv[++i];
        else if (strcmp(argv[i], "--report") == 0 && i + 1 < argc)
            report = argv[++i];
        else if (strcmp(argv[i], "--cc") == 0 && i + 1 < argc)
            cc = argv[++i];
        else if (strcmp(argv[i], "--callgrind") == 0)
            callgrind = 1;
        else if (strcmp(argv[i], "--quick") == 0)
            quick = 1;
        else if (strcmp(argv[i], "--lib") == 0 && i + 1 < argc && nlibs < 32)
            libs_arg[nlibs++] = argv[++i];
        else if (strcmp(argv[i], "--link") == 0)
            link_arg = 1;
        else
            die("unknown argument %s", argv[i]);
    }
    if (!fixtures)
        die("--fixtures DIR is required");
    int all = nlibs == 0;
    const char *const *libnames = nlibs ? libs_arg : DEFAULT_LIBS;
    if (!nlibs)
        nlibs = (int)(sizeof DEFAULT_LIBS / sizeof DEFAULT_LIBS[0]);

    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    if (n <= 0)
        die("cannot read /proc/self/exe");
    self_exe[n] = 0;

    char plt_path[PATH_MAX], throw_path[PATH_MAX], plt_real[PATH_MAX], cgdir[PATH_MAX];
    snprintf(plt_path, sizeof plt_path, "%s/libplt.so", fixtures);
    snprintf(throw_path, sizeof throw_path, "%s/libthrow.so", fixtures);
    snprintf(cgdir, sizeof cgdir, "%s/callgrind", fixtures);
    if (!realpath(plt_path, plt_real) || access(throw_path, R_OK) != 0)
        die("fixtures missing in %s (build them first: bench/run.sh)", fixtures);

    /* Sample counts: first opens per loader per mode; steady-state samples are batches. */
    const int open_samples = quick ? 5 : 101, open_samples_big = quick ? 3 : 31;
    const int steady_samples = quick ? 5 : 41, plt_samples = quick ? 5 : 101;
    const int throw_samples = quick ? 3 : 21, cg_samples = quick ? 1 : 3, cg_samples_big = 1;
    const int link_samples = quick ? 3 : 21, thread_samples = quick ? 3 : 21;
    const int global_samples = quick ? 3 : 21;
    const long throws_per_thread = quick ? 5000 : 20000;
    char load_start[64];
    read_load(load_start, sizeof load_start);

    struct lib *libs = calloc((size_t)nlibs, sizeof *libs);
    for (int i = 0; i < nlibs; i++) {
        libs[i].name = libnames[i];
        if (resolve_lib(libs[i].name, libs[i].path, sizeof libs[i].path))
            pick_names(&libs[i], MAX_NAMES);
        if (libs[i].path[0] && is_mapped(libs[i].path))
            die("%s is already mapped in the driver; it must stay clean", libs[i].name);
    }

    uint64_t start = now_ns();

    /* 1 and 5: fresh processes. */
    for (int i = 0; i < nlibs; i++) {
        struct lib *l = &libs[i];
        struct row *now = add_row(&t_open_now, l->name, NULL);
        struct row *lazy = add_row(&t_open_lazy, l->name, NULL);
        struct row *rss = add_row(&t_rss, l->name, NULL);
        if (!l->path[0]) {
            for (int k = 0; k < 2; k++) {
                set_err(&now->s[k], "not installed");
                set_err(&lazy->s[k], "not installed");
                set_err(&rss->s[k], "not installed");
            }
            continue;
        }
        int big = strstr(l->name, "LLVM") != NULL;
        progress("first opens: %s", l->name);
        first_opens(l, big ? open_samples_big : open_samples, now, lazy, rss);
    }

    for (int i = 0; i < nlibs; i++)
        if (libs[i].path[0] && is_mapped(libs[i].path))
            die("%s got mapped in the driver", libs[i].name);

    /* 2 and 3: steady state, one worker per loader. */
    for (int i = 0; i < nlibs; i++) {
        struct lib *l = &libs[i];
        char names[32];
        snprintf(names, sizeof names, "%d", l->nnames);
        struct row *cyc = add_row(&t_cycle, l->name, NULL);
        struct row *hit = add_row(&t_hit, l->name, names);
        struct row *miss = add_row(&t_miss, l->name, names);
        if (!l->path[0]) {
            for (int k = 0; k < 2; k++) {
                set_err(&cyc->s[k], "not installed");
                set_err(&hit->s[k], "not installed");
                set_err(&miss->s[k], "not installed");
            }
            continue;
        }
        progress("open/close cycles and lookups: %s", l->name);
        struct job jobs[2];
        struct pair p;
        make_jobs(jobs, l->name, l->path, RTLD_NOW);
        pair_start(&p, jobs, 'c');
        for (int k = 0; k < 2; k++)
            cyc->s[k].refcount_only = p.setup[k].ok && p.setup[k].flag;
        pair_sample(&p, 'C', steady_samples, cyc);
        pair_stop(&p);

        make_jobs(jobs, l->name, l->path, RTLD_NOW);
        for (int k = 0; k < 2; k++) {
            jobs[k].names = l->names;
            jobs[k].missing = l->missing;
            jobs[k].nnames = l->nnames;
        }
        if (l->nnames == 0) {
            for (int k = 0; k < 2; k++) {
                set_err(&hit->s[k], "no exported names found in .dynsym");
                set_err(&miss->s[k], "no exported names found in .dynsym");
            }
            continue;
        }
        pair_start(&p, jobs, 'y');
        for (int k = 0; k < 2; k++) {
            if (p.setup[k].ok && p.setup[k].text[0])
                progress("  %s: %s", LOADER[k], p.setup[k].text);
        }
        if (p.setup[RL].ok && p.setup[DL].ok && p.setup[RL].flag != p.setup[DL].flag)
            snprintf(hit->extra, sizeof hit->extra, "%d / %d", p.setup[RL].flag, p.setup[DL].flag);
        pair_sample(&p, 'h', steady_samples, hit);
        pair_sample(&p, 'm', steady_samples, miss);
        pair_stop(&p);
    }

    /* 2b: threads going round the libraries, plus one more, each starting on its own. */
    struct lib extra = {.name = "libgmp.so.10"};
    struct lib **cycled = calloc((size_t)nlibs + 1, sizeof *cycled);
    int ncycled = 0;
    for (int i = 0; i < nlibs; i++)
        if (libs[i].nnames > 0)
            cycled[ncycled++] = &libs[i];
    int have_extra = resolve_lib(extra.name, extra.path, sizeof extra.path) &&
                     !is_mapped(extra.path);
    for (int i = 0; i < nlibs && have_extra; i++)
        have_extra = strcmp(libs[i].path, extra.path) != 0;
    if (have_extra) {
        pick_names(&extra, MAX_NAMES);
        if (extra.nnames > 0)
            cycled[ncycled++] = &extra;
    }
    static char threads_note[2048];
    {
        size_t len = (size_t)snprintf(
            threads_note, sizeof threads_note,
            "One operation: open (RTLD_NOW) by name, %d lookups of names the library exports, "
            "close. Thread i starts on library i of",
            CYCLE_LOOKUPS);
        for (int i = 0; i < ncycled && len < sizeof threads_note; i++)
            len += (size_t)snprintf(threads_note + len, sizeof threads_note - len, "%s %s",
                                    i ? "," : "", cycled[i]->name);
        t_threads.note = threads_note;
    }
    static const int thread_counts[] = {1, 2, 8};
    for (size_t t = 0; t < sizeof thread_counts / sizeof thread_counts[0] && ncycled > 0; t++) {
        char label[16];
        snprintf(label, sizeof label, "%d", thread_counts[t]);
        struct row *row = add_row(&t_threads, label, NULL);
        progress("threads cycling through %d libraries: %d", ncycled, thread_counts[t]);
        struct job jobs[2];
        struct pair p;
        make_jobs(jobs, NULL, NULL, RTLD_NOW);
        for (int k = 0; k < 2; k++) {
            jobs[k].cycled = cycled;
            jobs[k].ncycled = ncycled;
            jobs[k].threads = thread_counts[t];
        }
        pair_start(&p, jobs, 'k');
        if (t == 0) {
            size_t len = strlen(threads_note);
            len += (size_t)snprintf(threads_note + len, sizeof threads_note - len,
                                    " and goes round them all; the throughput counts operations "
                                    "of all threads, from the first start to the last end "
                                    "(higher is better). Still mapped after their close, so "
                                    "their cycle only counted a reference (refcount only):");
            for (int k = 0; k < 2 && len < sizeof threads_note; k++)
                len += (size_t)snprintf(threads_note + len, sizeof threads_note - len,
                                        " %s: %s%s", LOADER[k],
                                        !p.setup[k].ok ? "(failed)"
                                        : p.setup[k].text[0] ? p.setup[k].text
                                                             : "none",
                                        k ? "." : ";");
        }
        pair_sample(&p, 'K', thread_samples, row);
        pair_stop(&p);
    }

    /* 3c: RTLD_GLOBAL opens of every library, then lookups through the global scope. */
    char **global_args = calloc((size_t)nlibs * 2 + 1, sizeof *global_args);
    int nglobal = 0;
    for (int i = 0; i < nlibs; i++) {
        if (libs[i].path[0]) {
            global_args[2 * nglobal] = (char *)libs[i].name;
            global_args[2 * nglobal + 1] = libs[i].path;
            nglobal++;
        }
    }
    char global_label[64];
    snprintf(global_label, sizeof global_label, "RTLD_GLOBAL opens (%d %s)", nglobal,
             nglobal == 1 ? "library" : "libraries");
    if (nglobal > 0) {
        progress("RTLD_GLOBAL opens and lookups through the global scope");
        global_rows(global_args, global_label, global_samples);
    }

    /* 4: lazily vs eagerly bound PLT slots. */
    progress("PLT first calls");
    static const struct {
        const char *label;
        int flags;
    } plt_modes[] = {{"RTLD_LAZY", RTLD_LAZY}, {"RTLD_NOW", RTLD_NOW}};
    for (size_t m = 0; m < 2; m++) {
        struct row *row = add_row(&t_plt, plt_modes[m].label, NULL);
        struct job jobs[2];
        struct pair p;
        make_jobs(jobs, plt_path, plt_real, plt_modes[m].flags);
        pair_start(&p, jobs, 'p');
        for (int k = 0; k < 2; k++)
            row->s[k].refcount_only = p.setup[k].ok && p.setup[k].flag;
        pair_sample(&p, 'P', plt_samples, row);
        pair_stop(&p);
    }

    /* 6: C++ exceptions through a plugin. */
    progress("C++ throw/catch");
    {
        struct job jobs[2];
        struct pair p;
        make_jobs(jobs, throw_path, throw_path, RTLD_NOW);
        jobs[0].throws = jobs[1].throws = throws_per_thread;
        pair_start(&p, jobs, 't');
        pair_sample(&p, '1', throw_samples, add_row(&t_throw, "1", NULL));
        pair_sample(&p, '2', throw_samples, add_row(&t_throw, "2", NULL));
        pair_stop(&p);
    }

    /* 8: linking objects and archives. */
    if (all || link_arg) {
        char sq_obj[PATH_MAX];
        snprintf(sq_obj, sizeof sq_obj, "%s/link_sqlite.o", fixtures);
        char *sqlite[] = {sq_obj, "/usr/lib/x86_64-linux-gnu/libsqlite3.a", "/lib/x86_64-linux-gnu/libm.so.6", NULL};
        char *zlib[] = {"+/usr/lib/x86_64-linux-gnu/libz.a", NULL};
        progress("rl_link vs cc -shared + dlopen: object + libsqlite3.a");
        link_rows("link_sqlite.o + libsqlite3.a", sqlite, cc, fixtures, "libsqlite3.so.0", link_samples);
        progress("rl_link vs cc -shared + dlopen: libz.a (every member)");
        link_rows("libz.a (every member)", zlib, cc, fixtures, "libz.so.1", link_samples);
    }

    /* 7: instruction counts. */
    if (callgrind) {
        mkdir(cgdir, 0755);
        for (int i = 0; i < nlibs; i++) {
            struct lib *l = &libs[i];
            struct row *row = add_row(&t_cg, l->name, NULL);
            struct row *lazy = add_row(&t_cg_lazy, l->name, NULL);
            if (!l->path[0]) {
                for (int k = 0; k < 2; k++) {
                    set_err(&row->s[k], "not installed");
                    set_err(&lazy->s[k], "not installed");
                }
                continue;
            }
            progress("callgrind: %s", l->name);
            int samples = strstr(l->name, "LLVM") ? cg_samples_big : cg_samples;
            callgrind_opens(l, RTLD_NOW, cgdir, samples, row);
            callgrind_opens(l, RTLD_LAZY, cgdir, 1, lazy);
        }
        /* 7b, 7c, 7d: lookups and the steady cycle, one process per library and loader. */
        for (int i = 0; i < nlibs; i++) {
            struct lib *l = &libs[i];
            struct row *rows[3] = {add_row(&t_cg_hit, l->name, NULL),
                                   add_row(&t_cg_miss, l->name, NULL),
                                   add_row(&t_cg_cycle, l->name, NULL)};
            for (int k = 0; k < 2; k++)
                rows[2]->s[k].refcount_only = t_cycle.rows[i].s[k].refcount_only;
            if (!l->path[0] || l->nnames == 0) {
                for (int r = 0; r < 3; r++)
                    for (int k = 0; k < 2; k++)
                        set_err(&rows[r]->s[k], l->path[0] ? "no exported names" : "not installed");
                continue;
            }
            progress("callgrind: lookups and open + close, %s", l->name);
            char *tail[] = {"lib", (char *)l->name, l->path, NULL};
            callgrind_rows("child-cg", tail, l->name, cgdir, rows, 3);
        }
        progress("callgrind: PLT first calls");
        struct row *plt_rows[2] = {add_row(&t_cg_plt, "RTLD_LAZY", NULL),
                                   add_row(&t_cg_plt, "RTLD_NOW", NULL)};
        char *plt_tail[] = {"plt", plt_path, NULL};
        callgrind_rows("child-cg", plt_tail, "plt", cgdir, plt_rows, 2);
        progress("callgrind: C++ throw/catch");
        struct row *throw_row = add_row(&t_cg_throw, "1", NULL);
        char *throw_tail[] = {"throw", throw_path, NULL};
        callgrind_rows("child-cg", throw_tail, "throw", cgdir, &throw_row, 1);
        if (nglobal > 0) {
            progress("callgrind: RTLD_GLOBAL opens and lookups through the global scope");
            char **tail = calloc((size_t)nglobal * 2 + 2, sizeof *tail);
            tail[0] = "global";
            memcpy(tail + 1, global_args, sizeof *tail * (size_t)nglobal * 2);
            struct row *rows[3] = {add_row(&t_cg_global, global_label, NULL),
                                   add_row(&t_cg_global, "lookup hit, per call", NULL),
                                   add_row(&t_cg_global, "lookup miss, per call", NULL)};
            callgrind_rows("child-cg", tail, "global", cgdir, rows, 3);
        }
    }

    double secs = (double)(now_ns() - start) / 1e9;

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    char load_end[64];
    read_load(load_end, sizeof load_end);
    write_header(f, quick, libnames, nlibs);
    fprintf(f, "- load average (1, 5, 15 min) before: %s; after: %s\n", load_start, load_end);
    fprintf(f, "- samples per loader: first opens %d (%d for LLVM), steady state %d batches of "
               "~2–3 ms each, PLT %d, throw/catch %d × %ld per thread",
            open_samples, open_samples_big, steady_samples, plt_samples, throw_samples,
            throws_per_thread);
    if (t_threads.nrows)
        fprintf(f, ", threads %d batches", thread_samples);
    if (t_global.nrows)
        fprintf(f, ", global scope %d", global_samples);
    if (t_link.nrows)
        fprintf(f, ", linking %d", link_samples);
    if (callgrind)
        fprintf(f, ", callgrind %d (%d for LLVM) for table 7, 1 for 7b–7h", cg_samples,
                cg_samples_big);
    fputs("\n\n", f);
    const struct table *tables[] = {
        &t_open_now, &t_open_lazy, &t_cycle,  &t_threads, &t_hit,       &t_miss,
        &t_global,   &t_plt,       &t_rss,    &t_throw,   &t_cg,        &t_cg_lazy,
        &t_cg_cycle, &t_cg_hit,    &t_cg_miss, &t_cg_global, &t_cg_plt, &t_cg_throw,
        &t_link};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (tables[i]->nrows > 0)
            render_table(f, tables[i]);
    if (!callgrind)
        fputs("Instruction counts (callgrind) were not measured: run with CALLGRIND=1.\n\n", f);
    fprintf(f, "Measurement time: %.1f s.\n", secs);
    fclose(f);

    fputs(text, stdout);
    fflush(stdout);
    if (report) {
        FILE *out = fopen(report, "we");
        if (!out || fputs(text, out) < 0 || fclose(out) != 0)
            die("cannot write %s", report);
    }
    free(text);
    return 0;
}
