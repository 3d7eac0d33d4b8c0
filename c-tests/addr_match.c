/* rl_addr agrees with glibc's dladdr on every byte of a library: the same
 * library is loaded by relink and (a copy) by the system loader, and for
 * each offset inside their load segments both must name the same symbol at
 * the same offset, or no symbol at all (padding, the end of .bss, bytes
 * past a symbol's size, a size-0 symbol except at its own address).
 * argv[1]: fixture dir holding libaddr_syms.so and libaddr_syms_dl.so. */
#include "check.h"

#include <dlfcn.h>
#include <link.h>

struct segs {
    const char *name;
    uintptr_t base;
    ElfW(Phdr) loads[8];
    int n;
};

static int find_loads(struct dl_phdr_info *info, size_t size, void *data)
{
    struct segs *s = data;
    (void)size;
    if (info->dlpi_name == NULL || strstr(info->dlpi_name, s->name) == NULL)
        return 0;
    s->base = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && s->n < 8; i++)
        if (info->dlpi_phdr[i].p_type == PT_LOAD)
            s->loads[s->n++] = info->dlpi_phdr[i];
    return 1;
}

static const char *show(const char *s)
{
    return s ? s : "(null)";
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libaddr_syms.so", dir);
    char *dl_path = strf("%s/libaddr_syms_dl.so", dir);
    rl_handle *h = rl_open(path, RL_NOW);
    void *dh = dlopen(dl_path, RTLD_NOW | RTLD_LOCAL);
    struct segs rl = {"/libaddr_syms.so", 0, {{0}}, 0};
    struct segs sys = {"/libaddr_syms_dl.so", 0, {{0}}, 0};
    size_t checked = 0, unnamed = 0, past_size = 0;

    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(dh != NULL, "dlopen(%s): %s", dl_path, dlerror());
    CHECK(rl_iterate_phdr(find_loads, &rl) == 1, "relink's copy in rl_iterate_phdr");
    CHECK(dl_iterate_phdr(find_loads, &sys) == 1, "the system loader's copy in dl_iterate_phdr");
    CHECK(rl.n == sys.n && rl.n >= 2, "same load segments: %d and %d", rl.n, sys.n);

    int *data = SYM(h, int *, "addr_data");
    char *bss = SYM(h, char *, "addr_bss_small");
    Dl_info di;
    rl_addr_info ri;

    for (int i = 0; i < rl.n; i++) {
        ElfW(Phdr) *ph = &rl.loads[i];
        for (ElfW(Addr) off = ph->p_vaddr; off < ph->p_vaddr + ph->p_memsz; off++) {
            void *ra = (void *)(rl.base + off), *da = (void *)(sys.base + off);
            memset(&ri, 0x55, sizeof ri);
            memset(&di, 0x55, sizeof di);
            int rf = rl_addr(ra, &ri), df = dladdr(da, &di);
            if (rf == 0 || df == 0) {
                CHECK(0, "offset %#lx: rl_addr %d, dladdr %d", (unsigned long)off, rf, df);
            }
            if ((ri.sname == NULL) != (di.dli_sname == NULL) ||
                (ri.sname != NULL && strcmp(ri.sname, di.dli_sname) != 0) ||
                (uintptr_t)ri.saddr - (ri.saddr ? rl.base : 0) !=
                    (uintptr_t)di.dli_saddr - (di.dli_saddr ? sys.base : 0)) {
                CHECK(0, "offset %#lx: rl_addr names %s at %p (base %#lx), dladdr names %s at %p (base %#lx)",
                      (unsigned long)off, show(ri.sname), ri.saddr, (unsigned long)rl.base,
                      show(di.dli_sname), di.dli_saddr, (unsigned long)sys.base);
            }
            if (ri.sname == NULL)
                unnamed++;
            checked++;
        }
    }
    printf("%zu offsets compared, %zu without a symbol\n", checked, unnamed);
    CHECK(unnamed > 0, "some bytes belong to no symbol");

    /* The cases by name. */
    CHECK(rl_addr(data + 1, &ri) != 0, "just past addr_data");
    if (ri.sname != NULL && strcmp(ri.sname, "addr_data") == 0)
        past_size++;
    CHECK(rl_addr(bss + 10, &ri) != 0, "just past addr_bss_small");
    if (ri.sname != NULL && strcmp(ri.sname, "addr_bss_small") == 0)
        past_size++;
    CHECK(past_size == 0, "no address past a symbol's size is named after it");
    CHECK(rl_addr(bss + 9, &ri) != 0 && ri.sname != NULL && strcmp(ri.sname, "addr_bss_small") == 0 &&
              ri.saddr == bss,
          "the last byte of addr_bss_small: %s", show(ri.sname));
    char *mark = SYM(h, char *, "addr_code_mark");
    CHECK(rl_addr(mark, &ri) != 0 && ri.sname != NULL && strcmp(ri.sname, "addr_code_mark") == 0,
          "a size-0 symbol at its own address: %s", show(ri.sname));
    CHECK(rl_addr(mark + 1, &ri) != 0 && (ri.sname == NULL || strcmp(ri.sname, "addr_code_mark") != 0),
          "a size-0 symbol only at its own address: %s", show(ri.sname));

    /* The highest possible address must not wrap around. */
    CHECK(rl_addr((void *)UINTPTR_MAX, &ri) == 0, "rl_addr on the last address");

    CHECK(rl_close(h) == 0, "rl_close");
    dlclose(dh);
    CHECKS_DONE();
}
