/* Branches farther than they reach: obj_far.o's code spans more than 128 MiB, so its calls
 * and tail calls across the gap, and its tail call to the C library (through a stub after
 * the code), go through veneers; opened with rl_open and linked with rl_link. argv[1]: the
 * object's directory. */
#include "check.h"

static void check_far(rl_handle *h, const char *what)
{
    CHECK(h != NULL, "%s", what);
    CHECK(SYM(h, int (*)(int), "far_a")(1) == 1012, "%s: a call across the gap and back", what);
    CHECK(SYM(h, int (*)(int), "far_a_tail")(1) == 303, "%s: a tail call across the gap", what);
    CHECK(SYM(h, int (*)(int), "far_b_back")(2) == 306, "%s: a tail call back across the gap", what);
    CHECK(SYM(h, long (*)(long), "far_a_labs")(-5) == 5, "%s: a tail call to the C library beyond the gap", what);
    {
        char *a = SYM(h, char *, "far_a"), *b = SYM(h, char *, "far_b");
        CHECK(b - a > (128 << 20), "%s: the functions are %td bytes apart", what, b - a);
    }
    CHECK(rl_close(h) == 0, "close (%s)", what);
}

int main(int argc, char **argv)
{
    const char *path = strf("%s/obj_far.o", fixture_dir(argc, argv));
    rl_input in[1] = {{path, NULL, 0, NULL, 0}};
    check_far(rl_open(path, RL_NOW), strf("rl_open(%s)", path));
    check_far(rl_link(in, 1, RL_NOW, NULL), strf("rl_link(%s)", path));
    CHECKS_DONE();
}
