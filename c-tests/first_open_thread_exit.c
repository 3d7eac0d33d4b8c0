/* The first open of a library without static TLS registers no thread-exit destructor with the
 * C library (its first registration allocates and, once per process, binds the C library's own
 * functions lazily), and asks the kernel for random bytes once (the handle key's words, in one
 * call; no random hash keys): the program's definitions of __cxa_thread_atexit_impl and
 * getrandom, which come first in the global scope, count the calls and hand them on.
 * argv[1]: a library to open. */
#include "check.h"
#include <dlfcn.h>
#include <sys/random.h>

static int registrations;
static int random_calls;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
    static ssize_t (*next)(void *, size_t, unsigned int);
    if (!next)
        next = (ssize_t (*)(void *, size_t, unsigned int))dlsym(RTLD_NEXT, "getrandom");
    random_calls++;
    return next(buf, len, flags);
}

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
    random_calls = 0;
    rl_handle *h = rl_open(argv[1], RL_NOW);
    CHECK(h != NULL, "open %s: %s", argv[1], rl_error());
    CHECK(registrations == 0, "the first open registered %d thread-exit destructors", registrations);
    CHECK(random_calls == 1, "the first open asked for random bytes %d times", random_calls);
    CHECK(rl_close(h) == 0, "close: %s", rl_error());
    CHECKS_DONE();
}
