/* An object, the system's libicuuc.a (C++) and libicudata.a, and
 * libstdc++.so.6 as a shared-object input, through rl_link: upper case with
 * German rules through ICU's C API. The host links libstdc++ itself, since the
 * archive's code reaches libstdc++'s thread-local variables with initial-exec
 * accesses. argv[1]: fixture dir; argv[2..4]: libicuuc.a, libicudata.a,
 * libstdc++.so.6. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input in[4] = {
        {strf("%s/arc_icu_user.o", dir), NULL, 0, NULL, 0},
        {argv[2], NULL, 0, NULL, 0},
        {argv[3], NULL, 0, NULL, 0},
        {argv[4], NULL, 0, NULL, 0},
    };
    rl_handle *h = rl_link(in, 4, RL_NOW, NULL);
    char out[64] = "";
    CHECK(h != NULL, "rl_link(object, libicuuc.a, libicudata.a, libstdc++.so.6)");
    CHECK(SYM(h, int (*)(char *, int), "icu_upper")(out, sizeof out) == 0, "u_strToUpper");
    CHECK(strcmp(out, "STRASSE RELINK") == 0, "German upper case: %s", out);
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
