//! TLS layout arithmetic (Drepper, "ELF Handling For Thread-Local Storage", section 3.4, and
//! the psABIs' TLS sections): where the static blocks of a thread sit relative to its thread
//! pointer, for both variants. The blocks themselves, their allocation and the thread pointer
//! are the runtime's (relink's `src/tls.rs`); the machine's constants are in its arch file
//! (`TLS_VARIANT`, `TCB_SIZE`, `DTV_OFFSET`).
//!
//! - Variant I (AArch64, Arm, RISC-V): the thread pointer points at a thread control block of
//!   `tcb_size` bytes and the blocks follow it, each at the next multiple of its alignment:
//!   the first at `round(tcb_size, align₁)`, block m + 1 at `round(offsetₘ + sizeₘ, alignₘ₊₁)`.
//! - Variant II (x86-64, i386): the blocks end at the thread pointer, each below the one
//!   before: the first `round(size₁, align₁)` bytes below it, block m + 1
//!   `round(offsetₘ + sizeₘ₊₁, alignₘ₊₁)` bytes below it.
//!
//! (glibc also keeps the block's offset within its alignment, `p_vaddr mod p_align`, which
//! objects linked by today's linkers leave at zero; it is not modelled here.)

use crate::arch::TlsVariant;

/// Where the next static TLS block goes: `size` bytes aligned to `align` (a power of two, or
/// 0 or 1 for none), after the blocks placed so far, whose extent is `extent` (0 before the
/// first block: in variant I the offset just past the last block, in variant II how far below
/// the thread pointer the lowest one starts). Returns the block's offset from the thread
/// pointer (negative in variant II) and the new extent; None if `align` is not a power of two
/// or the offsets overflow.
pub fn place_block(variant: TlsVariant, tcb_size: usize, extent: usize, size: usize, align: usize) -> Option<(isize, usize)> {
    let align = align.max(1);
    if !align.is_power_of_two() {
        return None;
    }
    let up = |v: usize| v.checked_add(align - 1).map(|v| v & !(align - 1));
    match variant {
        TlsVariant::I => {
            let start = up(extent.max(tcb_size))?;
            let end = start.checked_add(size)?;
            Some((isize::try_from(start).ok()?, end))
        }
        TlsVariant::II => {
            let below = up(extent.checked_add(size)?)?;
            Some((isize::try_from(below).ok()?.checked_neg()?, below))
        }
    }
}

/// Whether a block at `offset` from the thread pointer lies in a static TLS area of `size`
/// bytes (what glibc's `_dl_get_tls_static_info` reports): below the thread pointer in variant
/// II, past the thread control block and before `size` in variant I.
pub fn in_static_tls(variant: TlsVariant, tcb_size: usize, offset: isize, size: usize) -> bool {
    match variant {
        TlsVariant::II => offset < 0 && offset.unsigned_abs() <= size,
        TlsVariant::I => usize::try_from(offset).is_ok_and(|o| (tcb_size..size).contains(&o)),
    }
}

#[cfg(test)]
mod tests {
    //! Offsets worked out by hand from the formulas of Drepper's section 3.4 (quoted at the top
    //! of the module), not from the code.
    use super::*;
    use std::vec::Vec;

    /// The offsets of `blocks` (size, alignment) placed one after another.
    fn layout(variant: TlsVariant, tcb: usize, blocks: &[(usize, usize)]) -> Vec<isize> {
        let mut extent = 0;
        let mut out = Vec::new();
        for &(size, align) in blocks {
            let (offset, e) = place_block(variant, tcb, extent, size, align).unwrap();
            out.push(offset);
            extent = e;
        }
        out
    }

    #[test]
    fn variant_two() {
        // x86-64: 0x14 bytes at 8 → round(0x14, 8) = 0x18 below; 4 at 4 → round(0x18 + 4, 4) =
        // 0x1c; 0x10 at 16 → round(0x1c + 0x10, 16) = 0x30.
        assert_eq!(layout(TlsVariant::II, 0, &[(0x14, 8), (4, 4), (0x10, 16)]), [-0x18, -0x1c, -0x30]);
        // An empty block still takes its alignment's round-up of the extent.
        assert_eq!(layout(TlsVariant::II, 0, &[(1, 1), (0, 64)]), [-1, -64]);
    }

    #[test]
    fn variant_one() {
        // AArch64 (16-byte TCB): 0x14 bytes at 8 → round(16, 8) = 16, ending at 0x24; 4 at 4 →
        // 0x24, ending at 0x28; 0x10 at 32 → round(0x28, 32) = 0x40.
        assert_eq!(layout(TlsVariant::I, 16, &[(0x14, 8), (4, 4), (0x10, 32)]), [16, 0x24, 0x40]);
        // A first block aligned past the TCB: round(16, 64) = 64.
        assert_eq!(layout(TlsVariant::I, 16, &[(8, 64)]), [64]);
        // Arm's 8-byte TCB: round(8, 8) = 8.
        assert_eq!(layout(TlsVariant::I, 8, &[(4, 8)]), [8]);
        // RISC-V: the first block at the thread pointer itself.
        assert_eq!(layout(TlsVariant::I, 0, &[(8, 8), (1, 1), (8, 8)]), [0, 8, 0x10]);
    }

    #[test]
    fn bad_input() {
        assert_eq!(place_block(TlsVariant::I, 16, 0, 8, 24), None);
        assert_eq!(place_block(TlsVariant::II, 0, usize::MAX, 8, 8), None);
        assert_eq!(place_block(TlsVariant::I, 16, usize::MAX - 4, 8, 8), None);
        assert_eq!(place_block(TlsVariant::I, 0, 0, 8, 0), Some((0, 8)));
    }

    #[test]
    fn static_area() {
        // Variant II, an area of 0x1000 bytes below the thread pointer.
        let ii = |o| in_static_tls(TlsVariant::II, 0, o, 0x1000);
        assert!(ii(-0x18) && ii(-0x1000));
        assert!(!ii(0) && !ii(-0x1001) && !ii(0x10));
        // Variant I with a 16-byte TCB: offsets 16 up to the area's end.
        let i = |o| in_static_tls(TlsVariant::I, 16, o, 0x1000);
        assert!(i(16) && i(0xfff));
        assert!(!i(8) && !i(0x1000) && !i(-8));
    }
}
