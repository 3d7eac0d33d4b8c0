/* include/relink.h used from strict C99 (-std=c99 -Wall -Wextra -Werror
 * -pedantic): it must be self-contained (included first) and declare every
 * function and flag with the documented types. */
#include "relink.h"

#include <stdio.h>
#include <string.h>

static int checks;

#define EXPECT(cond)                                                         \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond); \
            return 1;                                                        \
        }                                                                    \
        checks++;                                                            \
    } while (0)

int main(void)
{
    rl_handle *(*open_fn)(const char *, int) = rl_open;
    rl_handle *(*open_mem_fn)(const void *, size_t, const char *, int) = rl_open_mem;
    void *(*sym_fn)(rl_handle *, const char *) = rl_sym;
    void *(*vsym_fn)(rl_handle *, const char *, const char *) = rl_vsym;
    int (*close_fn)(rl_handle *) = rl_close;
    const char *(*error_fn)(void) = rl_error;
    const int flags[] = {RL_LAZY, RL_NOW, RL_NOLOAD, RL_DEEPBIND, RL_GLOBAL, RL_LOCAL, RL_NODELETE};
    const int values[] = {0x1, 0x2, 0x4, 0x8, 0x100, 0, 0x1000};
    rl_handle *self;
    const char *err;
    size_t i;

    for (i = 0; i < sizeof flags / sizeof flags[0]; i++)
        EXPECT(flags[i] == values[i]);

    EXPECT(error_fn() == NULL);
    self = open_fn(NULL, RL_NOW);
    EXPECT(self != NULL);
    EXPECT(sym_fn(self, "puts") != NULL);
    EXPECT(vsym_fn(self, "puts", "GLIBC_2.2.5") == sym_fn(self, "puts"));
    EXPECT(open_fn("/nonexistent/libheader_c99.so", RL_NOW) == NULL);
    err = error_fn();
    EXPECT(err != NULL && strstr(err, "libheader_c99.so") != NULL);
    EXPECT(error_fn() == NULL);
    EXPECT(open_mem_fn(NULL, 0, "header-c99-mem.so", RL_NOW) == NULL);
    err = error_fn();
    EXPECT(err != NULL && strstr(err, "header-c99-mem.so") != NULL);
    EXPECT(close_fn(self) == 0);

    printf("%d checks passed\n", checks);
    return 0;
}
