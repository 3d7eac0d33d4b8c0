/* libcross_soft_float.so: built for RISC-V's soft-float ABI (lp64), which the lp64d system
 * loader does not run. No C library: the toolchain has none for that ABI. */
long soft_float_answer(void)
{
    return 42;
}
