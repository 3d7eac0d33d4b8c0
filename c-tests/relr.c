/* DT_RELR: librelr.so (linked -z pack-relative-relocs, or by lld with
 * --pack-dyn-relocs=relr, so its ~600 relative relocations are all in
 * .relr.dyn) has every pointer right after loading, through rl_open and
 * rl_open_mem, each copy pointing into itself. The test first makes sure that
 * the library it loaded has its relocations in a DT_RELR table: a linker that
 * does not pack them (GNU ld 2.40 ignores the option on several machines)
 * would otherwise leave nothing here for RELR to do.
 * argv[1]: fixture dir. */
#include "check.h"

#include <link.h>

struct relr_pair {
    const char *name;
    long value;
};

struct relr_view {
    int (*const *fns)(void);
    const char **strs;
    struct relr_pair *pairs;
};

struct relr_dynamic {
    uintptr_t base;
    const ElfW(Dyn) *dyn;
};

static int find_dynamic(struct dl_phdr_info *info, size_t size, void *data)
{
    struct relr_dynamic *d = data;
    int i;

    (void)size;
    if (info->dlpi_addr != d->base)
        return 0;
    for (i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
            d->dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
    return 1;
}

/* The loaded library's dynamic section has DT_RELR, DT_RELRSZ and DT_RELRENT, and
 * its RELR table holds the offsets of at least the 600 pointers of the fixture
 * (an even entry is one offset, an odd one a bitmap of up to 63 (or 31) more). */
static void check_relr_table(rl_handle *h, const char *how)
{
    struct relr_dynamic d = {0, NULL};
    const ElfW(Dyn) *e;
    const ElfW(Addr) *table;
    ElfW(Addr) relr = 0, relrsz = 0, relrent = 0;
    size_t offsets = 0, i;
    void *base;

    CHECK(rl_info(h, NULL, &base, NULL) == 0, "rl_info (%s)", how);
    d.base = (uintptr_t)base;
    CHECK(rl_iterate_phdr(find_dynamic, &d) == 1 && d.dyn != NULL, "librelr.so's PT_DYNAMIC (%s)", how);
    for (e = d.dyn; e->d_tag != DT_NULL; e++) {
        if (e->d_tag == DT_RELR)
            relr = e->d_un.d_ptr;
        else if (e->d_tag == DT_RELRSZ)
            relrsz = e->d_un.d_val;
        else if (e->d_tag == DT_RELRENT)
            relrent = e->d_un.d_val;
    }
    CHECK(relr != 0 && relrsz != 0 && relrent == sizeof(ElfW(Addr)),
          "librelr.so has no DT_RELR table (DT_RELR %#lx, DT_RELRSZ %lu, DT_RELRENT %lu; %s): "
          "its linker did not pack the relative relocations, so RELR would go untested",
          (unsigned long)relr, (unsigned long)relrsz, (unsigned long)relrent, how);
    table = (const ElfW(Addr) *)(d.base + relr);
    for (i = 0; i < relrsz / sizeof *table; i++)
        offsets += (table[i] & 1) ? (size_t)__builtin_popcountll(table[i]) - 1 : 1;
    CHECK(offsets >= 600, "librelr.so's DT_RELR table holds %zu offsets, want at least 600 (%s)", offsets, how);
}

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
    check_relr_table(hf, "from the file");
    vf = check_tables(hf, "from the file");

    image = read_file_or_die(path, &len);
    hm = rl_open_mem(image, len, "librelr-mem.so", RL_NOW);
    memset(image, 0xcc, len);
    free(image);
    CHECK(hm != NULL && hm != hf, "rl_open_mem(librelr.so image) gives a second copy");
    check_relr_table(hm, "from memory");
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
