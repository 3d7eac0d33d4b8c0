/* DT_RELR: librelr.so (linked -z pack-relative-relocs, so its ~600 relative
 * relocations are all in .relr.dyn) has every pointer right after loading,
 * through rl_open and rl_open_mem, each copy pointing into itself.
 * argv[1]: fixture dir. */
#include "check.h"

struct relr_pair {
    const char *name;
    long value;
};

struct relr_view {
    int (*const *fns)(void);
    const char **strs;
    struct relr_pair *pairs;
};

static struct relr_view check_tables(rl_handle *h, const char *how)
{
    struct relr_view v;
    char want[32];
    int i;

    CHECK(SYM(h, int (*)(void), "relr_count")() == 200, "relr_count (%s)", how);
    CHECK(*SYM(h, int **, "relr_self_ptr") == SYM(h, int *(*)(void), "relr_self_address")(),
          "pointer to static data (%s)", how);
    v.fns = SYM(h, int (*const *)(void), "relr_fns");
    v.strs = SYM(h, const char **, "relr_strs");
    v.pairs = SYM(h, struct relr_pair *, "relr_pairs");
    for (i = 0; i < 200; i++) {
        int n = 100 + i;
        CHECK(v.fns[i]() == 3 * n + 1, "relr_fns[%d]() = %d, want %d (%s)", i, v.fns[i](), 3 * n + 1, how);
        snprintf(want, sizeof want, "string %d", n);
        CHECK(strcmp(v.strs[i], want) == 0, "relr_strs[%d] = \"%s\" (%s)", i, v.strs[i], how);
        snprintf(want, sizeof want, "pair %d", n);
        CHECK(strcmp(v.pairs[i].name, want) == 0 && v.pairs[i].value == n, "relr_pairs[%d] = {\"%s\", %ld} (%s)", i,
              v.pairs[i].name, v.pairs[i].value, how);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/librelr.so", dir);
    struct relr_view vf, vm;
    rl_handle *hf, *hm;
    size_t len;
    char *image;
    int i;

    hf = rl_open(path, RL_NOW);
    CHECK(hf != NULL, "rl_open(%s)", path);
    vf = check_tables(hf, "from the file");

    image = read_file_or_die(path, &len);
    hm = rl_open_mem(image, len, "librelr-mem.so", RL_NOW);
    memset(image, 0xcc, len);
    free(image);
    CHECK(hm != NULL && hm != hf, "rl_open_mem(librelr.so image) gives a second copy");
    vm = check_tables(hm, "from memory");

    for (i = 0; i < 200; i++) {
        CHECK(vf.fns[i] != vm.fns[i] && vf.strs[i] != vm.strs[i] && vf.pairs[i].name != vm.pairs[i].name,
              "entry %d of each copy points into that copy", i);
        CHECK((uintptr_t)vm.fns[i] - (uintptr_t)vf.fns[i] == (uintptr_t)vm.strs[i] - (uintptr_t)vf.strs[i] &&
                  (uintptr_t)vm.fns[i] - (uintptr_t)vf.fns[i] == (uintptr_t)vm.pairs - (uintptr_t)vf.pairs,
              "entry %d differs between the copies by the load bias", i);
    }

    CHECK(rl_close(hm) == 0, "close the memory copy");
    CHECK(vf.fns[199]() == 3 * 299 + 1, "the file copy still works");
    CHECK(rl_close(hf) == 0, "close");
    CHECK(!is_mapped(path), "unmapped");

    CHECKS_DONE();
}
