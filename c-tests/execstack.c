/* A library whose PT_GNU_STACK asks for an executable stack is refused
 * through rl_open and rl_open_mem, with a message naming the file and the
 * executable stack, and nothing left mapped. argv[1]: fixture dir holding
 * libexecstack.so (simple.c linked -z execstack) and libsimple.so (the same
 * source linked normally). */
#include "refused.h"

/* Permissions of the main thread's stack ("rw-p"). */
static const char *stack_perms(void)
{
    static char perms[5];
    char *maps = read_maps(), *line = strstr(maps, "[stack]");
    CHECK(line != NULL, "/proc/self/maps shows the stack");
    while (line > maps && line[-1] != '\n')
        line--;
    CHECK(sscanf(line, "%*x-%*x %4s", perms) == 1, "parse the [stack] line");
    free(maps);
    return perms;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *simple = strf("%s/libsimple.so", dir);
    char *execstack = strf("%s/libexecstack.so", dir);
    const char *stack;
    rl_handle *h;
    int i;

    CHECK(stack_perms()[2] != 'x', "the stack starts out not executable: %s", stack_perms());

    h = rl_open(simple, RL_NOW);
    CHECK(h != NULL, "rl_open(%s): the same code without -z execstack loads", simple);
    CHECK(SYM(h, int (*)(int), "simple_triple")(7) == 21, "and works");
    CHECK(rl_close(h) == 0, "close");
    CHECK(!is_mapped(simple), "unmapped after close");

    for (i = 0; i < 2; i++) {
        REFUSED_FROM_FILE(execstack, "executable stack");
        REFUSED_FROM_MEMORY(execstack, "mem-execstack.so", "executable stack");
    }
    CHECK(rl_open(execstack, RL_NOW | RL_NOLOAD) == NULL, "not left loaded");
    EXPECT_ERROR("libexecstack.so");

    stack = stack_perms();
    CHECK(stack[2] != 'x', "the stack is still not executable: %s", stack);

    CHECKS_DONE();
}
