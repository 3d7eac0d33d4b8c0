/* A %pcrel_lo whose label is on no auipc that a PC-relative HI20 relocation fills: linking
 * this object must fail with a message (c-tests/cross/objects.c). */
    .text
    .globl bad_pair
bad_pair:
.Lno_hi:
    nop
    addi a0, a0, %pcrel_lo(.Lno_hi)
    ret
