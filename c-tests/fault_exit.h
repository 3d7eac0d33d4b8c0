/* For child processes that open malformed images: a fault (SIGSEGV, SIGBUS, SIGILL, SIGFPE)
 * ends the child with an exit status telling where it happened, in relink's code or elsewhere
 * (the unwinder, the C library, the image's own code).
 *
 *   exit_on_fault()   install the handlers (on an alternate stack)
 */
#ifndef RELINK_FAULT_EXIT_H
#define RELINK_FAULT_EXIT_H

#include "check.h"

#include <dlfcn.h>
#include <signal.h>
#include <ucontext.h>

enum { CRASH_IN_RELINK = 10, CRASH_ELSEWHERE = 11 };

static void fault_exit_(int sig, siginfo_t *si, void *ctx)
{
    Dl_info info;
    void *pc = (void *)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
    (void)sig;
    (void)si;
    if (dladdr(pc, &info) && info.dli_fname && strstr(info.dli_fname, "librelink"))
        _exit(CRASH_IN_RELINK);
    _exit(CRASH_ELSEWHERE);
}

static inline void exit_on_fault(void)
{
    static char alt[1 << 16];
    stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_exit_;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaltstack(&ss, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
}

#endif
