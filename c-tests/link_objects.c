/* rl_link with several objects: calls and data across objects, hidden symbols
 * not exported, a strong definition beating a weak one, static symbols of the
 * same name in two objects; duplicate and undefined symbols refused with
 * messages naming them and the inputs. argv[1]: fixture dir. */
#include "check.h"

static rl_input file(const char *dir, const char *name)
{
    rl_input in = {strf("%s/%s", dir, name), NULL, 0, NULL, 0};
    return in;
}

static void check_ab(rl_handle *h, const char *what)
{
    int (*entry)(void) = SYM(h, int (*)(void), "a_entry");
    int (*pick)(void) = SYM(h, int (*)(void), "weak_pick");
    int (*ca)(void) = SYM(h, int (*)(void), "a_counter");
    int (*cb)(void) = SYM(h, int (*)(void), "b_counter");
    int *b_data = SYM(h, int *, "b_data");
    CHECK(entry() == 106, "%s: calls and data across objects (%d)", what, entry());
    CHECK(pick() == 2, "%s: the strong definition wins over the weak one", what);
    CHECK(ca() == 101 && cb() == 201, "%s: each object keeps its own static", what);
    CHECK(b_data[2] == 3, "%s: data of the second object", what);
    CHECK(rl_sym(h, "a_hidden") == NULL, "%s: a hidden symbol is not exported", what);
    EXPECT_ERROR("a_hidden");
    CHECK(rl_sym(h, "counter") == NULL, "%s: static data is not exported", what);
    EXPECT_ERROR("counter");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input ab[2], dup[2], undef[3], alone[1];
    rl_handle *h;
    size_t la, lb;
    char *ia, *ib;

    ab[0] = file(dir, "link_a.o");
    ab[1] = file(dir, "link_b.o");
    h = rl_link(ab, 2, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link(link_a.o, link_b.o)");
    check_ab(h, "files");
    {
        const char *path;
        CHECK(rl_info(h, &path, NULL, NULL) == 0 && strstr(path, "link_a.o") && strstr(path, "link_b.o"),
              "the unit is named after its inputs (%s)", path);
    }
    {
        /* An rl_open name that is the last input's file name does not denote the unit. */
        char *cwd = getcwd(NULL, 0);
        CHECK(chdir(dir) == 0, "chdir");
        CHECK(rl_open("link_b.o", RL_NOW | RL_NOLOAD) == NULL, "the unit does not answer to link_b.o");
        CHECK(rl_error() == NULL, "an RL_NOLOAD miss is no error");
        CHECK(chdir(cwd) == 0, "chdir back");
        free(cwd);
    }
    CHECK(rl_close(h) == 0, "close");

    /* The same from memory. */
    ia = read_file_or_die(ab[0].path, &la);
    ib = read_file_or_die(ab[1].path, &lb);
    ab[0].path = ab[1].path = NULL;
    ab[0].image = ia, ab[0].len = la, ab[0].name = "a-in-memory.o";
    ab[1].image = ib, ab[1].len = lb, ab[1].name = "b-in-memory.o";
    h = rl_link(ab, 2, RL_NOW, NULL);
    free(ia);
    free(ib);
    CHECK(h != NULL, "rl_link from memory");
    check_ab(h, "memory");
    CHECK(rl_close(h) == 0, "close");

    dup[0] = file(dir, "link_a.o");
    dup[1] = file(dir, "link_dup.o");
    CHECK(rl_link(dup, 2, RL_NOW, NULL) == NULL, "two strong definitions are refused");
    EXPECT_ERROR_SHOW("duplicate symbol", "dup_candidate", "link_a.o", "link_dup.o");

    undef[0] = file(dir, "link_a.o");
    undef[1] = file(dir, "link_b.o");
    undef[2] = file(dir, "link_undef.o");
    CHECK(rl_link(undef, 3, RL_NOW, NULL) == NULL, "an undefined symbol is refused");
    EXPECT_ERROR_SHOW("link_undef.o", "undefined symbol", "nowhere_to_be_found");

    alone[0] = file(dir, "link_a.o");
    CHECK(rl_link(alone, 1, RL_NOW, NULL) == NULL, "link_a.o alone misses what link_b.o defines");
    EXPECT_ERROR_SHOW("link_a.o", "undefined symbol");

    CHECK(rl_link(NULL, 0, RL_NOW, NULL) == NULL, "no inputs");
    EXPECT_ERROR("no inputs");
    alone[0].path = NULL;
    CHECK(rl_link(alone, 1, RL_NOW, NULL) == NULL, "an input with neither path nor image");
    EXPECT_ERROR("neither a path nor an image");
    alone[0] = file(dir, "link_a.o");
    alone[0].flags = 0x40;
    CHECK(rl_link(alone, 1, RL_NOW, NULL) == NULL, "unknown input flags");
    EXPECT_ERROR("unknown flags");
    alone[0] = file(dir, "no-such-file.o");
    CHECK(rl_link(alone, 1, RL_NOW, NULL) == NULL, "a missing file");
    EXPECT_ERROR("no-such-file.o");
    CHECKS_DONE();
}
