/* Functions with a variant calling convention (RISC-V: DT_RISCV_VARIANT_CC and
 * STO_RISCV_VARIANT_CC, arguments in vector registers) are bound when the library is opened,
 * even with RL_LAZY, as glibc binds them: the lazy-binding trampoline keeps only the standard
 * argument registers. Ordinary functions stay lazy. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_variant_cc.so", fixture_dir(argc, argv));
    rl_handle *h = rl_open(path, RL_LAZY);
    CHECK(h != NULL, "rl_open(%s, RL_LAZY)", path);
    int (*unbound)(const char *) = SYM(h, int (*)(const char *), "slot_unbound");
    CHECK(unbound("vector_cc") == 0, "the variant-CC function's PLT slot is bound at open (%d)", unbound("vector_cc"));
    CHECK(unbound("plain") == 1, "the ordinary function's PLT slot is left for the first call (%d)", unbound("plain"));
    CHECK(SYM(h, int (*)(void), "call_vector_cc")() == 42, "call through the bound slot");
    CHECK(SYM(h, int (*)(void), "call_plain")() == 7, "lazy call");
    CHECK(unbound("plain") == 0, "the first call bound the ordinary slot");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
