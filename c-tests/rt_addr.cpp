/* rl_addr (dladdr for relink-loaded objects) and rl_info on a C++ plugin:
 * the file, base and nearest exported symbol of plugin code and data, the
 * plugin functions in a backtrace() taken inside the plugin, and 0 for
 * addresses outside relink's objects. argv[1]: fixture dir. */
#include "check.h"

static int host_function(int x)
{
    return x + 1;
}

static bool same_file(const char *a, const char *b)
{
    char *ca = canonical(a), *cb = canonical(b);
    bool same = strcmp(ca, cb) == 0;
    free(ca);
    free(cb);
    return same;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/librt_throw_plugin.so", dir);
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);

    const char *info_path = NULL;
    void *base = NULL;
    size_t modid = 99;
    CHECK(rl_info(h, &info_path, &base, &modid) == 0, "rl_info");
    CHECK(info_path != NULL && same_file(info_path, path), "rl_info path %s, opened as %s",
          info_path ? info_path : "(null)", path);
    CHECK(base != NULL, "rl_info base");
    CHECK(modid == 0, "the plugin has no TLS: modid %zu", modid);

    auto outer = SYM(h, int (*)(void **, int), "rtt_bt_outer");
    void *outer_addr = reinterpret_cast<void *>(outer);
    rl_addr_info ai;

    memset(&ai, 0, sizeof ai);
    CHECK(rl_addr(outer_addr, &ai) != 0, "rl_addr on rtt_bt_outer");
    CHECK(ai.fname != NULL && same_file(ai.fname, path), "fname %s", ai.fname ? ai.fname : "(null)");
    CHECK(ai.fbase == base, "fbase %p, rl_info base %p", ai.fbase, base);
    CHECK(ai.sname != NULL && strcmp(ai.sname, "rtt_bt_outer") == 0, "sname %s", ai.sname ? ai.sname : "(null)");
    CHECK(ai.saddr == outer_addr, "saddr %p, function at %p", ai.saddr, outer_addr);

    memset(&ai, 0, sizeof ai);
    CHECK(rl_addr(static_cast<char *>(outer_addr) + 5, &ai) != 0, "rl_addr inside rtt_bt_outer");
    CHECK(ai.sname != NULL && strcmp(ai.sname, "rtt_bt_outer") == 0 && ai.saddr == outer_addr,
          "the function containing the address: %s at %p", ai.sname ? ai.sname : "(null)", ai.saddr);

    /* Data. */
    int *data = SYM(h, int *, "rtt_data");
    CHECK(*data == 1234, "rtt_data");
    memset(&ai, 0, sizeof ai);
    CHECK(rl_addr(data, &ai) != 0 && ai.sname != NULL && strcmp(ai.sname, "rtt_data") == 0 && ai.saddr == data,
          "rl_addr on a plugin variable: %s", ai.sname ? ai.sname : "(null)");

    /* The ELF header: inside the object, below every symbol. */
    memset(&ai, 0x55, sizeof ai);
    CHECK(rl_addr(base, &ai) != 0, "rl_addr on the load base");
    CHECK(ai.fbase == base && ai.sname == NULL && ai.saddr == NULL,
          "no symbol at or below the ELF header: sname %p saddr %p", (const void *)ai.sname, ai.saddr);

    /* Frames of a backtrace taken three plugin functions deep. */
    void *frames[64];
    int n = outer(frames, 64);
    const char *want[] = {"rtt_bt_inner", "rtt_bt_middle", "rtt_bt_outer"};
    int next = 0, in_plugin = 0;
    for (int i = 0; i < n; i++) {
        memset(&ai, 0, sizeof ai);
        if (!rl_addr(frames[i], &ai))
            continue;
        in_plugin++;
        CHECK(ai.fbase == base, "frame %d: fbase %p", i, ai.fbase);
        if (next < 3 && ai.sname != NULL && strcmp(ai.sname, want[next]) == 0)
            next++;
    }
    CHECK(in_plugin >= 3, "%d of %d backtrace frames lie in the plugin according to rl_addr", in_plugin, n);
    CHECK(next == 3, "rl_addr named the plugin frames in order up to %s only", next ? want[next - 1] : "none");

    /* Outside relink's objects. */
    memset(&ai, 0, sizeof ai);
    CHECK(rl_addr(reinterpret_cast<void *>(host_function), &ai) == 0, "rl_addr on a host function");
    CHECK(rl_addr(reinterpret_cast<void *>(&printf), &ai) == 0, "rl_addr on a libc function");
    CHECK(rl_addr(&ai, &ai) == 0, "rl_addr on the stack");
    CHECK(rl_addr(NULL, &ai) == 0, "rl_addr(NULL)");
    CHECK(host_function(1) == 2, "host function");

    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(!is_mapped(path), "unmapped");
    CHECK(rl_addr(outer_addr, &ai) == 0, "rl_addr on the unloaded plugin's old address");
    CHECK(rl_info(h, NULL, NULL, NULL) == -1, "rl_info on a closed handle");
    EXPECT_ERROR("handle");
    CHECKS_DONE();
}
