/* rl_link gathers the sections named like C identifiers of all objects into one
 * run, between __start_NAME and __stop_NAME, with no other section among them.
 * argv[1]: fixture dir. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input in[2] = {
        {strf("%s/link_items_a.o", dir), NULL, 0, NULL, 0},
        {strf("%s/link_items_b.o", dir), NULL, 0, NULL, 0},
    };
    rl_handle *h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link(link_items_a.o, link_items_b.o)");
    int (*count)(void) = SYM(h, int (*)(void), "items_count");
    int (*sum)(void) = SYM(h, int (*)(void), "items_sum");
    CHECK(count() == 3, "three entries between __start_link_items and __stop_link_items (%d)", count());
    CHECK(sum() == 43, "the entries of both objects, nothing else (%d)", sum());
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
