/* An unmodified program (it knows nothing of relink) built with -no-pie, run with
 * librelink_preload.so preloaded: it opens plugins, wraps malloc through dlsym(RTLD_NEXT),
 * walks dl_iterate_phdr, throws a C++ exception through plugins and takes a backtrace across
 * them, and uses dlopen from several threads, after fork and after exec.
 *
 *   preload_program DIR     (DIR holds the plugins; libpl_nested.so is in DIR/sub)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int checks;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fflush(stdout);                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n  ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, "\n");                                                    \
            exit(1);                                                                  \
        }                                                                             \
        __atomic_fetch_add(&checks, 1, __ATOMIC_RELAXED);                             \
    } while (0)

/* ---- a malloc wrapper, as profilers and leak checkers write them ---- */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static unsigned long wrapped_calls;

/* Allocations made while the real functions are being looked up come from here. */
static char arena[4 << 20] __attribute__((aligned(16)));
static size_t arena_used;
static __thread int looking_up;

static int in_arena(void *p) { return (char *)p >= arena && (char *)p < arena + sizeof arena; }

static void *arena_alloc(size_t n)
{
    size_t at = __atomic_fetch_add(&arena_used, (n + 15) & ~(size_t)15, __ATOMIC_RELAXED);
    if (at + n > sizeof arena)
        abort();
    return arena + at;
}

static void lookup_real(void)
{
    if (real_malloc != NULL)
        return;
    looking_up = 1;
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    void *m = dlsym(RTLD_NEXT, "malloc");
    looking_up = 0;
    __atomic_store_n(&real_malloc, (void *(*)(size_t))m, __ATOMIC_RELEASE);
}

void *malloc(size_t n)
{
    if (looking_up)
        return arena_alloc(n);
    lookup_real();
    __atomic_fetch_add(&wrapped_calls, 1, __ATOMIC_RELAXED);
    return real_malloc(n);
}

void free(void *p)
{
    if (p == NULL || in_arena(p))
        return;
    lookup_real();
    real_free(p);
}

void *calloc(size_t n, size_t size)
{
    if (looking_up) {
        void *p = arena_alloc(n * size);
        memset(p, 0, n * size);
        return p;
    }
    lookup_real();
    return real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    if (looking_up || in_arena(p)) {
        void *q = looking_up ? arena_alloc(n) : malloc(n);
        if (p != NULL)
            memcpy(q, p, n); /* the arena is large enough to read past a small block */
        return q;
    }
    lookup_real();
    return real_realloc(p, n);
}

/* ---- helpers ---- */

static const char *dir;

static char *path_of(const char *name)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

static void *must_open(const char *name, int flags)
{
    void *h = dlopen(path_of(name), flags);
    CHECK(h != NULL, "dlopen(%s): %s", name, dlerror());
    return h;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Whether the system loader's own list holds an object whose name ends with `suffix`. */
static int on_glibc_list(const char *suffix)
{
    for (struct link_map *l = _r_debug.r_map; l != NULL; l = l->l_next)
        if (l->l_name != NULL && ends_with(l->l_name, suffix))
            return 1;
    return 0;
}

struct walk {
    int objects, first_is_program, saw_plugin, saw_libc;
    unsigned long long adds;
};

static int walk_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    struct walk *w = data;
    if (w->objects == 0)
        w->first_is_program = info->dlpi_name != NULL && info->dlpi_name[0] == '\0' && info->dlpi_addr == 0;
    w->objects++;
    if (info->dlpi_name != NULL && ends_with(info->dlpi_name, "/libpl_plugin.so")) {
        int load = 0;
        for (int i = 0; i < info->dlpi_phnum; i++)
            load += info->dlpi_phdr[i].p_type == PT_LOAD;
        w->saw_plugin = load > 0;
    }
    if (info->dlpi_name != NULL && strstr(info->dlpi_name, "libc.so.6") != NULL)
        w->saw_libc = 1;
    if (size >= sizeof *info)
        w->adds = info->dlpi_adds;
    return 0;
}

/* ---- C++ exceptions and backtraces through plugins ---- */

static int (*pl_throw)(int);
static int (*pl_backtrace)(void **, int);
static int backtrace_in_throw, backtrace_in_catch, backtrace_in_program;

/* A C frame of the program between two plugins' frames. */
static int middle(int v)
{
    int r = pl_throw(v);
    return r + 1;
}

static int backtrace_middle(int v)
{
    void *frames[32];
    int n = pl_backtrace(frames, 32);
    for (int i = 0; i < n; i++) {
        Dl_info info;
        if (dladdr(frames[i], &info) == 0 || info.dli_fname == NULL)
            continue;
        backtrace_in_throw |= ends_with(info.dli_fname, "/libpl_throw.so");
        backtrace_in_catch |= ends_with(info.dli_fname, "/libpl_catch.so");
        Dl_info mine;
        backtrace_in_program |= dladdr((void *)middle, &mine) != 0 && mine.dli_fbase == info.dli_fbase;
    }
    return v + n * 0;
}

/* ---- threads ---- */

static void *thread_body(void *arg)
{
    const char *names[] = {"libpl_plugin.so", "sub/libpl_nested.so", "libpl_catch.so", "libpl_throw.so"};
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 40; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[(id + i) % 4]);
        void *h = dlopen(path, RTLD_NOW);
        if (h == NULL) {
            static __thread char why[4200];
            const char *e = dlerror();
            snprintf(why, sizeof why, "dlopen failed: %s", e ? e : "(no dlerror)");
            return why;
        }
        if (dlsym(h, "no_such_symbol_here") != NULL)
            return (void *)"dlsym found a missing symbol";
        if (dlerror() == NULL)
            return (void *)"dlerror() gave no message";
        if (dlclose(h) != 0)
            return (void *)"dlclose failed";
    }
    /* Errors are per thread: the main thread's dlerror() stays empty. */
    return NULL;
}

/* ---- the child after exec ---- */

static int exec_child(void)
{
    void *h = dlopen(path_of("sub/libpl_nested.so"), RTLD_NOW);
    if (h == NULL)
        return 2;
    int (*f)(void) = (int (*)(void))dlsym(h, "pl_nested_value");
    if (f == NULL || f() != 7)
        return 3;
    return on_glibc_list("/libpl_nested.so") ? 4 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--exec-child") == 0) {
        dir = argv[2];
        return exec_child();
    }
    CHECK(argc == 2, "usage: %s DIR", argv[0]);
    dir = argv[1];

    /* A non-PIE program: its code is at its link-time address. */
    CHECK((uintptr_t)&main < 0x10000000, "main at %p: not a non-PIE program", (void *)&main);

    /* Plugins and RTLD_NEXT. */
    void *plugin = must_open("libpl_plugin.so", RTLD_NOW);
    CHECK(dlerror() == NULL, "no error after a successful dlopen");
    CHECK(!on_glibc_list("/libpl_plugin.so"), "the plugin is on glibc's list: glibc loaded it, not relink");
    int (*marker)(void) = (int (*)(void))dlsym(plugin, "pl_plugin_marker");
    CHECK(marker != NULL && marker() == 42, "pl_plugin_marker: %s", dlerror());
    CHECK(real_malloc != NULL && real_malloc != malloc, "dlsym(RTLD_NEXT, \"malloc\") from the program skips its own");
    void *(*next_malloc)(void) = (void *(*)(void))dlsym(plugin, "pl_next_malloc");
    CHECK(next_malloc != NULL && next_malloc() == (void *)real_malloc,
          "RTLD_NEXT from the plugin: %p, the C library's malloc %p", next_malloc ? next_malloc() : NULL, (void *)real_malloc);

    /* The plugin's malloc calls reach the program's wrapper. */
    int (*allocate)(int) = (int (*)(int))dlsym(plugin, "pl_allocate");
    unsigned long before = __atomic_load_n(&wrapped_calls, __ATOMIC_RELAXED);
    CHECK(allocate != NULL && allocate(100) == 100, "pl_allocate");
    CHECK(__atomic_load_n(&wrapped_calls, __ATOMIC_RELAXED) - before >= 100, "the plugin's malloc calls went through the wrapper: %lu",
          __atomic_load_n(&wrapped_calls, __ATOMIC_RELAXED) - before);

    /* One address per function in the whole process: the program's canonical PLT entry. */
    void *(*puts_address)(void) = (void *(*)(void))dlsym(plugin, "pl_puts_address");
    CHECK(puts_address != NULL && puts_address() == (void *)&puts, "&puts: %p in the plugin, %p in the program",
          puts_address ? puts_address() : NULL, (void *)&puts);
    CHECK(dlsym(RTLD_DEFAULT, "puts") == (void *)&puts, "dlsym(RTLD_DEFAULT, \"puts\")");

    /* The plugin's own dlopen searches its RUNPATH. */
    int (*open_nested)(void) = (int (*)(void))dlsym(plugin, "pl_open_nested");
    CHECK(open_nested != NULL && open_nested() == 7, "a dlopen from the plugin with its RUNPATH");

    /* RTLD_DEFAULT from a plugin opened RTLD_LOCAL finds its own group too. */
    void *(*plugin_default)(const char *) = (void *(*)(const char *))dlsym(plugin, "pl_default");
    CHECK(plugin_default("pl_plugin_marker") == (void *)marker, "RTLD_DEFAULT from the plugin");

    /* A handle on a library loaded at startup searches its dependencies too. */
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    CHECK(libc != NULL, "dlopen(libc.so.6, RTLD_NOLOAD): %s", dlerror());
    CHECK(dlsym(libc, "__tls_get_addr") != NULL, "dlsym(libc.so.6 handle, __tls_get_addr), defined by its dependency ld.so: %s", dlerror());
    CHECK(dlclose(libc) == 0, "dlclose(libc.so.6)");

    /* dlerror(): glibc's wording, read once. */
    CHECK(dlopen("/nonexistent/libpl_missing.so", RTLD_NOW) == NULL, "opening a missing file");
    const char *e = dlerror();
    CHECK(e != NULL && strncmp(e, "/nonexistent/libpl_missing.so: cannot open shared object file: No such file or directory",
                               strlen("/nonexistent/libpl_missing.so: cannot open shared object file: No such file or directory")) == 0,
          "dlerror(): %s", e ? e : "(null)");
    CHECK(dlerror() == NULL, "dlerror() is cleared once read");
    CHECK(dlsym(plugin, "pl_no_such_symbol") == NULL, "a missing symbol");
    e = dlerror();
    CHECK(e != NULL && strstr(e, "libpl_plugin.so: undefined symbol: pl_no_such_symbol") != NULL, "dlerror(): %s", e ? e : "(null)");

    /* Versions. */
    CHECK(dlvsym(RTLD_DEFAULT, "memcpy", "GLIBC_2.14") != NULL, "dlvsym(memcpy, GLIBC_2.14): %s", dlerror());
    CHECK(dlvsym(RTLD_DEFAULT, "memcpy", "GLIBC_9.99") == NULL && dlerror() != NULL, "dlvsym of a version nobody defines");

    /* dladdr, dladdr1, dlinfo. */
    Dl_info info;
    CHECK(dladdr((void *)marker, &info) != 0, "dladdr of a plugin function");
    CHECK(info.dli_fname != NULL && ends_with(info.dli_fname, "/libpl_plugin.so"), "dli_fname %s", info.dli_fname);
    CHECK(info.dli_sname != NULL && strcmp(info.dli_sname, "pl_plugin_marker") == 0 && info.dli_saddr == (void *)marker,
          "dli_sname %s", info.dli_sname ? info.dli_sname : "(null)");
    struct link_map *lm = NULL;
    CHECK(dladdr1((void *)marker, &info, (void **)&lm, RTLD_DL_LINKMAP) != 0 && lm != NULL, "dladdr1(RTLD_DL_LINKMAP)");
    CHECK(strcmp(lm->l_name, info.dli_fname) == 0, "l_name %s", lm->l_name);
    const ElfW(Sym) *sym = NULL;
    CHECK(dladdr1((void *)marker, &info, (void **)&sym, RTLD_DL_SYMENT) != 0 && sym != NULL && sym->st_size > 0, "dladdr1(RTLD_DL_SYMENT)");
    struct link_map *lm2 = NULL;
    CHECK(dlinfo(plugin, RTLD_DI_LINKMAP, &lm2) == 0 && lm2 == lm, "dlinfo(RTLD_DI_LINKMAP) %p, dladdr1 %p", (void *)lm2, (void *)lm);
    char origin[4096];
    CHECK(dlinfo(plugin, RTLD_DI_ORIGIN, origin) == 0 && strcmp(origin, dir) == 0, "RTLD_DI_ORIGIN %s", origin);
    Dl_serinfo sizes;
    CHECK(dlinfo(plugin, RTLD_DI_SERINFOSIZE, &sizes) == 0 && sizes.dls_cnt >= 2, "RTLD_DI_SERINFOSIZE");
    Dl_serinfo *search = malloc(sizes.dls_size);
    search->dls_size = sizes.dls_size;
    search->dls_cnt = sizes.dls_cnt;
    CHECK(dlinfo(plugin, RTLD_DI_SERINFO, search) == 0, "RTLD_DI_SERINFO");
    int runpath_dir = 0, default_dir = 0;
    for (unsigned i = 0; i < search->dls_cnt; i++) {
        const char *d = search->dls_serpath[i].dls_name;
        runpath_dir |= strncmp(d, dir, strlen(dir)) == 0 && strcmp(d + strlen(dir), "/sub") == 0 &&
                       (search->dls_serpath[i].dls_flags & LA_SER_RUNPATH);
        default_dir |= strcmp(d, "/usr/lib/x86_64-linux-gnu") == 0 && (search->dls_serpath[i].dls_flags & LA_SER_DEFAULT);
    }
    CHECK(runpath_dir && default_dir, "RTLD_DI_SERINFO lists the plugin's RUNPATH and the default directories: %d %d", runpath_dir, default_dir);
    free(search);
    size_t modid = 0;
    CHECK(dlinfo(plugin, RTLD_DI_TLS_MODID, &modid) == 0 && modid != 0, "RTLD_DI_TLS_MODID");
    int *(*tls_address)(void) = (int *(*)(void))dlsym(plugin, "pl_tls_address");
    CHECK(tls_address != NULL && *tls_address() == 5, "the plugin's thread-local variable");
    void *block = NULL;
    CHECK(dlinfo(plugin, RTLD_DI_TLS_DATA, &block) == 0 && block == (void *)tls_address(), "RTLD_DI_TLS_DATA %p", block);
    CHECK(dladdr((void *)&puts, &info) != 0 && info.dli_fname != NULL, "dladdr of the host's code still works");

    /* dlopen(NULL): the program's global scope. */
    void *self = dlopen(NULL, RTLD_NOW);
    CHECK(self != NULL, "dlopen(NULL)");
    CHECK(dlsym(self, "puts") == (void *)&puts, "dlsym(dlopen(NULL), puts)");
    CHECK(dlsym(self, "pl_plugin_marker") == NULL, "a library opened RTLD_LOCAL is not in the global scope");
    (void)dlerror();
    void *catcher = must_open("libpl_catch.so", RTLD_NOW | RTLD_GLOBAL);
    CHECK(dlsym(self, "pl_catch") != NULL, "a library opened RTLD_GLOBAL is in the global scope");
    CHECK(dlmopen(LM_ID_BASE, path_of("libpl_catch.so"), RTLD_NOW) == catcher, "dlmopen(LM_ID_BASE) gives the same handle");
    CHECK(dlclose(catcher) == 0, "dlclose of the dlmopen reference");

    /* dl_iterate_phdr: the host's objects, then relink's. */
    struct walk w = {0};
    dl_iterate_phdr(walk_cb, &w);
    CHECK(w.first_is_program && w.saw_libc && w.saw_plugin, "dl_iterate_phdr: program first %d, libc %d, plugin %d",
          w.first_is_program, w.saw_libc, w.saw_plugin);

    /* C++: an exception thrown in one plugin, through the program's C frame, caught in another. */
    void *thrower = must_open("libpl_throw.so", RTLD_NOW);
    pl_throw = (int (*)(int))dlsym(thrower, "pl_throw");
    pl_backtrace = (int (*)(void **, int))dlsym(thrower, "pl_backtrace");
    int (*pl_catch)(int (*)(int), int) = (int (*)(int (*)(int), int))dlsym(catcher, "pl_catch");
    CHECK(pl_throw != NULL && pl_backtrace != NULL && pl_catch != NULL, "the C++ plugins' functions");
    CHECK(pl_catch(middle, 0) == 1, "no exception");
    CHECK(pl_catch(middle, 1) == -1000 - (int)strlen("thrown by pl_throw"), "the exception was caught");
    CHECK(pl_catch(backtrace_middle, 3) == 3, "backtrace");
    CHECK(backtrace_in_throw && backtrace_in_catch && backtrace_in_program, "backtrace() crosses the plugins: %d %d %d",
          backtrace_in_throw, backtrace_in_catch, backtrace_in_program);

    /* Several threads opening at once. */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, thread_body, (void *)(intptr_t)i) == 0, "pthread_create");
    for (int i = 0; i < 4; i++) {
        void *r;
        CHECK(pthread_join(t[i], &r) == 0 && r == NULL, "thread %d: %s", i, r ? (const char *)r : "");
    }
    CHECK(dlerror() == NULL, "the threads' errors stay theirs");

    /* fork, then exec. */
    pid_t pid = fork();
    if (pid == 0) {
        void *h = dlopen(path_of("sub/libpl_nested.so"), RTLD_NOW);
        int (*f)(void) = h ? (int (*)(void))dlsym(h, "pl_nested_value") : NULL;
        _exit(f != NULL && f() == 7 ? 0 : 1);
    }
    int status;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "dlopen in a forked child");
    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "--exec-child", dir, (char *)NULL);
        _exit(99);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "dlopen after fork and exec: status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    CHECK(dlclose(thrower) == 0 && dlclose(plugin) == 0, "dlclose");
    printf("%d checks passed\n", checks);
    return 0;
}
