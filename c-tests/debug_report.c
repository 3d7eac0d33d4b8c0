/* RELINK_DEBUG in a program linking librelink.so: opens libdbg_user.so (which needs
 * libdbg_dep.so) from a file and libsimple.so from memory, and calls into them. The test
 * reads what RELINK_DEBUG_OUTPUT.PID holds. argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_handle *h = rl_open(strf("%s/libdbg_user.so", dir), RL_NOW);
    CHECK(h != NULL, "rl_open libdbg_user.so");
    int (*f)(int) = (int (*)(int))rl_sym(h, "chain_b");
    CHECK(f != NULL && f(2) == 8, "chain_b");
    FILE *in = fopen(strf("%s/libsimple.so", dir), "rb");
    CHECK(in != NULL, "open libsimple.so");
    static char image[1 << 20];
    size_t n = fread(image, 1, sizeof image, in);
    fclose(in);
    rl_handle *m = rl_open_mem(image, n, "simple-in-memory", RL_LAZY);
    CHECK(m != NULL, "rl_open_mem");
    int (*triple)(int) = (int (*)(int))rl_sym(m, "simple_triple");
    CHECK(triple != NULL && triple(5) == 15, "simple_triple");
    CHECK(rl_close(m) == 0 && rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
