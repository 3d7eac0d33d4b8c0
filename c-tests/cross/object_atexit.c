/* An object that registers handlers with atexit, at_quick_exit and pthread_atfork, which
 * the runtime object supplies (libc_nonshared.a's job in a normal link), for obj_atexit.c. */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int *exited;
static int forks;

static void on_exit_handler(void)
{
    *exited += 1;
}

static void on_quick_exit(void)
{
    _exit(42);
}

static void on_fork(void)
{
    forks++;
}

int obj_atexit_register(int *flag)
{
    exited = flag;
    return atexit(on_exit_handler) | at_quick_exit(on_quick_exit) | pthread_atfork(on_fork, NULL, NULL);
}

int obj_atexit_forks(void)
{
    return forks;
}
