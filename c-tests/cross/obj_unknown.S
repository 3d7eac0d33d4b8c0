/* An object with a relocation type relink does not apply
 * (R_AARCH64_TLSLE_MOVW_TPREL_G2, 544), for object_unknown_reloc.c. */
    .text
    .globl unknown_fn
    .type unknown_fn, %function
unknown_fn:
    mov x0, #0
    .reloc ., R_AARCH64_TLSLE_MOVW_TPREL_G2, unknown_tls
    movz x1, #0, lsl #32
    ret
    .size unknown_fn, . - unknown_fn

    .section .tbss,"awT",%nobits
    .type unknown_tls, %object
unknown_tls:
    .zero 8
    .size unknown_tls, 8
    .section .note.GNU-stack,"",%progbits
