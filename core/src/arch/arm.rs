//! 32-bit Arm, hard-float EABI ("armhf": "ELF for the Arm Architecture", AAELF32, section 5.6,
//! and the "Procedure Call Standard for the Arm Architecture", AAPCS, with its VFP variant).
//!
//! Relocations in shared objects are REL: the addend is the word at the place. The psABI's
//! table of the dynamic relocations, with S the symbol value, A the addend, B the base (load
//! bias), P the place and TP the offset of the symbol's static TLS block from the thread
//! pointer:
//!
//! | type               | field    | calculation                          |
//! |--------------------|----------|--------------------------------------|
//! | 2   ABS32          | word32   | S + A (the place may be misaligned)  |
//! | 3   REL32          | word32   | S + A - P                            |
//! | 13  TLS_DESC       | 2×word32 | descriptor: argument, function       |
//! | 17  TLS_DTPMOD32   | word32   | module id of S's block               |
//! | 18  TLS_DTPOFF32   | word32   | S + A (offset in its TLS block)      |
//! | 19  TLS_TPOFF32    | word32   | S + A + TP                           |
//! | 20  COPY           | -        | copy st_size bytes (executables)     |
//! | 21  GLOB_DAT       | word32   | S                                    |
//! | 22  JUMP_SLOT      | word32   | S (lazy binding may defer it)        |
//! | 23  RELATIVE       | word32   | B + A                                |
//! | 160 IRELATIVE      | word32   | resolver(B + A)(AT_HWCAP)            |
//!
//! A TLS descriptor is laid out the other way round from other machines': the argument word
//! first, the function second. The function is called (through a linker-made veneer that loads
//! the second word) with the descriptor's address in r0, returns the variable's offset from the
//! thread pointer in r0, and preserves every other register.
//!
//! The thread pointer is TPIDRURO (`mrc p15, 0, rN, c13, c0, 3`; the kernel's `__aeabi_read_tp`
//! helper reads the same register). TLS is variant I: TP points at an 8-byte thread control
//! block (the DTV pointer and a reserved word) and the static blocks follow it.
//!
//! Objects are not linked on this machine: the object-file items at the end only keep relink's
//! link stage compiling (`OBJECT_LINKING` is false).

use super::{Calc, Kind, RuntimeFn};

pub use super::defaults::*;

pub const EM_ARM: u16 = 40;
pub const ELF_MACHINE: u16 = EM_ARM;
/// The first symbol version of glibc on this machine (its oldest `dlopen` is `dlopen@GLIBC_2.4`).
pub const GLIBC_BASE: &str = "GLIBC_2.4";
/// `e_flags` of the objects relink makes: version 5 of the EABI, hard-float.
pub const ELF_FLAGS: u32 = EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD;
/// Why a file's `e_flags` keep the system loader from running it here: an EABI version 5 file
/// built for the soft-float procedure call standard (armel). glibc's hard-float loader refuses
/// those and nothing else.
pub fn flags_mismatch(e_flags: u32) -> Option<&'static str> {
    if e_flags & EF_ARM_EABIMASK == EF_ARM_EABI_VER5 && e_flags & EF_ARM_ABI_FLOAT_SOFT != 0 {
        return Some("built for the soft-float ABI (armel), not the hard-float ABI (armhf)");
    }
    None
}

pub const NAME: &str = "arm";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_ARM_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_ARM_TLS_TPOFF32;
/// Shared objects carry REL tables (the addend in place), as glibc reads them here.
pub const ACCEPTS_REL: bool = true;

pub const R_ARM_NONE: u32 = 0;
pub const R_ARM_ABS32: u32 = 2;
pub const R_ARM_REL32: u32 = 3;
pub const R_ARM_TLS_DESC: u32 = 13;
pub const R_ARM_TLS_DTPMOD32: u32 = 17;
pub const R_ARM_TLS_DTPOFF32: u32 = 18;
pub const R_ARM_TLS_TPOFF32: u32 = 19;
pub const R_ARM_COPY: u32 = 20;
pub const R_ARM_GLOB_DAT: u32 = 21;
pub const R_ARM_JUMP_SLOT: u32 = 22;
pub const R_ARM_RELATIVE: u32 = 23;
pub const R_ARM_IRELATIVE: u32 = 160;

pub const EF_ARM_ABI_FLOAT_SOFT: u32 = 0x200;
pub const EF_ARM_ABI_FLOAT_HARD: u32 = 0x400;
pub const EF_ARM_EABIMASK: u32 = 0xff00_0000;
pub const EF_ARM_EABI_VER5: u32 = 0x0500_0000;

/// Map a raw relocation type onto its generic kind.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_ARM_NONE => Kind::None,
        R_ARM_ABS32 => Kind::Symbolic,
        R_ARM_REL32 => Kind::PcRel32,
        R_ARM_GLOB_DAT => Kind::GotEntry,
        R_ARM_JUMP_SLOT => Kind::PltSlot,
        R_ARM_RELATIVE => Kind::Relative,
        R_ARM_COPY => Kind::Copy,
        R_ARM_TLS_DTPMOD32 => Kind::DtpMod,
        R_ARM_TLS_DTPOFF32 => Kind::DtpOff,
        R_ARM_TLS_TPOFF32 => Kind::TpOff,
        R_ARM_TLS_DESC => Kind::TlsDesc,
        R_ARM_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// psABI names of the dynamic types and of the static ones most often met, for messages.
const TYPE_NAMES: &[(u32, &str)] = &[
    (0, "R_ARM_NONE"),
    (1, "R_ARM_PC24"),
    (2, "R_ARM_ABS32"),
    (3, "R_ARM_REL32"),
    (5, "R_ARM_ABS16"),
    (8, "R_ARM_ABS8"),
    (10, "R_ARM_THM_CALL"),
    (13, "R_ARM_TLS_DESC"),
    (17, "R_ARM_TLS_DTPMOD32"),
    (18, "R_ARM_TLS_DTPOFF32"),
    (19, "R_ARM_TLS_TPOFF32"),
    (20, "R_ARM_COPY"),
    (21, "R_ARM_GLOB_DAT"),
    (22, "R_ARM_JUMP_SLOT"),
    (23, "R_ARM_RELATIVE"),
    (24, "R_ARM_GOTOFF32"),
    (25, "R_ARM_BASE_PREL"),
    (26, "R_ARM_GOT_BREL"),
    (27, "R_ARM_PLT32"),
    (28, "R_ARM_CALL"),
    (29, "R_ARM_JUMP24"),
    (30, "R_ARM_THM_JUMP24"),
    (38, "R_ARM_TARGET1"),
    (40, "R_ARM_V4BX"),
    (41, "R_ARM_TARGET2"),
    (42, "R_ARM_PREL31"),
    (43, "R_ARM_MOVW_ABS_NC"),
    (44, "R_ARM_MOVT_ABS"),
    (45, "R_ARM_MOVW_PREL_NC"),
    (46, "R_ARM_MOVT_PREL"),
    (47, "R_ARM_THM_MOVW_ABS_NC"),
    (48, "R_ARM_THM_MOVT_ABS"),
    (96, "R_ARM_GOT_PREL"),
    (104, "R_ARM_TLS_GD32"),
    (105, "R_ARM_TLS_LDM32"),
    (106, "R_ARM_TLS_LDO32"),
    (107, "R_ARM_TLS_IE32"),
    (108, "R_ARM_TLS_LE32"),
    (129, "R_ARM_TLS_GOTDESC"),
    (130, "R_ARM_TLS_CALL"),
    (131, "R_ARM_TLS_DESCSEQ"),
    (132, "R_ARM_THM_TLS_CALL"),
    (160, "R_ARM_IRELATIVE"),
];

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    TYPE_NAMES.iter().find(|(t, _)| *t == r_type).map_or("an unknown relocation type", |(_, n)| n)
}

/// TLS variant I: the static blocks follow an 8-byte thread control block at the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::I;
pub const TCB_SIZE: usize = 8;
/// `DTPOFF` values are plain offsets into the block.
pub const DTV_OFFSET: u64 = 0;

/// GOT words reserved for lazy binding: `GOT[1]` (relink's context for the object),
/// `GOT[2]` (the trampoline PLT0 jumps to).
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 2;

/// A TLS descriptor is `{argument, function}` on Arm (elsewhere `{function, argument}`).
pub const TLSDESC_ARGUMENT_FIRST: bool = true;

// -------------------------------------------------------------------------------------------
// Relocatable objects.
//
// The in-process linker in `src/link/` does not link Arm objects (`OBJECT_LINKING`): `.o` and
// `.a` inputs are refused with a message saying so. The items below only give the generic
// linker the names it is compiled against.

/// Relocatable objects are not linked on this machine.
pub const OBJECT_LINKING: bool = false;

/// The generic table `src/link/` reads: nothing is known on Arm.
pub fn object_reloc(_r_type: u32) -> (Calc, Field) {
    (Calc::Unknown, Field::None)
}

/// Dynamic relocation types the linker would emit for what must be bound at load.
pub mod dynrel {
    use super::*;
    pub const ABS64: u32 = R_ARM_ABS32;
    pub const PC32: u32 = R_ARM_REL32;
    pub const ABS32: u32 = R_ARM_ABS32;
    pub const ABS32S: u32 = R_ARM_ABS32;
    pub const GLOB_DAT: u32 = R_ARM_GLOB_DAT;
    pub const IRELATIVE: u32 = R_ARM_IRELATIVE;
    pub const DTPMOD64: u32 = R_ARM_TLS_DTPMOD32;
    pub const DTPOFF64: u32 = R_ARM_TLS_DTPOFF32;
    pub const TPOFF64: u32 = R_ARM_TLS_TPOFF32;
    pub const TLSDESC: u32 = R_ARM_TLS_DESC;
}

/// Size of a call stub: `ldr ip, [pc]; ldr pc, [pc, ip]` and the offset they use (unused: no
/// object is linked).
pub const STUB_SIZE: usize = 12;

pub fn call_stub(_stub: u64, _slot: u64) -> [u8; STUB_SIZE] {
    [0; STUB_SIZE]
}

/// crti.o's and crtn.o's `.init`/`.fini` frame: `push {r3, lr}` and `pop {r3, pc}`.
pub const INIT_PROLOGUE: &[u8] = &[0x08, 0x40, 0x2d, 0xe9];
pub const INIT_EPILOGUE: &[u8] = &[0x08, 0x80, 0xbd, 0xe8];
pub const CODE_FILL: u8 = 0;

/// No runtime functions: no object is linked.
pub const RUNTIME_FNS: &[RuntimeFn] = &[];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_types() {
        // AAELF32's numbers.
        assert_eq!(classify(23), Kind::Relative);
        assert_eq!(classify(2), Kind::Symbolic);
        assert_eq!(classify(19), Kind::TpOff);
        assert_eq!(classify(13), Kind::TlsDesc);
        assert_eq!(classify(160), Kind::Irelative);
        assert_eq!(classify(28), Kind::Unknown, "CALL is an object-file type");
        assert_eq!((ACCEPTS_REL, TLSDESC_ARGUMENT_FIRST, OBJECT_LINKING), (true, true, false));
        // EABI version 5 with the soft-float ABI is what the hard-float loader refuses.
        assert!(flags_mismatch(EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_SOFT).is_some());
        assert_eq!(flags_mismatch(ELF_FLAGS), None);
    }
}
