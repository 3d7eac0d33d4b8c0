/* Every relocation type of c-tests/fixtures/obj_relocs.S computes what the
 * psABI says: each function gives rel_data's address, calls through a PLT
 * offset, or adds up rel_data's size. argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    rl_handle *h = rl_open(strf("%s/obj_relocs.o", fixture_dir(argc, argv)), RL_NOW);
    static const char *const addr_fns[] = {"rel_pc64", "rel_gotoff64", "rel_got64", "rel_gotpcrel64", "rel_got32", "rel_gotpcrelx"};
    void *data;
    size_t i;
    CHECK(h != NULL, "rl_open(obj_relocs.o)");
    data = SYM(h, void *, "rel_data");
    for (i = 0; i < sizeof addr_fns / sizeof *addr_fns; i++) {
        void *got = SYM(h, void *(*)(void), addr_fns[i])();
        CHECK(got == data, "%s gives rel_data (%p, not %p)", addr_fns[i], got, data);
    }
    CHECK(SYM(h, int (*)(void), "rel_pltoff")() == 42, "R_X86_64_PLTOFF64 to a function of the unit");
    CHECK(SYM(h, int (*)(int), "rel_pltoff_ext")(-5) == 5, "R_X86_64_PLTOFF64 to abs() of the C library, through a stub");
    CHECK(SYM(h, long (*)(void), "rel_sizes")() == 48, "R_X86_64_SIZE64 + R_X86_64_SIZE32");
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
