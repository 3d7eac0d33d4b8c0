/* IFUNC symbols: exported (called via rl_sym, via the library's PLT, via a
 * GOT load and via a data word) and local (R_X86_64_IRELATIVE).
 * argv[1]: fixture dir. */
#include "check.h"

typedef int (*int_fn)(int);

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/libifunc.so", dir);
    rl_handle *h;
    int_fn direct, via_got, *data_word;
    int (*call_ifunc_add)(int), (*call_local_mul)(int), (*resolver_calls)(void);
    int_fn (*addr_fn)(void);
    int pass;

    for (pass = 0; pass < 2; pass++) {
        h = rl_open(path, pass == 0 ? RL_NOW : RL_LAZY);
        CHECK(h != NULL, "rl_open(%s) pass %d", path, pass);

        direct = SYM(h, int_fn, "ifunc_add");
        CHECK(direct(1) == 101, "rl_sym(\"ifunc_add\") must return the resolved implementation: (1) -> %d",
              direct(1));

        call_ifunc_add = SYM(h, int (*)(int), "call_ifunc_add");
        CHECK(call_ifunc_add(2) == 102, "call through the library's PLT: %d", call_ifunc_add(2));

        addr_fn = SYM(h, int_fn (*)(void), "ifunc_add_address");
        via_got = addr_fn();
        CHECK(via_got == direct, "address taken inside the library (%p) equals rl_sym's (%p)",
              (void *)via_got, (void *)direct);

        data_word = SYM(h, int_fn *, "ifunc_ptr_in_data");
        CHECK(*data_word == direct, "data relocation against the IFUNC (%p) equals rl_sym's (%p)",
              (void *)*data_word, (void *)direct);
        CHECK((*data_word)(3) == 103, "call through the data word");

        call_local_mul = SYM(h, int (*)(int), "call_local_mul");
        CHECK(call_local_mul(6) == 42, "local IFUNC (IRELATIVE): %d", call_local_mul(6));

        resolver_calls = SYM(h, int (*)(void), "ifunc_resolver_calls");
        CHECK(resolver_calls() >= 1, "the resolver ran (%d calls)", resolver_calls());

        CHECK(rl_close(h) == 0, "close");
        CHECK(!is_mapped(path), "unmapped");
    }

    CHECKS_DONE();
}
