/* Relocatable objects compiled for the machine, opened with rl_open and linked together with
 * rl_link: object_a.c and object_b.c, once with -fPIC (object_*.o) and once as the compiler's
 * default position-independent executable code (object_*_pie.o); and object_bad_pair.o, whose
 * %pcrel_lo has no partner, refused. argv[1]: their directory. */
#include "check.h"

static void check_pair(const char *dir, const char *suffix)
{
    const char *a = strf("%s/object_a%s.o", dir, suffix), *b = strf("%s/object_b%s.o", dir, suffix);
    rl_input in[2] = {{a, NULL, 0, NULL, 0}, {b, NULL, 0, NULL, 0}};
    rl_handle *h;
    char buf[64];

    /* One object alone. */
    h = rl_open(b, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", b);
    CHECK(SYM(h, int (*)(int), "obj_b_scale")(4) == 41, "%s: a function of the object", b);
    CHECK(*SYM(h, int *, "obj_b_counter") == 100, "%s: its data", b);
    CHECK(rl_close(h) == 0, "close %s", b);

    /* object_a.o needs object_b.o. */
    CHECK(rl_open(a, RL_NOW) == NULL, "rl_open(%s) alone fails", a);
    EXPECT_ERROR(a, "obj_b_");

    h = rl_link(in, 2, RL_NOW, NULL);
    CHECK(h != NULL, "rl_link(%s, %s)", a, b);
    CHECK(SYM(h, int (*)(void), "obj_a_ctor")() == 42, "%s: the constructor ran", a);
    CHECK(SYM(h, int (*)(char *, size_t, int), "obj_a_sorted")(buf, sizeof buf, 2) > 0 &&
              strcmp(buf, "1 3 5 7 9 two 2.5") == 0,
          "%s: qsort with a callback, snprintf, rodata (%s)", a, buf);
    {
        int (*op)(int, int, int) = SYM(h, int (*)(int, int, int), "obj_a_op");
        int (**tab)(int, int) = SYM(h, int (**)(int, int), "obj_a_ops");
        CHECK(op(0, 6, 7) == 13 && op(1, 6, 7) == -1 && op(2, 6, 7) == 42, "%s: a read-only function table", a);
        CHECK(tab[0](6, 7) == 42 && tab[1](6, 7) == 13, "%s: a writable function table", a);
    }
    CHECK(SYM(h, int (*)(int), "obj_a_cross")(2) == 31 + 100 + 3, "%s: calls and data across objects", a);
    CHECK(SYM(h, int (*)(void), "obj_a_print")() == 1, "%s: stdout", a);
    {
        int (*bump)(void) = SYM(h, int (*)(void), "obj_a_tls_bump");
        int first = bump();
        CHECK(first == 8 && bump() == 9, "%s: a thread-local variable (%d)", a, first);
    }
    /* What object_a.c's loop gives for 100, worked out apart from it. */
    CHECK(SYM(h, int (*)(int), "obj_a_loop")(100) == 12911426, "%s: branches", a);
    CHECK(SYM(h, int *, "obj_a_data")[2] == 9, "%s: exported data", a);
    CHECK(rl_sym(h, "helper") == NULL, "%s: a static function is not exported", a);
    EXPECT_ERROR("helper");
    CHECK(rl_sym(h, "ctor_ran") == NULL, "%s: static data is not exported", a);
    EXPECT_ERROR("ctor_ran");
    CHECK(rl_close(h) == 0, "close the unit");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    check_pair(dir, "");
    check_pair(dir, "_pie");
    {
        const char *bad = strf("%s/object_bad_pair.o", dir);
        CHECK(rl_open(bad, RL_NOW) == NULL, "rl_open(%s) fails", bad);
        EXPECT_ERROR(bad, "R_RISCV_PCREL_LO12_I", ".Lno_hi", "labels no instruction");
    }
    CHECKS_DONE();
}
