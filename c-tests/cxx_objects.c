/* Two C++ objects and libstdc++.so.6 (a shared-object input: this C host has
 * no C++ runtime) through rl_link: an inline function's static local and a
 * template's static member exist once, an exception thrown in one object is
 * caught in the other, and global objects are constructed at load and
 * destroyed at unload. argv[1]: fixture dir; argv[2]: libstdc++.so.6. */
#include "check.h"

static char log_buf[256];

/* Called by the objects' constructors and destructors (bound through the global scope). */
void cxx_host_log(const char *what)
{
    strcat(log_buf, what);
    strcat(log_buf, ";");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    rl_input in[3] = {{strf("%s/cxx_obj_a.o", dir), NULL, 0, NULL, 0}, {strf("%s/cxx_obj_b.o", dir), NULL, 0, NULL, 0}, {argv[2], NULL, 0, NULL, 0}};
    rl_handle *h = rl_link(in, 3, RL_NOW, NULL);
    int (*a_count)(void), (*b_count)(void), (*catch_)(int), (*calls)(void);
    long (*a_twice)(long), (*b_twice)(long);

    CHECK(h != NULL, "rl_link(cxx_obj_a.o, cxx_obj_b.o, libstdc++.so.6)");
    CHECK(strcmp(log_buf, "ctor a;ctor b;") == 0, "global constructors ran in input order: %s", log_buf);
    a_count = SYM(h, int (*)(void), "cxx_a_count");
    b_count = SYM(h, int (*)(void), "cxx_b_count");
    CHECK(a_count() == 1 && b_count() == 2 && a_count() == 3, "one static local for the inline function");
    CHECK(SYM(h, void *(*)(void), "cxx_a_counter_address")() == SYM(h, void *(*)(void), "cxx_b_counter_address")(),
          "both objects reach the same copy");
    a_twice = SYM(h, long (*)(long), "cxx_a_twice");
    b_twice = SYM(h, long (*)(long), "cxx_b_twice");
    calls = SYM(h, int (*)(void), "cxx_a_template_calls");
    CHECK(a_twice(21) == 42 && b_twice(50) == 100 && calls() == 2, "one template static member (%d)", calls());
    catch_ = SYM(h, int (*)(int), "cxx_catch");
    CHECK(catch_(5) == 10, "no exception");
    CHECK(catch_(-1) == -1, "std::runtime_error thrown in one object, caught in the other");
    CHECK(catch_(0) == 1042, "int thrown in one object, caught in the other");
    CHECK(rl_close(h) == 0, "close");
    CHECK(strcmp(log_buf, "ctor a;ctor b;dtor b;dtor a;") == 0, "destructors ran at unload, in reverse: %s", log_buf);
    CHECKS_DONE();
}
