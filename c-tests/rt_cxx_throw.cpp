/* A C++ host catches exceptions thrown by a plugin loaded through relink
 * (types from a shared header, std:: types, a non-std type), its own
 * exceptions cross the plugin's frames (running the plugin's destructors),
 * threads throw concurrently, backtrace() from inside the plugin walks back
 * out into the host, and open/throw/close cycles keep working. argv[1]: fixture dir; argv[2]: "lazy" or "now". */
#include <dlfcn.h>
#include <pthread.h>

#include <cstdint>
#include <string>

#include "check.h"
#include "fixtures/rt_throw.h"

static void (*throw_custom)(int);
static void (*throw_runtime)(const char *);
static void (*throw_plain)(int);
static int (*vector_at)(int);
static int (*through)(rt_callback, int, int *);
static int (*catch_host)(rt_callback, int);
static int (*bt_outer)(void **, int);

static void host_thrower(int v)
{
    throw RtError("from the host", v);
}

/* The address ranges of `path` in /proc/self/maps. */
struct ranges {
    int n;
    uintptr_t lo[16], hi[16];
};

static ranges mapped_ranges(const char *path)
{
    ranges r{};
    char *maps = read_maps(), *want = canonical(path), *line = maps;
    size_t wl = strlen(want);
    while (*line && r.n < 16) {
        char *nl = strchr(line, '\n');
        if (nl == NULL)
            nl = line + strlen(line);
        size_t ll = (size_t)(nl - line);
        unsigned long lo, hi;
        if (ll > wl && memcmp(nl - wl, want, wl) == 0 && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
            r.lo[r.n] = lo;
            r.hi[r.n] = hi;
            r.n++;
        }
        line = *nl ? nl + 1 : nl;
    }
    free(want);
    free(maps);
    return r;
}

static bool in_ranges(const ranges &r, const void *p)
{
    for (int i = 0; i < r.n; i++)
        if ((uintptr_t)p >= r.lo[i] && (uintptr_t)p < r.hi[i])
            return true;
    return false;
}

static int caught_in_thread[4];

static void *throwing_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 300; i++) {
        try {
            if (i % 3 == 0)
                throw_custom(id * 1000 + i);
            else if (i % 3 == 1)
                vector_at(100 + i);
            else
                throw_plain(i);
        } catch (const RtError &e) {
            caught_in_thread[id] += e.code == id * 1000 + i;
        } catch (const std::out_of_range &) {
            caught_in_thread[id]++;
        } catch (const RtPlain &p) {
            caught_in_thread[id] += p.a == i;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    int flags = argc > 2 && strcmp(argv[2], "lazy") == 0 ? RL_LAZY : RL_NOW;
    char *path = strf("%s/librt_throw_plugin.so", dir);
    rl_handle *h = rl_open(path, flags);
    CHECK(h != NULL, "rl_open(%s)", path);

    throw_custom = SYM(h, void (*)(int), "rtt_throw_custom");
    throw_runtime = SYM(h, void (*)(const char *), "rtt_throw_runtime");
    throw_plain = SYM(h, void (*)(int), "rtt_throw_plain");
    vector_at = SYM(h, int (*)(int), "rtt_vector_at");
    through = SYM(h, int (*)(rt_callback, int, int *), "rtt_through");
    catch_host = SYM(h, int (*)(rt_callback, int), "rtt_catch_host");
    bt_outer = SYM(h, int (*)(void **, int), "rtt_bt_outer");

    bool caught = false;
    try {
        throw_custom(5);
    } catch (const RtError &e) {
        caught = e.code == 5 && strcmp(e.what(), "custom error 5") == 0;
    }
    CHECK(caught, "RtError (shared header type) thrown by the plugin, caught by the host");

    caught = false;
    try {
        throw_custom(6);
    } catch (const std::runtime_error &e) {
        caught = strcmp(e.what(), "custom error 6") == 0;
    }
    CHECK(caught, "RtError caught as its base std::runtime_error");

    caught = false;
    try {
        throw_runtime("boom from the plugin");
    } catch (const std::exception &e) {
        caught = strcmp(e.what(), "boom from the plugin") == 0 && dynamic_cast<const std::runtime_error *>(&e);
    }
    CHECK(caught, "std::runtime_error caught as std::exception");

    caught = false;
    try {
        throw_plain(3);
    } catch (const RtPlain &p) {
        caught = p.a == 3 && p.b == 1.5;
    }
    CHECK(caught, "a non-std exception type");

    caught = false;
    try {
        vector_at(7);
    } catch (const std::out_of_range &e) {
        caught = strstr(e.what(), "vector") != NULL;
    }
    CHECK(caught, "std::out_of_range thrown by libstdc++ on behalf of the plugin");
    CHECK(vector_at(2) == 3, "no exception when in range");

    int dtors = 0;
    caught = false;
    try {
        through(host_thrower, 9, &dtors);
    } catch (const RtError &e) {
        caught = e.code == 9 && strcmp(e.what(), "from the host") == 0;
    }
    CHECK(caught, "the host's exception crossed the plugin's frames");
    CHECK(dtors == 2, "the plugin's destructors ran during unwinding: %d of 2", dtors);

    CHECK(catch_host(host_thrower, 12) == 12, "the plugin catches the host's RtError");

    /* Many throws, from several threads at once. */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&t[i], NULL, throwing_thread, (void *)(intptr_t)i) == 0, "pthread_create");
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_join(t[i], NULL) == 0, "join");
        CHECK(caught_in_thread[i] == 300, "thread %d caught %d of 300", i, caught_in_thread[i]);
    }

    /* backtrace() inside the plugin: three plugin frames, then back in the host. */
    void *frames[64];
    int n = bt_outer(frames, 64);
    ranges plugin = mapped_ranges(path);
    CHECK(plugin.n > 0, "the plugin's mappings");
    int first = -1, in_plugin = 0;
    for (int i = 0; i < n; i++) {
        if (in_ranges(plugin, frames[i])) {
            if (first < 0)
                first = i;
            in_plugin++;
        }
    }
    CHECK(n >= 5, "backtrace returned only %d frames", n);
    CHECK(in_plugin >= 3, "%d of the %d frames lie in the plugin, want the 3 plugin functions", in_plugin, n);
    int after = first + in_plugin;
    CHECK(after < n, "the backtrace stops in the plugin (%d frames)", n);
    Dl_info info;
    CHECK(dladdr(frames[after], &info) != 0 && info.dli_sname != NULL && strcmp(info.dli_sname, "main") == 0,
          "the frame after the plugin's is main() of the host, got %s", info.dli_sname ? info.dli_sname : "(none)");

    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(!is_mapped(path), "unmapped");

    /* Unloading deregisters the plugin's frames: open, throw, close, again. */
    for (int cycle = 0; cycle < 50; cycle++) {
        rl_handle *c = rl_open(path, flags);
        CHECK(c != NULL, "cycle %d: rl_open", cycle);
        void (*thrower)(int) = SYM(c, void (*)(int), "rtt_throw_custom");
        int code = -1;
        try {
            thrower(cycle);
        } catch (const RtError &e) {
            code = e.code;
        }
        CHECK(code == cycle, "cycle %d: caught %d", cycle, code);
        CHECK(rl_close(c) == 0, "cycle %d: rl_close", cycle);
    }
    CHECK(!is_mapped(path), "unmapped after the cycles");
    caught = false;
    try {
        host_thrower(3);
    } catch (const RtError &e) {
        caught = e.code == 3;
    }
    CHECK(caught, "the host's own exceptions after the plugin's frames were deregistered");
    CHECKS_DONE();
}
