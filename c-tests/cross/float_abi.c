/* A library built for another floating-point ABI than the system's (RISC-V lp64 on an lp64d
 * system, Arm soft-float on a hard-float one) is refused, as glibc's loader refuses it, with a
 * message naming the file and the ABI. */
#include "check.h"

#ifdef __arm__
#define WHY "soft-float ABI (armel), not the hard-float ABI (armhf)"
#else
#define WHY "soft-float ABI (lp64), not lp64d"
#endif

int main(int argc, char **argv)
{
    const char *path = strf("%s/libcross_soft_float.so", fixture_dir(argc, argv));
    CHECK(rl_open(path, RL_NOW) == NULL, "rl_open(%s) fails", path);
    EXPECT_ERROR(path, WHY);
    CHECKS_DONE();
}
