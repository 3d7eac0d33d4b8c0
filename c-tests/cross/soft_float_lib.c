/* libcross_soft_float.so: built for the soft-float ABI (RISC-V's lp64, Arm's armel), which the
 * system's hard-float loader does not run. No C library: the toolchain has none for that ABI. */
long soft_float_answer(void)
{
    return 42;
}
