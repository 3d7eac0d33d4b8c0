/* The first open of a library without static TLS registers no thread-exit destructor with the
 * C library (its first registration allocates and, once per process, binds the C library's own
 * functions lazily): the program's definition of __cxa_thread_atexit_impl, which comes first in
 * the global scope, counts the registrations and hands them on. argv[1]: a library to open. */
#include "check.h"
#include <dlfcn.h>

static int registrations;

int __cxa_thread_atexit_impl(void (*f)(void *), void *obj, void *dso)
{
    static int (*next)(void (*)(void *), void *, void *);
    if (!next)
        next = (int (*)(void (*)(void *), void *, void *))dlsym(RTLD_NEXT, "__cxa_thread_atexit_impl");
    registrations++;
    return next(f, obj, dso);
}

int main(int argc, char **argv)
{
    CHECK(argc == 2, "usage: first_open_thread_exit LIB");
    rl_handle *h = rl_open(argv[1], RL_NOW);
    CHECK(h != NULL, "open %s: %s", argv[1], rl_error());
    CHECK(registrations == 0, "the first open registered %d thread-exit destructors", registrations);
    CHECK(rl_close(h) == 0, "close: %s", rl_error());
    CHECKS_DONE();
}
