/* Thread-local storage of relink-loaded libraries on the target machine: each library named
 * on the command line (built from tls_lib.c with another TLS access model) sees its
 * initialized .tdata and zeroed .tbss, keeps its values between calls, and rl_sym and
 * rl_tls_block give the addresses its code uses. Single-threaded: qemu-user 7.2 hangs in
 * pthread_create in aarch64 guests, so threads are left to the native test suite. */
#include "check.h"

int main(int argc, char **argv)
{
    char path[PATH_MAX];
    CHECK(argc >= 3, "usage: tls DIR LIB...");
    for (int i = 2; i < argc; i++) {
        snprintf(path, sizeof path, "%s/%s", argv[1], argv[i]);
        rl_handle *h = rl_open(path, RL_NOW);
        CHECK(h != NULL, "rl_open(%s)", path);
        long *(*addr)(void) = SYM(h, long *(*)(void), "counter_addr");
        long (*bump)(long) = SYM(h, long (*)(long), "bump");
        double (*scaled)(double) = SYM(h, double (*)(double), "scaled");
        int (*zeros_sum)(void) = SYM(h, int (*)(void), "zeros_sum");
        long *counter = SYM(h, long *, "counter");
        CHECK(addr() == counter, "%s: rl_sym(counter) %p is the address its code uses %p", argv[i], (void *)counter,
              (void *)addr());
        CHECK(*counter == 5, "%s: counter starts at 5: %ld", argv[i], *counter);
        CHECK(scaled(4.0) == 10.0, "%s: scale starts at 2.5", argv[i]);
        CHECK(zeros_sum() == 0, "%s: .tbss starts zeroed", argv[i]);
        CHECK(bump(10) == 15 && bump(1) == 16 && *counter == 16, "%s: counter keeps its value", argv[i]);
        CHECK(zeros_sum() == 2 * 4950, "%s: .tbss written: %d", argv[i], zeros_sum());
        char *block = rl_tls_block(h);
        CHECK(block != NULL && (char *)counter >= block && (char *)counter < block + 256,
              "%s: rl_tls_block %p holds counter %p", argv[i], (void *)block, (void *)counter);
#ifdef __i386__
        /* __tls_get_addr with its argument on the stack finds the variable too. */
        void *(*stack_entry)(size_t *) = SYM(h, void *(*)(size_t *), "tls_get_addr_stack");
        size_t ti[2] = {0, (size_t)((char *)counter - block)};
        CHECK(rl_info(h, NULL, NULL, &ti[0]) == 0 && ti[0] != 0, "%s: rl_info gives a module id", argv[i]);
        CHECK(stack_entry(ti) == counter, "%s: __tls_get_addr({%zu, %zu}) %p, counter %p", argv[i], ti[0], ti[1],
              stack_entry(ti), (void *)counter);
#endif
        CHECK(rl_close(h) == 0, "rl_close(%s)", argv[i]);
    }
    CHECKS_DONE();
}
