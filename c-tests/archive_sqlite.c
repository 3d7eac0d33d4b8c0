/* An object and the system's libsqlite3.a (and libm.so.6, which it needs and
 * the host does not link) through rl_link: SQL runs in an in-memory database.
 * libm is given by name, searched as rl_open searches it. argv[1]: fixture dir;
 * argv[2]: libsqlite3.a. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input in[3] = {{strf("%s/arc_sqlite_user.o", dir), NULL, 0, NULL, 0}, {argv[2], NULL, 0, NULL, 0}, {"libm.so.6", NULL, 0, NULL, 0}};
    rl_handle *h = rl_link(in, 3, RL_NOW, NULL);
    int (*run)(char *);
    char out[64] = "";
    CHECK(h != NULL, "rl_link(object, libsqlite3.a, libm.so.6)");
    run = SYM(h, int (*)(char *), "sq_run");
    CHECK(run(out) == 0, "SQL ran: %s", out);
    CHECK(strcmp(out, "a-b-c:6:2.00:2.718") == 0, "result %s", out);
    CHECK(SYM(h, const char *(*)(void), "sqlite3_libversion")()[0] == '3', "sqlite3_libversion");
    CHECK(rl_close(h) == 0, "close");

    /* Without libm the unit cannot be bound: the member that needs it is named. */
    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h == NULL, "libm is needed");
    EXPECT_ERROR_SHOW("libsqlite3.a(", "undefined symbol");
    CHECKS_DONE();
}
