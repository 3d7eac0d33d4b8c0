/* rl_on_event / rl_off_event: RL_EVENT_MAP for a library and the dependency
 * it pulls in (paths, base addresses, before their constructors), and
 * RL_EVENT_UNMAP when it is closed (after their destructors); the callback
 * may call rl_* functions; a vetoed load sends no event; rl_off_event stops
 * them. argv[1]: fixture dir with libhk_ev_top.so (NEEDED libhk_ev_dep.so). */
#include "check.h"

#define MAXLOG 128

struct entry {
    char what[32];
    char path[PATH_MAX];
    void *base;
    rl_handle *h;
};

static struct entry log_[MAXLOG];
static int nlog;
static int in_callback_failures;

static void add(const char *what, const char *path, void *base, rl_handle *h)
{
    if (nlog == MAXLOG) {
        fprintf(stderr, "event log full\n");
        exit(1);
    }
    snprintf(log_[nlog].what, sizeof log_[nlog].what, "%s", what);
    snprintf(log_[nlog].path, sizeof log_[nlog].path, "%s", path ? path : "");
    log_[nlog].base = base;
    log_[nlog].h = h;
    nlog++;
}

void hk_ev_log(const char *what);

void hk_ev_log(const char *what)
{
    add(what, NULL, NULL, NULL);
}

struct counter {
    int maps, unmaps;
};

static void on_event(void *user, int event, const char *path, void *base, rl_handle *h)
{
    struct counter *n = user;
    rl_handle *again;
    void *b = NULL;
    if (event == RL_EVENT_MAP) {
        n->maps++;
        add("map", path, base, h);
        /* The object is registered: it can be opened again and described. */
        again = rl_open(path, RL_NOW | RL_NOLOAD);
        if (again == NULL || rl_info(again, NULL, &b, NULL) != 0 || b != base) {
            fprintf(stderr, "MAP %s: rl_open(RL_NOLOAD)/rl_info in the callback: %p, base %p (event %p): %s\n",
                    path, (void *)again, b, base, rl_error());
            in_callback_failures++;
        }
        if (again != NULL && rl_close(again) != 0)
            in_callback_failures++;
    } else if (event == RL_EVENT_UNMAP) {
        n->unmaps++;
        add("unmap", path, base, h);
        /* The object is gone from the registry. */
        again = rl_open(path, RL_NOW | RL_NOLOAD);
        if (again != NULL) {
            fprintf(stderr, "UNMAP %s: still found by rl_open(RL_NOLOAD)\n", path);
            in_callback_failures++;
            rl_close(again);
        }
        rl_error();
    } else {
        fprintf(stderr, "unknown event %d\n", event);
        in_callback_failures++;
    }
}

/* Index of the n-th (0-based) log entry with this `what` and path (NULL: any). */
static int find(const char *what, const char *path, int nth)
{
    int i;
    for (i = 0; i < nlog; i++)
        if (strcmp(log_[i].what, what) == 0 && (path == NULL || strcmp(canonical(log_[i].path), canonical(path)) == 0))
            if (nth-- == 0)
                return i;
    return -1;
}

static int count(const char *what)
{
    int i, n = 0;
    for (i = 0; i < nlog; i++)
        n += strcmp(log_[i].what, what) == 0;
    return n;
}

static int veto_all(void *user, rl_reloc *r)
{
    (void)user;
    r->veto = "events test veto";
    return 1;
}

static void dump_log(void)
{
    int i;
    for (i = 0; i < nlog; i++)
        printf("  log[%d] %s %s %p\n", i, log_[i].what, log_[i].path, log_[i].base);
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *top = strf("%s/libhk_ev_top.so", dir);
    char *dep = strf("%s/libhk_ev_dep.so", dir);
    struct counter n1 = {0, 0}, n2 = {0, 0};
    rl_handle *h, *hd;
    void *top_base = NULL, *dep_base = NULL;
    rl_addr_info info;
    int mt, md, ct, cd, ut, ud, dt, dd;
    rl_open_opts opts;
    size_t len;
    char *image;

    CHECK(rl_on_event(on_event, &n1) == 0, "rl_on_event");
    CHECK(rl_on_event(NULL, &n1) == -1, "a NULL callback is refused");
    EXPECT_SOME_ERROR();

    /* Open: MAP for both objects, each before its constructor. */
    h = rl_open(top, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", top);
    dump_log();
    CHECK(n1.maps == 2 && n1.unmaps == 0, "two MAP events, got %d (and %d UNMAP)", n1.maps, n1.unmaps);
    mt = find("map", top, 0);
    md = find("map", dep, 0);
    ct = find("ctor top", NULL, 0);
    cd = find("ctor dep", NULL, 0);
    CHECK(mt >= 0 && md >= 0, "MAP events name libhk_ev_top.so and libhk_ev_dep.so");
    CHECK(strcmp(log_[mt].path, top) == 0, "the library's event path is the path opened: %s", log_[mt].path);
    CHECK(ct >= 0 && cd >= 0 && cd < ct, "constructors ran, dependency first");
    CHECK(mt < ct, "MAP of the library before its constructor");
    CHECK(md < cd, "MAP of the dependency before its constructor");
    CHECK(rl_info(h, NULL, &top_base, NULL) == 0, "rl_info");
    CHECK(log_[mt].base == top_base, "library base %p, rl_info base %p", log_[mt].base, top_base);
    CHECK(log_[mt].h == h, "the library's event carries its handle");
    hd = rl_open(dep, RL_NOW | RL_NOLOAD);
    CHECK(hd != NULL && rl_info(hd, NULL, &dep_base, NULL) == 0, "rl_info(dependency)");
    CHECK(log_[md].base == dep_base, "dependency base %p, rl_info base %p", log_[md].base, dep_base);
    CHECK(rl_close(hd) == 0, "close the dependency's extra handle");
    CHECK(rl_addr(SYM(h, void *, "hk_ev_dep_value"), &info) && info.fbase == dep_base,
          "rl_addr agrees on the dependency's base");
    CHECK(in_callback_failures == 0, "rl_* calls from the MAP callback");
    CHECK(SYM(h, int (*)(void), "hk_ev_top_value")() == 6, "hk_ev_top_value()");

    /* Close: UNMAP for both, each after its destructor, same paths and bases. */
    CHECK(rl_close(h) == 0, "rl_close");
    dump_log();
    CHECK(n1.maps == 2 && n1.unmaps == 2, "two UNMAP events, got %d", n1.unmaps);
    ut = find("unmap", top, 0);
    ud = find("unmap", dep, 0);
    dt = find("dtor top", NULL, 0);
    dd = find("dtor dep", NULL, 0);
    CHECK(ut >= 0 && ud >= 0 && dt >= 0 && dd >= 0, "UNMAP events and destructors logged");
    CHECK(dt < ut, "UNMAP of the library after its destructor");
    CHECK(dd < ud, "UNMAP of the dependency after its destructor");
    CHECK(log_[ut].base == top_base && log_[ud].base == dep_base, "UNMAP bases are the MAP bases");
    CHECK(strcmp(log_[ut].path, log_[mt].path) == 0 && strcmp(log_[ud].path, log_[md].path) == 0,
          "UNMAP paths are the MAP paths");
    CHECK(in_callback_failures == 0, "rl_open(RL_NOLOAD) from the UNMAP callback finds nothing");
    CHECK(!is_mapped(top) && !is_mapped(dep), "unmapped");

    /* A second callback gets the same events; callbacks are told apart by (function, user). */
    CHECK(rl_on_event(on_event, &n2) == 0, "second rl_on_event");
    h = rl_open(top, RL_LAZY);
    CHECK(h != NULL, "reopen");
    CHECK(rl_close(h) == 0, "close");
    CHECK(n1.maps == 4 && n1.unmaps == 4 && n2.maps == 2 && n2.unmaps == 2,
          "both callbacks: %d/%d and %d/%d", n1.maps, n1.unmaps, n2.maps, n2.unmaps);
    CHECK(rl_off_event(on_event, &n2) == 0, "rl_off_event(second)");

    /* A failed or vetoed load sends no event. */
    memset(&opts, 0, sizeof opts);
    opts.size = sizeof opts;
    opts.on_relocation = veto_all;
    CHECK(rl_open_ex(top, NULL, 0, RL_NOW, &opts) == NULL, "vetoed load");
    EXPECT_ERROR("events test veto");
    CHECK(n1.maps == 4 && n1.unmaps == 4, "no event for a vetoed load (%d/%d)", n1.maps, n1.unmaps);
    CHECK(count("ctor top") == 2 && count("ctor dep") == 2, "no constructor ran for the vetoed load");

    /* From memory: the event path is the name given. */
    image = read_file_or_die(dep, &len);
    hd = rl_open_mem(image, len, "hk-ev-dep-in-memory", RL_NOW);
    free(image);
    CHECK(hd != NULL && rl_info(hd, NULL, &dep_base, NULL) == 0, "rl_open_mem");
    mt = find("map", "hk-ev-dep-in-memory", 0);
    CHECK(mt >= 0 && log_[mt].base == dep_base && log_[mt].h == hd, "MAP event for the in-memory object");
    CHECK(rl_close(hd) == 0, "close");
    CHECK(find("unmap", "hk-ev-dep-in-memory", 0) > mt, "UNMAP event for the in-memory object");
    CHECK(n1.maps == 5 && n1.unmaps == 5 && n2.maps == 2, "counts %d/%d, second %d", n1.maps, n1.unmaps, n2.maps);

    /* rl_off_event stops them. */
    CHECK(rl_off_event(on_event, &n1) == 0, "rl_off_event");
    CHECK(rl_off_event(on_event, &n1) == -1, "removing it twice fails");
    EXPECT_SOME_ERROR();
    h = rl_open(top, RL_NOW);
    CHECK(h != NULL, "open after rl_off_event");
    CHECK(rl_close(h) == 0, "close");
    CHECK(n1.maps == 5 && n1.unmaps == 5 && n2.maps == 2 && n2.unmaps == 2, "no event after rl_off_event");
    CHECK(count("ctor top") == 3 && count("dtor top") == 3, "the library was really opened and closed");
    CHECK(in_callback_failures == 0, "no failure inside callbacks");
    CHECKS_DONE();
}
