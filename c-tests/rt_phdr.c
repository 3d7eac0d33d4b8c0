/* rl_iterate_phdr: the host's objects first, exactly as dl_iterate_phdr
 * reports them, then relink's (name = path, dlpi_addr = rl_info's base, a
 * PT_LOAD covering the code, TLS module ids); a nonzero callback result stops
 * the walk and is returned. rl_info: path, base, TLS module id (0 without
 * TLS), NULL out pointers, -1 on closed and garbage handles. A library
 * opened with rl_open_mem goes by the name it was given.
 * argv[1]: fixture dir. */
#include "check.h"

#include <link.h>

#define MAX_OBJS 64

struct obj {
    char name[512];
    uintptr_t addr;
    size_t tls_modid;
    void *tls_data;
    int phnum;
    int covers; /* a PF_X PT_LOAD covers `probe` */
};

struct walk {
    int n, stop_at, stop_value;
    const void *probe;
    const char *stop_name;
    size_t size;
    struct obj objs[MAX_OBJS];
};

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
    struct walk *w = data;
    struct obj *o;
    int i;
    CHECK(w->n < MAX_OBJS, "too many objects");
    o = &w->objs[w->n++];
    snprintf(o->name, sizeof o->name, "%s", info->dlpi_name ? info->dlpi_name : "(null)");
    o->addr = info->dlpi_addr;
    o->phnum = info->dlpi_phnum;
    o->tls_modid = size >= offsetof(struct dl_phdr_info, dlpi_tls_modid) + sizeof info->dlpi_tls_modid
                       ? info->dlpi_tls_modid
                       : (size_t)-1;
    o->tls_data = size >= offsetof(struct dl_phdr_info, dlpi_tls_data) + sizeof info->dlpi_tls_data
                      ? info->dlpi_tls_data
                      : NULL;
    o->covers = 0;
    w->size = size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && (uintptr_t)w->probe >= lo &&
            (uintptr_t)w->probe < lo + ph->p_memsz)
            o->covers = 1;
    }
    if (w->stop_at == w->n)
        return w->stop_value;
    if (w->stop_name != NULL && strcmp(o->name, w->stop_name) == 0)
        return w->stop_value;
    return 0;
}

/* Calls back into relink from the callback: opens and closes another library
 * at the first object relink loaded, and closes the visited library itself
 * (whose dl_phdr_info must stay readable until the callback returns). */
struct reentrant {
    const char *victim, *other;
    rl_handle *victim_h;
    int closed_victim, opened_other;
};

static int reenter(struct dl_phdr_info *info, size_t size, void *data)
{
    struct reentrant *r = data;
    (void)size;
    if (info->dlpi_name != NULL && strcmp(info->dlpi_name, r->victim) == 0) {
        rl_handle *o = rl_open(r->other, RL_NOW);
        int i, loads = 0;
        CHECK(o != NULL, "rl_open(%s) inside the rl_iterate_phdr callback", r->other);
        CHECK(SYM(o, int (*)(void), "rtp_answer")() == 42, "call inside the callback");
        CHECK(rl_close(o) == 0, "rl_close inside the callback");
        r->opened_other = 1;
        CHECK(rl_close(r->victim_h) == 0, "closing the visited library inside the callback");
        r->closed_victim = 1;
        for (i = 0; i < info->dlpi_phnum; i++)
            loads += info->dlpi_phdr[i].p_type == PT_LOAD;
        CHECK(loads > 0 && strcmp(info->dlpi_name, r->victim) == 0,
              "the visited library's dl_phdr_info stays readable until the callback returns");
    }
    return 0;
}

static int find(const struct walk *w, const char *name)
{
    int i;
    for (i = 0; i < w->n; i++)
        if (strcmp(w->objs[i].name, name) == 0)
            return i;
    return -1;
}

static int find_suffix(const struct walk *w, const char *suffix)
{
    int i;
    size_t sl = strlen(suffix);
    for (i = 0; i < w->n; i++) {
        size_t l = strlen(w->objs[i].name);
        if (l >= sl && strcmp(w->objs[i].name + l - sl, suffix) == 0)
            return i;
    }
    return -1;
}

static struct walk walk_all(const void *probe)
{
    struct walk w;
    memset(&w, 0, sizeof w);
    w.probe = probe;
    CHECK(rl_iterate_phdr(collect, &w) == 0, "rl_iterate_phdr returns 0 when every callback does");
    return w;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *plain_path = strf("%s/librt_phdr_lib.so", dir);
    char *tls_path = strf("%s/librt_tls_gd.so", dir);
    rl_handle *plain = rl_open(plain_path, RL_NOW), *tls;
    struct walk sys, w, stop;
    const char *path = NULL;
    void *base = NULL, *probe, *probe_tls;
    size_t modid = 99, tls_modid = 0;
    rl_addr_info ai;
    int i, ip, it, ilibc, r;

    CHECK(plain != NULL, "rl_open(%s)", plain_path);
    tls = rl_open(tls_path, RL_NOW);
    CHECK(tls != NULL, "rl_open(%s)", tls_path);
    probe = SYM(plain, void *, "rtp_answer");
    CHECK(((int (*)(void))probe)() == 42, "rtp_answer");

    /* rl_info */
    CHECK(rl_info(plain, &path, &base, &modid) == 0, "rl_info(plain)");
    CHECK(path != NULL && strcmp(path, plain_path) == 0, "rl_info path \"%s\", opened as \"%s\"", path ? path : "(null)",
          plain_path);
    CHECK(base != NULL && modid == 0, "rl_info(plain): base %p, tls_modid %zu (no PT_TLS: 0)", base, modid);
    CHECK(rl_addr(probe, &ai) != 0 && ai.fbase == base, "rl_addr and rl_info agree on the base");
    CHECK(rl_info(plain, NULL, NULL, NULL) == 0, "rl_info with NULL out pointers");
    CHECK(rl_info(tls, NULL, NULL, &tls_modid) == 0, "rl_info(tls)");
    CHECK(tls_modid != 0, "a library with PT_TLS has a module id");
    probe_tls = SYM(tls, void *, "rt_probe");

    /* The host's part is what dl_iterate_phdr reports. */
    memset(&sys, 0, sizeof sys);
    sys.probe = probe;
    CHECK(dl_iterate_phdr(collect, &sys) == 0, "dl_iterate_phdr");
    w = walk_all(probe);
    CHECK(w.n >= sys.n + 2, "rl_iterate_phdr visited %d objects, dl_iterate_phdr %d, plus 2 of relink's", w.n, sys.n);
    for (i = 0; i < sys.n; i++)
        CHECK(strcmp(w.objs[i].name, sys.objs[i].name) == 0 && w.objs[i].addr == sys.objs[i].addr &&
                  w.objs[i].phnum == sys.objs[i].phnum,
              "object %d: rl_iterate_phdr \"%s\" %#lx, dl_iterate_phdr \"%s\" %#lx", i, w.objs[i].name,
              (unsigned long)w.objs[i].addr, sys.objs[i].name, (unsigned long)sys.objs[i].addr);
    CHECK(strcmp(w.objs[0].name, "") == 0, "the program comes first, with an empty name: \"%s\"", w.objs[0].name);
    ilibc = find_suffix(&w, "/libc.so.6");
    CHECK(ilibc > 0 && ilibc < sys.n, "libc.so.6 among the host's objects (%d)", ilibc);
    CHECK(find_suffix(&w, "/librelink.so.0") > 0 || find_suffix(&w, "/librelink.so") > 0, "librelink itself");
    CHECK(w.objs[ilibc].tls_modid != 0, "libc has TLS: module id %zu", w.objs[ilibc].tls_modid);

    ip = find(&w, plain_path);
    CHECK(ip >= sys.n, "the plugin is listed after the host's objects (index %d, host objects %d)", ip, sys.n);
    CHECK(w.objs[ip].addr == (uintptr_t)base, "dlpi_addr %#lx, rl_info base %p", (unsigned long)w.objs[ip].addr, base);
    CHECK(w.objs[ip].covers, "a PT_LOAD with PF_X of the plugin covers rtp_answer");
    CHECK(w.objs[ip].phnum > 2, "the plugin's program headers (%d)", w.objs[ip].phnum);
    CHECK(w.objs[ip].tls_modid == 0 || w.objs[ip].tls_modid == (size_t)-1, "no TLS module id for the plain plugin");
    for (i = 0; i < w.n; i++)
        CHECK(i == ip || !w.objs[i].covers, "object %d (%s) also claims the plugin's code", i, w.objs[i].name);
    it = find(&w, tls_path);
    CHECK(it >= sys.n, "the TLS plugin is listed after the host's objects");
    if (w.size >= offsetof(struct dl_phdr_info, dlpi_tls_modid) + sizeof(size_t))
        CHECK(w.objs[it].tls_modid == tls_modid, "dlpi_tls_modid %zu, rl_info %zu", w.objs[it].tls_modid, tls_modid);
    /* rt_probe is the first variable of the TLS block (st_value 0), and this
     * thread's block exists since rl_sym gave its address. */
    if (w.size >= offsetof(struct dl_phdr_info, dlpi_tls_data) + sizeof(void *))
        CHECK(w.objs[it].tls_data == probe_tls, "dlpi_tls_data %p, this thread's rt_probe at %p", w.objs[it].tls_data,
              probe_tls);
    printf("rl_iterate_phdr: %d host objects, %d in all (callback size %zu)\n", sys.n, w.n, w.size);

    /* Stopping. */
    memset(&stop, 0, sizeof stop);
    stop.probe = probe;
    stop.stop_at = 2;
    stop.stop_value = 7;
    r = rl_iterate_phdr(collect, &stop);
    CHECK(r == 7 && stop.n == 2, "stop after the second object: returned %d after %d calls", r, stop.n);
    memset(&stop, 0, sizeof stop);
    stop.probe = probe;
    stop.stop_name = plain_path;
    stop.stop_value = -3;
    r = rl_iterate_phdr(collect, &stop);
    CHECK(r == -3 && stop.n == ip + 1, "stop at the plugin: returned %d after %d calls (plugin at %d)", r, stop.n, ip);

    /* Closing. */
    CHECK(rl_close(plain) == 0, "rl_close(plain)");
    CHECK(rl_info(plain, &path, &base, &modid) == -1, "rl_info on a closed handle");
    EXPECT_ERROR("handle");
    CHECK(rl_info((rl_handle *)(uintptr_t)0x1238, NULL, NULL, NULL) == -1, "rl_info on a garbage handle");
    EXPECT_SOME_ERROR();
    CHECK(rl_info(NULL, NULL, NULL, NULL) == -1, "rl_info(NULL)");
    EXPECT_SOME_ERROR();
    w = walk_all(NULL);
    CHECK(find(&w, plain_path) < 0, "the closed plugin is no longer listed");
    CHECK(find(&w, tls_path) >= 0, "the TLS plugin still is");
    CHECK(rl_close(tls) == 0, "rl_close(tls)");
    w = walk_all(NULL);
    CHECK(find(&w, tls_path) < 0 && w.n == sys.n, "only the host's objects are left (%d, %d)", w.n, sys.n);

    /* Calling relink from the callback. */
    {
        struct reentrant r;
        char *copy = strf("%s/librt_phdr_copy.so", dir);
        memset(&r, 0, sizeof r);
        r.victim = plain_path;
        r.other = copy;
        r.victim_h = rl_open(plain_path, RL_NOW);
        CHECK(r.victim_h != NULL, "rl_open(%s)", plain_path);
        tls = rl_open(tls_path, RL_NOW);
        CHECK(tls != NULL, "rl_open(%s)", tls_path);
        CHECK(rl_iterate_phdr(reenter, &r) == 0, "rl_iterate_phdr with a reentrant callback");
        CHECK(r.opened_other && r.closed_victim, "the callback visited %s", plain_path);
        CHECK(!is_mapped(plain_path) && !is_mapped(copy), "both unmapped once the walk is over");
        CHECK(rl_close(tls) == 0, "rl_close(tls)");
        free(copy);
    }

    /* From memory: the name given to rl_open_mem stands for the path. */
    {
        size_t len;
        char *image = read_file_or_die(plain_path, &len);
        rl_handle *mem = rl_open_mem(image, len, "memory:rt_phdr", RL_NOW);
        void *fn;
        free(image);
        CHECK(mem != NULL, "rl_open_mem");
        fn = SYM(mem, void *, "rtp_answer");
        CHECK(((int (*)(void))fn)() == 42, "rtp_answer from memory");
        CHECK(rl_info(mem, &path, &base, &modid) == 0 && strcmp(path, "memory:rt_phdr") == 0 && modid == 0,
              "rl_info path of an in-memory library: \"%s\"", path);
        memset(&ai, 0, sizeof ai);
        CHECK(rl_addr(fn, &ai) != 0 && ai.fname != NULL && strcmp(ai.fname, "memory:rt_phdr") == 0 &&
                  ai.fbase == base && ai.sname != NULL && strcmp(ai.sname, "rtp_answer") == 0 && ai.saddr == fn,
              "rl_addr in an in-memory library: %s %p %s %p", ai.fname ? ai.fname : "(null)", ai.fbase,
              ai.sname ? ai.sname : "(null)", ai.saddr);
        w = walk_all(fn);
        i = find(&w, "memory:rt_phdr");
        CHECK(i >= sys.n && w.objs[i].addr == (uintptr_t)base && w.objs[i].covers,
              "rl_iterate_phdr lists the in-memory library under its name, with its base and code");
        CHECK(rl_close(mem) == 0, "rl_close(mem)");
    }
    CHECKS_DONE();
}
