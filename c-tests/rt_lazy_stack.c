/* The first call through a lazily bound PLT slot from a thread with a small
 * stack (PTHREAD_STACK_MIN, then larger): whatever stack size glibc's own
 * lazy resolver manages with (dlopen RTLD_LAZY, measured in a child), relink's
 * trampoline must manage with too. Each attempt runs in a forked child.
 * argv[1]: fixture dir. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <sys/wait.h>

#include "check.h"

static long (*many)(int);
static long result;

static void *first_call(void *arg)
{
    (void)arg;
    result = many(6);
    return NULL;
}

/* 0 when the first call succeeded in a thread with `stack` bytes of stack. */
static int attempt(const char *path, int with_glibc, size_t stack)
{
    pid_t pid;
    int status;

    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        pthread_attr_t attr;
        pthread_t t;
        if (with_glibc) {
            void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
            if (h == NULL)
                _exit(3);
            many = (long (*)(int))dlsym(h, "lzc_many");
        } else {
            rl_handle *h = rl_open(path, RL_LAZY);
            if (h == NULL)
                _exit(3);
            many = (long (*)(int))rl_sym(h, "lzc_many");
        }
        if (many == NULL || pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, stack) != 0 ||
            pthread_create(&t, &attr, first_call, NULL) != 0 || pthread_join(t, NULL) != 0)
            _exit(4);
        _exit(result == 2L * (6 + 7000) + 1 ? 0 : 5);
    }
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    return status;
}

static const char *describe(int status)
{
    static char buf[64];
    if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, sizeof buf, "status %#x", status);
    return buf;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *path = strf("%s/liblazy_stack_caller.so", dir);
    size_t min = (size_t)sysconf(_SC_THREAD_STACK_MIN), sizes[4];
    int i, tried = 0;

    if (min < PTHREAD_STACK_MIN)
        min = PTHREAD_STACK_MIN;
    sizes[0] = min;
    sizes[1] = min + 4096;
    sizes[2] = min + 8192;
    sizes[3] = 4 * min;
    for (i = 0; i < 4; i++) {
        int glibc = attempt(path, 1, sizes[i]), relink;
        if (glibc != 0) {
            printf("stack %zu: glibc's lazy binding fails too (%s): not required of relink\n", sizes[i],
                   describe(glibc));
            continue;
        }
        tried++;
        relink = attempt(path, 0, sizes[i]);
        CHECK(relink == 0,
              "first call through a lazy PLT slot in a thread with a %zu-byte stack (PTHREAD_STACK_MIN %zu): "
              "glibc's resolver manages, relink's: %s",
              sizes[i], min, describe(relink));
        printf("stack %zu: ok\n", sizes[i]);
    }
    CHECK(tried > 0, "glibc's lazy binding failed with every stack size tried");
    CHECKS_DONE();
}
