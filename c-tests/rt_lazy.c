/* Lazy binding (RL_LAZY on libraries linked -z lazy): PLT slots stay unbound
 * until their first call, which goes through relink's trampoline and must
 * reach the callee with every argument intact: 1000 distinct slots, 8
 * doubles + 8 ints, a variadic call with doubles (%al), __m256/__m512
 * vectors when the CPU has AVX/AVX-512, and first calls from 8 threads at
 * once. RL_NOW, DF_BIND_NOW (-z now) and, with argv[2] = "bind-now",
 * LD_BIND_NOW=1 in the environment bind at open instead.
 * argv[1]: fixture dir. */
#include "check.h"

#include <elf.h>
#include <link.h>
#include <pthread.h>

#define NFUNCS 1000
#define THREADS 8

static void (*call_all)(int, int *);
static long (*many)(int);
static int (*vfmt)(char *, size_t, int);
static long (*avx)(int);
static long (*avx512)(int);
static int have_avx, have_avx512;

struct slot_query {
    const char *path, *sym;
    uintptr_t *slot, lo, hi;
};

static uintptr_t dyn_ptr(uintptr_t base, uintptr_t v)
{
    return v < base ? base + v : v;
}

static int find_slot(struct dl_phdr_info *info, size_t size, void *data)
{
    struct slot_query *q = data;
    const ElfW(Dyn) *dyn = NULL;
    const ElfW(Rela) *rel = NULL;
    const ElfW(Sym) *syms = NULL;
    const char *strs = NULL;
    size_t relsz = 0, i;
    int k;
    (void)size;
    if (info->dlpi_name == NULL || strcmp(info->dlpi_name, q->path) != 0)
        return 0;
    q->lo = UINTPTR_MAX;
    q->hi = 0;
    for (k = 0; k < info->dlpi_phnum; k++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
        if (ph->p_type == PT_DYNAMIC)
            dyn = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
        if (ph->p_type == PT_LOAD) {
            if (info->dlpi_addr + ph->p_vaddr < q->lo)
                q->lo = info->dlpi_addr + ph->p_vaddr;
            if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > q->hi)
                q->hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        }
    }
    CHECK(dyn != NULL, "%s has PT_DYNAMIC", q->path);
    for (; dyn->d_tag != DT_NULL; dyn++) {
        switch (dyn->d_tag) {
        case DT_JMPREL:
            rel = (const ElfW(Rela) *)dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr);
            break;
        case DT_PLTRELSZ:
            relsz = dyn->d_un.d_val;
            break;
        case DT_SYMTAB:
            syms = (const ElfW(Sym) *)dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr);
            break;
        case DT_STRTAB:
            strs = (const char *)dyn_ptr(info->dlpi_addr, dyn->d_un.d_ptr);
            break;
        }
    }
    CHECK(rel != NULL && syms != NULL && strs != NULL, "%s: DT_JMPREL, DT_SYMTAB, DT_STRTAB", q->path);
    for (i = 0; i < relsz / sizeof *rel; i++) {
        const ElfW(Sym) *s = &syms[ELF64_R_SYM(rel[i].r_info)];
        if (ELF64_R_TYPE(rel[i].r_info) == R_X86_64_JUMP_SLOT && strcmp(strs + s->st_name, q->sym) == 0) {
            q->slot = (uintptr_t *)(info->dlpi_addr + rel[i].r_offset);
            return 1;
        }
    }
    return 1;
}

/* The GOT slot that `path`'s PLT entry for `sym` jumps through. */
static uintptr_t *plt_slot(const char *path, const char *sym, uintptr_t *lo, uintptr_t *hi)
{
    struct slot_query q = {path, sym, NULL, 0, 0};
    CHECK(rl_iterate_phdr(find_slot, &q) == 1, "%s not found by rl_iterate_phdr", path);
    CHECK(q.slot != NULL, "%s has no JUMP_SLOT relocation for %s", path, sym);
    if (lo)
        *lo = q.lo;
    if (hi)
        *hi = q.hi;
    return q.slot;
}

/* The slot for `sym` in `path` must still point into `path` (its PLT). */
static void expect_unbound(const char *path, const char *sym, void *target)
{
    uintptr_t lo, hi, *slot = plt_slot(path, sym, &lo, &hi);
    CHECK(*slot != (uintptr_t)target && *slot >= lo && *slot < hi,
          "%s: the slot of %s must still lead to its PLT entry before the first call: %#lx (object %#lx-%#lx, "
          "target %p)",
          path, sym, (unsigned long)*slot, (unsigned long)lo, (unsigned long)hi, target);
}

static void expect_bound(const char *path, const char *sym, void *target)
{
    uintptr_t *slot = plt_slot(path, sym, NULL, NULL);
    CHECK(*slot == (uintptr_t)target, "%s: the slot of %s holds %#lx, %s is at %p", path, sym, (unsigned long)*slot,
          sym, target);
}

static void expected_vfmt(char *buf, size_t n, int s)
{
    double x = s * 0.25;
    snprintf(buf, n, "%d|%.3f|%.3f|%s|%.3f|%.3f|%g|%g|%g|%g|%ld|%g", s, x, x + 1, "mid", x + 2, x + 3, x + 4, x + 5,
             x + 6, x + 7, (long)s * 3, x + 8);
}

/* Every call the tests make, with values derived from `s`. */
static void call_everything(int s, const char *who)
{
    static __thread int out[NFUNCS];
    char got[256], want[256];
    long r;
    int i, n;

    r = many(s);
    CHECK(r == 2L * (s + 7000) + 1, "%s: lz_many with 8 doubles and 8 ints: %ld (negative: mask of wrong arguments)",
          who, r);
    n = vfmt(got, sizeof got, s);
    expected_vfmt(want, sizeof want, s);
    CHECK(n == (int)strlen(want) && strcmp(got, want) == 0, "%s: variadic call:\n  got  %s\n  want %s", who, got, want);
    memset(out, 0, sizeof out);
    call_all(s, out);
    for (i = 0; i < NFUNCS; i++)
        if (out[i] != s * (i % 7 + 2) + i)
            CHECK(0, "%s: lz_f%d(%d) returned %d, want %d", who, i, s, out[i], s * (i % 7 + 2) + i);
    if (have_avx) {
        r = avx(s);
        CHECK(r == 7L * s, "%s: __m256 arguments: %ld (negative: mask of wrong lanes)", who, r);
    }
    if (have_avx512) {
        r = avx512(s);
        CHECK(r == 11L * s, "%s: __m512 arguments: %ld (negative: mask of wrong lanes)", who, r);
    }
}

struct opened {
    rl_handle *caller, *avx, *avx512;
};

static struct opened open_all(const char *dir, const char *caller, int flags)
{
    struct opened o = {NULL, NULL, NULL};
    char *p = strf("%s/%s", dir, caller);
    o.caller = rl_open(p, flags);
    CHECK(o.caller != NULL, "rl_open(%s)", p);
    call_all = SYM(o.caller, void (*)(int, int *), "lzc_call_all");
    many = SYM(o.caller, long (*)(int), "lzc_many");
    vfmt = SYM(o.caller, int (*)(char *, size_t, int), "lzc_vfmt");
    if (have_avx) {
        char *pa = strf("%s/liblazy_avx_caller.so", dir);
        o.avx = rl_open(pa, flags);
        CHECK(o.avx != NULL, "rl_open(%s)", pa);
        avx = SYM(o.avx, long (*)(int), "lzc_avx");
        free(pa);
    }
    if (have_avx512) {
        char *pa = strf("%s/liblazy_avx512_caller.so", dir);
        o.avx512 = rl_open(pa, flags);
        CHECK(o.avx512 != NULL, "rl_open(%s)", pa);
        avx512 = SYM(o.avx512, long (*)(int), "lzc_avx512");
        free(pa);
    }
    free(p);
    return o;
}

static void close_all(struct opened *o)
{
    CHECK(rl_close(o->caller) == 0, "rl_close");
    if (o->avx)
        CHECK(rl_close(o->avx) == 0, "rl_close");
    if (o->avx512)
        CHECK(rl_close(o->avx512) == 0, "rl_close");
}

/* Slots of `caller` for the first/last generated function, lz_many, lz_vfmt. */
static void check_slots(const char *dir, const char *caller, rl_handle *h, int bound)
{
    static const char *const names[] = {"lz_f0", "lz_f999", "lz_many", "lz_vfmt"};
    char *p = strf("%s/%s", dir, caller);
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *target = SYM(h, void *, names[i]);
        if (bound)
            expect_bound(p, names[i], target);
        else
            expect_unbound(p, names[i], target);
    }
    free(p);
}

static pthread_barrier_t go;

static void *thread_main(void *arg)
{
    int s = (int)(intptr_t)arg;
    char who[32];
    snprintf(who, sizeof who, "thread %d", s);
    pthread_barrier_wait(&go);
    call_everything(s, who);
    call_everything(s + 100, who);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int bind_now_env = argc > 2 && strcmp(argv[2], "bind-now") == 0;
    char *caller = strf("%s/liblazy_caller.so", dir), *dep = strf("%s/liblazy_dep.so", dir);
    struct opened o;
    pthread_t t[THREADS];
    int i;

    have_avx = __builtin_cpu_supports("avx");
    have_avx512 = __builtin_cpu_supports("avx512f");
    printf("vector arguments checked: __m256 %s, __m512 %s\n", have_avx ? "yes" : "no (CPU without AVX)",
           have_avx512 ? "yes" : "no (CPU without AVX-512F)");

    if (bind_now_env) {
        const char *v = getenv("LD_BIND_NOW");
        CHECK(v != NULL && strcmp(v, "1") == 0, "run with LD_BIND_NOW=1");
        o = open_all(dir, "liblazy_caller.so", RL_LAZY);
        check_slots(dir, "liblazy_caller.so", o.caller, 1);
        call_everything(3, "LD_BIND_NOW=1");
        close_all(&o);
        printf("LD_BIND_NOW=1: RL_LAZY bound every slot at open\n");
        CHECKS_DONE();
    }

    /* One thread: every first call goes through the trampoline. */
    o = open_all(dir, "liblazy_caller.so", RL_LAZY);
    check_slots(dir, "liblazy_caller.so", o.caller, 0);
    call_everything(3, "main thread, first calls");
    check_slots(dir, "liblazy_caller.so", o.caller, 1);
    call_everything(-21, "main thread, bound");
    close_all(&o);
    CHECK(!is_mapped(caller) && !is_mapped(dep), "caller and dependency unmapped");

    /* 8 threads make the first calls at the same time. */
    o = open_all(dir, "liblazy_caller.so", RL_LAZY);
    check_slots(dir, "liblazy_caller.so", o.caller, 0);
    CHECK(pthread_barrier_init(&go, NULL, THREADS) == 0, "barrier");
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, thread_main, (void *)(intptr_t)(i * 13 + 1)) == 0, "pthread_create");
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_join(t[i], NULL) == 0, "join");
    check_slots(dir, "liblazy_caller.so", o.caller, 1);
    close_all(&o);

    /* Binding at open: RL_NOW, and DF_BIND_NOW under RL_LAZY. */
    o = open_all(dir, "liblazy_caller.so", RL_NOW);
    check_slots(dir, "liblazy_caller.so", o.caller, 1);
    call_everything(8, "RL_NOW");
    close_all(&o);
    o = open_all(dir, "liblazy_caller_now.so", RL_LAZY);
    check_slots(dir, "liblazy_caller_now.so", o.caller, 1);
    call_everything(9, "-z now under RL_LAZY");
    close_all(&o);
    CHECKS_DONE();
}
