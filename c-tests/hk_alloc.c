/* Redirecting one plugin's allocator to counting wrappers in the host through
 * lookup hooks, while the host's own allocator (and another plugin) stays
 * untouched: per-open RL_HOOK_BEFORE hook (RL_NOW), global RL_HOOK_BEFORE hook
 * restricted by requester path, and RL_LAZY (the hook is consulted at the first
 * call, not at open). argv[1]: fixture dir with libhk_alloc.so and
 * libhk_alloc2.so (same source, two files). */
#include "check.h"

static int n_malloc, n_calloc, n_realloc, n_free;

static void *count_malloc(size_t n)
{
    __atomic_fetch_add(&n_malloc, 1, __ATOMIC_RELAXED);
    return malloc(n);
}

static void *count_calloc(size_t n, size_t size)
{
    __atomic_fetch_add(&n_calloc, 1, __ATOMIC_RELAXED);
    return calloc(n, size);
}

static void *count_realloc(void *p, size_t n)
{
    __atomic_fetch_add(&n_realloc, 1, __ATOMIC_RELAXED);
    return realloc(p, n);
}

static void count_free(void *p)
{
    __atomic_fetch_add(&n_free, 1, __ATOMIC_RELAXED);
    free(p);
}

static void reset_counts(void)
{
    n_malloc = n_calloc = n_realloc = n_free = 0;
}

#define CHECK_COUNTS(m, c, r, f, what)                                                  \
    CHECK(n_malloc == (m) && n_calloc == (c) && n_realloc == (r) && n_free == (f),      \
          "%s: malloc/calloc/realloc/free counts %d/%d/%d/%d, expected %d/%d/%d/%d",    \
          what, n_malloc, n_calloc, n_realloc, n_free, m, c, r, f)

/* What a hook was asked. */
struct hook_ctx {
    const char *only;       /* answer only for this requester (NULL: any) */
    int asked_malloc;       /* times asked for "malloc" (by an answered requester) */
    int asked_other_lib;    /* times asked by another requester */
    char malloc_version[64];
    char malloc_requester[PATH_MAX];
};

static void *alloc_hook(void *user, const char *name, const char *version, const char *requester)
{
    struct hook_ctx *c = user;
    if (c->only != NULL && strcmp(requester, c->only) != 0) {
        c->asked_other_lib++;
        return NULL;
    }
    if (strcmp(name, "malloc") == 0) {
        c->asked_malloc++;
        snprintf(c->malloc_version, sizeof c->malloc_version, "%s", version ? version : "(null)");
        snprintf(c->malloc_requester, sizeof c->malloc_requester, "%s", requester);
        return (void *)count_malloc;
    }
    if (strcmp(name, "calloc") == 0)
        return (void *)count_calloc;
    if (strcmp(name, "realloc") == 0)
        return (void *)count_realloc;
    if (strcmp(name, "free") == 0)
        return (void *)count_free;
    return NULL;
}

/* The host allocates and frees on its own: no counter moves. */
static void host_allocates(const char *what)
{
    int before_m = n_malloc, before_c = n_calloc, before_r = n_realloc, before_f = n_free;
    void *volatile p = malloc(100);
    void *volatile q = calloc(4, 8);
    p = realloc(p, 200);
    free(p);
    free(q);
    CHECK(n_malloc == before_m && n_calloc == before_c && n_realloc == before_r && n_free == before_f,
          "%s: the host's own malloc/calloc/realloc/free must not be counted", what);
}

typedef int (*rounds_fn)(int);
typedef int (*calloc_sum_fn)(int);
typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *lib = strf("%s/libhk_alloc.so", dir);
    char *lib2 = strf("%s/libhk_alloc2.so", dir);
    struct hook_ctx ctx;
    rl_open_opts opts;
    rl_handle *h, *h2;
    void *p;

    /* A: per-open before hook, RL_NOW. */
    memset(&ctx, 0, sizeof ctx);
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.before = alloc_hook;
    opts.before_user = &ctx;
    h = rl_open_ex(lib, NULL, 0, RL_NOW, &opts);
    CHECK(h != NULL, "rl_open_ex(%s) with a before hook", lib);
    CHECK(ctx.asked_malloc == 1, "the hook was asked for malloc once at open (RL_NOW), got %d", ctx.asked_malloc);
    CHECK(strcmp(ctx.malloc_version, "GLIBC_2.2.5") == 0, "malloc is asked for with version GLIBC_2.2.5, got %s",
          ctx.malloc_version);
    CHECK(strcmp(ctx.malloc_requester, lib) == 0, "requester is the library's path: got %s, expected %s",
          ctx.malloc_requester, lib);
    reset_counts();
    host_allocates("A, after open");
    CHECK(SYM(h, rounds_fn, "hk_alloc_rounds")(5) == 5, "hk_alloc_rounds(5)");
    CHECK_COUNTS(5, 0, 5, 5, "A: 5 rounds");
    CHECK(SYM(h, calloc_sum_fn, "hk_calloc_sum")(16) == 0, "hk_calloc_sum(16) reads zeroes");
    CHECK_COUNTS(5, 1, 5, 6, "A: one calloc");
    /* Memory crosses the boundary both ways: the wrappers use the real allocator. */
    p = SYM(h, malloc_fn, "hk_malloc")(24);
    CHECK(p != NULL, "hk_malloc(24)");
    CHECK_COUNTS(6, 1, 5, 6, "A: hk_malloc");
    free(p);
    CHECK_COUNTS(6, 1, 5, 6, "A: the host frees the plugin's block");
    p = malloc(24);
    CHECK_COUNTS(6, 1, 5, 6, "A: the host allocates a block");
    SYM(h, free_fn, "hk_free")(p);
    CHECK_COUNTS(6, 1, 5, 7, "A: the plugin frees the host's block");
    host_allocates("A, after calls");

    /* Another copy opened without hooks is not redirected, even while the hooked one is open. */
    h2 = rl_open(lib2, RL_NOW);
    CHECK(h2 != NULL, "rl_open(%s)", lib2);
    CHECK(SYM(h2, rounds_fn, "hk_alloc_rounds")(3) == 3, "copy: hk_alloc_rounds(3)");
    CHECK(SYM(h2, calloc_sum_fn, "hk_calloc_sum")(4) == 0, "copy: hk_calloc_sum(4)");
    CHECK_COUNTS(6, 1, 5, 7, "A: the unhooked copy is not counted");
    CHECK(ctx.asked_malloc == 1, "the per-open hook is not asked for the other copy's references");
    CHECK(rl_close(h2) == 0, "close copy");
    CHECK(rl_close(h) == 0, "close hooked");
    CHECK(!is_mapped(lib) && !is_mapped(lib2), "both unloaded");

    /* B: a global before hook restricted to libhk_alloc2.so. */
    memset(&ctx, 0, sizeof ctx);
    ctx.only = lib2;
    CHECK(rl_hook_add(alloc_hook, &ctx, RL_HOOK_BEFORE) == 0, "rl_hook_add(BEFORE)");
    h = rl_open(lib, RL_NOW);
    h2 = rl_open(lib2, RL_NOW);
    CHECK(h != NULL && h2 != NULL, "open both copies under the global hook");
    CHECK(ctx.asked_other_lib > 0, "the global hook is asked about the other copy too (and passes)");
    CHECK(ctx.asked_malloc == 1, "asked for malloc once for libhk_alloc2.so, got %d", ctx.asked_malloc);
    CHECK(strcmp(ctx.malloc_requester, lib2) == 0, "requester %s", ctx.malloc_requester);
    reset_counts();
    CHECK(SYM(h, rounds_fn, "hk_alloc_rounds")(4) == 4, "unrestricted copy: hk_alloc_rounds(4)");
    CHECK_COUNTS(0, 0, 0, 0, "B: libhk_alloc.so is not redirected");
    CHECK(SYM(h2, rounds_fn, "hk_alloc_rounds")(4) == 4, "restricted copy: hk_alloc_rounds(4)");
    CHECK(SYM(h2, calloc_sum_fn, "hk_calloc_sum")(3) == 0, "restricted copy: hk_calloc_sum(3)");
    CHECK_COUNTS(4, 1, 4, 5, "B: libhk_alloc2.so is redirected");
    host_allocates("B");
    CHECK(rl_hook_remove(alloc_hook, &ctx) == 0, "rl_hook_remove");
    CHECK(rl_hook_remove(alloc_hook, &ctx) == -1, "removing it twice fails");
    EXPECT_ERROR("hook");
    /* Bindings the hook decided stay after its removal. */
    CHECK(SYM(h2, rounds_fn, "hk_alloc_rounds")(1) == 1, "after removal: hk_alloc_rounds(1)");
    CHECK_COUNTS(5, 1, 5, 6, "B: bindings made stay");
    CHECK(rl_close(h) == 0 && rl_close(h2) == 0, "close both");
    /* Once removed, a new open is not redirected. */
    h2 = rl_open(lib2, RL_NOW);
    CHECK(h2 != NULL, "reopen libhk_alloc2.so");
    reset_counts();
    CHECK(SYM(h2, rounds_fn, "hk_alloc_rounds")(2) == 2, "reopened: hk_alloc_rounds(2)");
    CHECK_COUNTS(0, 0, 0, 0, "B: not redirected after the hook was removed");
    CHECK(rl_close(h2) == 0, "close");

    /* C: RL_LAZY with a per-open hook: asked at the first call through each PLT slot. */
    memset(&ctx, 0, sizeof ctx);
    h = rl_open_ex(lib, NULL, 0, RL_LAZY, &opts);
    CHECK(h != NULL, "rl_open_ex(RL_LAZY)");
    CHECK(ctx.asked_malloc == 0, "RL_LAZY: malloc is not bound at open (asked %d times)", ctx.asked_malloc);
    reset_counts();
    CHECK(SYM(h, rounds_fn, "hk_alloc_rounds")(1) == 1, "lazy: first call");
    CHECK(ctx.asked_malloc == 1, "RL_LAZY: asked for malloc at the first call, got %d", ctx.asked_malloc);
    CHECK(strcmp(ctx.malloc_version, "GLIBC_2.2.5") == 0, "lazy: version %s", ctx.malloc_version);
    CHECK(strcmp(ctx.malloc_requester, lib) == 0, "lazy: requester %s", ctx.malloc_requester);
    CHECK_COUNTS(1, 0, 1, 1, "C: first call");
    CHECK(SYM(h, rounds_fn, "hk_alloc_rounds")(3) == 3, "lazy: later calls");
    CHECK(ctx.asked_malloc == 1, "RL_LAZY: the slot stays bound, got %d", ctx.asked_malloc);
    CHECK_COUNTS(4, 0, 4, 4, "C: later calls");
    CHECK(rl_close(h) == 0, "close");

    /* C': RL_LAZY with the global restricted hook (installed during the calls). */
    memset(&ctx, 0, sizeof ctx);
    ctx.only = lib2;
    CHECK(rl_hook_add(alloc_hook, &ctx, RL_HOOK_BEFORE) == 0, "rl_hook_add(BEFORE)");
    h = rl_open(lib, RL_LAZY);
    h2 = rl_open(lib2, RL_LAZY);
    CHECK(h != NULL && h2 != NULL, "open both copies RL_LAZY");
    CHECK(ctx.asked_malloc == 0, "global hook, RL_LAZY: not asked for malloc at open");
    reset_counts();
    CHECK(SYM(h, rounds_fn, "hk_alloc_rounds")(2) == 2, "lazy unrestricted copy");
    CHECK_COUNTS(0, 0, 0, 0, "C': libhk_alloc.so is not redirected");
    CHECK(SYM(h2, rounds_fn, "hk_alloc_rounds")(2) == 2, "lazy restricted copy");
    CHECK(ctx.asked_malloc == 1, "global hook, RL_LAZY: asked for malloc at the first call, got %d", ctx.asked_malloc);
    CHECK_COUNTS(2, 0, 2, 2, "C': libhk_alloc2.so is redirected");
    host_allocates("C'");
    CHECK(rl_hook_remove(alloc_hook, &ctx) == 0, "rl_hook_remove");
    CHECK(rl_close(h) == 0 && rl_close(h2) == 0, "close both");
    CHECK(!is_mapped(lib) && !is_mapped(lib2), "both unloaded");
    CHECKS_DONE();
}
