/* A library with an undefined function: under RL_LAZY it opens and works as
 * long as that function is not called; the first call ends the process with
 * status 127 and a message naming the symbol and the library (checked in a
 * forked child). RL_NOW, DF_BIND_NOW (-z now) and LD_BIND_NOW=1 (argv[2] =
 * "bind-now", set by the test) make the open fail instead, naming the symbol.
 * argv[1]: fixture dir. */
#include <sys/wait.h>

#include "check.h"

#define SYMBOL "rt_never_defined"

/* Runs f(arg) in a child with stderr captured; returns its wait status. */
static int in_child(int (*f)(int), int arg, char *err, size_t errlen)
{
    int fds[2], status;
    size_t len = 0;
    ssize_t n;
    pid_t pid;

    CHECK(pipe(fds) == 0, "pipe");
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        printf("child: the call returned %d\n", f(arg));
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    while (len + 1 < errlen && (n = read(fds[0], err + len, errlen - 1 - len)) > 0)
        len += (size_t)n;
    err[len] = '\0';
    close(fds[0]);
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    return status;
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *lazy = strf("%s/librt_lazy_undef.so", dir), *now = strf("%s/librt_lazy_undef_now.so", dir);
    char err[4096];
    rl_handle *h;
    int status;

    if (argc > 2 && strcmp(argv[2], "bind-now") == 0) {
        CHECK(getenv("LD_BIND_NOW") != NULL, "run with LD_BIND_NOW=1");
        CHECK(rl_open(lazy, RL_LAZY) == NULL, "LD_BIND_NOW=1: RL_LAZY must bind at open and fail");
        EXPECT_ERROR_SHOW(SYMBOL, "librt_lazy_undef.so");
        CHECK(!is_mapped(lazy), "nothing left mapped");
        CHECKS_DONE();
    }

    h = rl_open(lazy, RL_LAZY);
    CHECK(h != NULL, "RL_LAZY: a library whose unresolved function is never called opens");
    CHECK(SYM(h, int (*)(int), "lu_ok")(41) == 42, "and works");

    status = in_child(SYM(h, int (*)(int), "lu_call_missing"), 1, err, sizeof err);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 127,
          "calling the unresolvable function must end the process with status 127: status %#x, stderr:\n%s", status,
          err);
    CHECK(strstr(err, SYMBOL) != NULL && strstr(err, "librt_lazy_undef.so") != NULL,
          "the message names the symbol and the library:\n%s", err);
    printf("child's stderr: %s", err);

    status = in_child(SYM(h, int (*)(int), "lu_ok"), 1, err, sizeof err);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0 && err[0] == '\0', "a child calling lu_ok is fine");
    CHECK(SYM(h, int (*)(int), "lu_ok")(1) == 2, "the parent is unaffected");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECK(!is_mapped(lazy), "unmapped");

    CHECK(rl_open(lazy, RL_NOW) == NULL, "RL_NOW must fail at open");
    EXPECT_ERROR_SHOW(SYMBOL, "librt_lazy_undef.so");
    CHECK(!is_mapped(lazy), "nothing left mapped");

    CHECK(rl_open(now, RL_LAZY) == NULL, "DF_BIND_NOW: RL_LAZY must fail at open");
    EXPECT_ERROR_SHOW(SYMBOL, "librt_lazy_undef_now.so");
    CHECK(!is_mapped(now), "nothing left mapped");

    h = rl_open(lazy, RL_LAZY);
    CHECK(h != NULL, "RL_LAZY again after the failed RL_NOW open");
    CHECK(SYM(h, int (*)(int), "lu_ok")(5) == 6, "works");
    CHECK(rl_close(h) == 0, "rl_close");
    CHECKS_DONE();
}
