/* object_atexit.o registers an atexit, an at_quick_exit and a pthread_atfork handler with
 * its unit's handle: the fork and quick_exit handlers run while the unit is loaded, the
 * atexit handler when it is unloaded, and the fork handler no more afterwards (the process
 * would crash in unmapped code). (glibc's __cxa_finalize leaves quick_exit handlers
 * registered, for a library unloaded by dlclose too.) argv[1]: the object's directory. */
#include "check.h"
#include <sys/wait.h>
#include <unistd.h>

/* Fork a child that leaves with quick_exit(7) when `quick`, else _exit(7); its exit status. */
static int child(int quick)
{
    int status = -1;
    pid_t pid = fork();
    if (pid == 0) {
        if (quick)
            quick_exit(7);
        _exit(7);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    const char *path = strf("%s/object_atexit.o", fixture_dir(argc, argv));
    int exited = 0;
    rl_handle *h = rl_open(path, RL_NOW);
    CHECK(h != NULL, "rl_open(%s)", path);
    CHECK(SYM(h, int (*)(int *), "obj_atexit_register")(&exited) == 0, "atexit, at_quick_exit, pthread_atfork");
    CHECK(child(0) == 7 && SYM(h, int (*)(void), "obj_atexit_forks")() == 1, "the fork handler ran");
    CHECK(child(1) == 42, "the quick_exit handler ran in a child");
    CHECK(exited == 0, "no exit handler ran yet (%d)", exited);
    CHECK(rl_close(h) == 0, "close %s", path);
    CHECK(exited == 1, "the atexit handler ran at unload (%d)", exited);
    CHECK(child(0) == 7, "fork after unload runs no handler of the unit");
    CHECKS_DONE();
}
