/* relink in children of fork(). argv[1]: fixture dir with libfork_third.so
 * and libfork_ctor.so.
 *
 * 1. Two threads open, use and close real libraries (libz, libsqlite3) in a
 *    loop while the main thread forks FORKS times; each child opens a third
 *    library and calls into it, and uses libz. A watchdog fails the test on
 *    any child that does not finish in time (a lock held by a thread that
 *    does not exist in the child).
 * 2. A library whose constructor forks; its child uses relink inside the
 *    constructor.
 * 3. A child closes a handle inherited from its parent and opens it again;
 *    the forking thread's rl_error() message and TLS blocks come along.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define FORKS 300
#define CHILD_SECONDS 20

static volatile int stop;
static int loops[2];

struct worker {
    const char *lib;
    const char *fn;
    int index;
};

static void *worker(void *arg)
{
    struct worker *w = arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        rl_handle *h = rl_open(w->lib, RL_NOW);
        const char *(*version)(void);
        if (h == NULL) {
            fprintf(stderr, "worker: rl_open(%s): %s\n", w->lib, rl_error());
            exit(2);
        }
        version = (const char *(*)(void))rl_sym(h, w->fn);
        if (version == NULL || version()[0] == '\0') {
            fprintf(stderr, "worker: %s in %s: %s\n", w->fn, w->lib, rl_error());
            exit(2);
        }
        if (rl_sym(h, "no_such_symbol_in_worker") != NULL)
            exit(2);
        rl_error();
        if (rl_close(h) != 0) {
            fprintf(stderr, "worker: rl_close(%s): %s\n", w->lib, rl_error());
            exit(2);
        }
        __atomic_fetch_add(&loops[w->index], 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

/* Wait for `pid`, killing it and failing after CHILD_SECONDS. Returns its
 * exit status. */
static int wait_child(pid_t pid, const char *what, int n)
{
    struct timespec start, now;
    int status;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        CHECK(r >= 0, "waitpid(%s %d): %s", what, n, strerror(errno));
        if (r == pid)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= CHILD_SECONDS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            CHECK(0, "%s %d did not finish within %d s (hung in relink after fork)", what, n, CHILD_SECONDS);
        }
        usleep(200);
    }
    CHECK(WIFEXITED(status), "%s %d ended by signal %d", what, n, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return WEXITSTATUS(status);
}

static int child_opens_third(const char *third)
{
    rl_handle *t = rl_open(third, RL_LAZY), *z;
    int (*add)(int, int);
    const char *(*version)(void);
    if (t == NULL)
        return 20;
    add = (int (*)(int, int))rl_sym(t, "fork_third_add");
    if (add == NULL || add(2, 3) != 5)
        return 21;
    z = rl_open("libz.so.1", RL_NOW);
    version = z ? (const char *(*)(void))rl_sym(z, "zlibVersion") : NULL;
    if (version == NULL || version()[0] != '1')
        return 22;
    if (rl_close(z) != 0 || rl_close(t) != 0)
        return 23;
    return 0;
}

static void stress(const char *third)
{
    struct worker w[2] = {{"libz.so.1", "zlibVersion", 0}, {"libsqlite3.so.0", "sqlite3_libversion", 1}};
    pthread_t th[2];
    int i, code;

    for (i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, worker, &w[i]) == 0, "pthread_create");
    /* Let both threads get going. */
    while (__atomic_load_n(&loops[0], __ATOMIC_RELAXED) == 0 || __atomic_load_n(&loops[1], __ATOMIC_RELAXED) == 0)
        usleep(100);
    for (i = 0; i < FORKS; i++) {
        pid_t pid;
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0)
            _exit(child_opens_third(third));
        code = wait_child(pid, "child", i);
        CHECK(code == 0, "child %d failed with code %d", i, code);
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++)
        CHECK(pthread_join(th[i], NULL) == 0, "pthread_join");
    printf("%d forks; the threads opened and closed libz %d and libsqlite3 %d times\n", FORKS, loops[0], loops[1]);
    CHECK(loops[0] > 1 && loops[1] > 1, "both threads kept working");
}

static void constructor_forks(const char *dir)
{
    char *path = strf("%s/libfork_ctor.so", dir);
    rl_handle *h;
    int *pid;
    setenv("FORK_CTOR_SELF", path, 1);
    h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    pid = SYM(h, int *, "fork_ctor_child_pid");
    CHECK(*pid > 0, "the constructor forked");
    CHECK(wait_child(*pid, "constructor's child", 0) == 0, "the constructor's child used relink");
    CHECK(SYM(h, int (*)(void), "fork_ctor_answer")() == 7, "the parent goes on");
    CHECK(rl_close(h) == 0, "rl_close");
}

static int child_reopens(rl_handle *h, const char *third, int *tls)
{
    const char *err = rl_error();
    int (*calls)(void);
    rl_handle *again;
    /* The parent's unread error came along with the forking thread. */
    if (err == NULL || strstr(err, "no_such_symbol_before_fork") == NULL)
        return 30;
    if (*tls != 42)
        return 31;
    if (rl_close(h) != 0)
        return 32;
    again = rl_open(third, RL_NOW);
    if (again == NULL)
        return 33;
    calls = (int (*)(void))rl_sym(again, "fork_third_calls");
    if (calls == NULL)
        return 34;
    /* The parent's handle was the last reference: the library was unloaded and is fresh. */
    if (calls() != 0)
        return 35;
    if (*((int *(*)(void))rl_sym(again, "fork_third_tls"))() != 1)
        return 36;
    return rl_close(again) == 0 ? 0 : 37;
}

static void child_reopens_inherited(const char *third)
{
    rl_handle *h = rl_open(third, RL_NOW);
    int (*add)(int, int);
    int *tls;
    pid_t pid;
    CHECK(h != NULL, "rl_open(%s)", third);
    add = SYM(h, int (*)(int, int), "fork_third_add");
    CHECK(add(1, 1) == 2 && add(2, 2) == 4, "calls before fork");
    tls = SYM(h, int *(*)(void), "fork_third_tls")();
    *tls = 42;
    CHECK(rl_sym(h, "no_such_symbol_before_fork") == NULL, "a miss leaves an error");
    fflush(stdout);
    pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0)
        _exit(child_reopens(h, third, tls));
    CHECK(wait_child(pid, "reopening child", 0) == 0, "the child closed and reopened the inherited handle");
    EXPECT_ERROR("no_such_symbol_before_fork");
    CHECK(SYM(h, int (*)(void), "fork_third_calls")() == 2, "the parent's library is untouched");
    CHECK(rl_close(h) == 0, "rl_close");
}

int main(int argc, char **argv)
{
    const char *dir = fixture_dir(argc, argv);
    char *third = strf("%s/libfork_third.so", dir);
    constructor_forks(dir);
    child_reopens_inherited(third);
    stress(third);
    CHECKS_DONE();
}
