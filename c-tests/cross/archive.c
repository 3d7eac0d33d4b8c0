/* An archive built with the toolchain's ar (libcross_arc.a, see archive_member.c): linked
 * with an object through rl_link, members pulled as ld pulls them (those the unit needs,
 * until nothing changes) or all of them with RL_INPUT_WHOLE_ARCHIVE; opened whole with
 * rl_open and rl_open_mem. argv[1]: the directory of the archive and of arc_user.o. */
#include "check.h"

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv), *arc = strf("%s/libcross_arc.a", dir);
    rl_input in[2] = {{strf("%s/arc_user.o", dir), NULL, 0, NULL, 0}, {arc, NULL, 0, NULL, 0}};
    rl_handle *h;
    size_t len;
    char *image;

    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link(arc_user.o, %s)", arc);
    CHECK(SYM(h, int (*)(int), "arc_user")(4) == 71, "calls through the members it pulls");
    CHECK(rl_sym(h, "arc_two") != NULL, "a member needed by a pulled member is linked");
    CHECK(rl_sym(h, "arc_unused") == NULL, "a member nothing needs is not linked");
    EXPECT_ERROR("arc_unused");
    CHECK(rl_close(h) == 0, "close");

    in[1].flags = RL_INPUT_WHOLE_ARCHIVE;
    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL && SYM(h, int (*)(int), "arc_unused")(5) == -5, "RL_INPUT_WHOLE_ARCHIVE links every member");
    CHECK(rl_close(h) == 0, "close");

    h = rl_open(arc, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", arc);
    CHECK(SYM(h, int (*)(int), "arc_one")(1) == 40 && SYM(h, int (*)(int), "arc_unused")(2) == -2, "rl_open links every member");
    image = read_file_or_die(arc, &len);
    {
        rl_handle *m = rl_open_mem(image, len, "libcross_arc.a (memory)", RL_NOW);
        free(image);
        CHECK(m != NULL && m != h && SYM(m, int (*)(int), "arc_two")(0) == 3, "rl_open_mem");
        CHECK(rl_close(m) == 0, "close");
    }
    CHECK(rl_close(h) == 0, "close");
    CHECKS_DONE();
}
