/* An object whose code spans more than a branch reaches (129 MiB of executable .bss-like
 * section between its two halves, .far_gap, nothing of it on disk), for obj_far.c: calls (BL,
 * R_AARCH64_CALL26) and tail calls (B, R_AARCH64_JUMP26) across the gap both ways, and a
 * tail call to a function of the C library, whose stub lies beyond the gap too. */
    .text
    .globl far_a
    .type far_a, %function
far_a:                          /* far_a(x) = far_b(x) + 1 */
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    bl far_b
    add w0, w0, #1
    ldp x29, x30, [sp], #16
    ret
    .size far_a, . - far_a

    .globl far_a_tail
    .type far_a_tail, %function
far_a_tail:                     /* far_a_tail(x) = far_b_leaf(x + 100) */
    add w0, w0, #100
    b far_b_leaf
    .size far_a_tail, . - far_a_tail

    .globl far_a_leaf
    .type far_a_leaf, %function
far_a_leaf:
    add w0, w0, #1000
    ret
    .size far_a_leaf, . - far_a_leaf

    .globl far_a_labs
    .type far_a_labs, %function
far_a_labs:                     /* labs(x), from the C library */
    b labs
    .size far_a_labs, . - far_a_labs

    .section .far_gap,"ax",%nobits
    .skip 129 << 20

    .section .text.far,"ax",%progbits
    .globl far_b
    .type far_b, %function
far_b:                          /* far_b(x) = far_a_leaf(x + 10) */
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    add w0, w0, #10
    bl far_a_leaf
    ldp x29, x30, [sp], #16
    ret
    .size far_b, . - far_b

    .globl far_b_leaf
    .type far_b_leaf, %function
far_b_leaf:                     /* far_b_leaf(x) = 3 * x */
    add w0, w0, w0, lsl #1
    ret
    .size far_b_leaf, . - far_b_leaf

    .globl far_b_back
    .type far_b_back, %function
far_b_back:                     /* far_b_back(x) = far_a_tail(x) */
    b far_a_tail
    .size far_b_back, . - far_b_back
    .section .note.GNU-stack,"",%progbits
