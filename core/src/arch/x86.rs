//! i386 (System V psABI, "Intel386 Architecture Processor Supplement", and the TLS and TLS
//! descriptor extensions), ELF32, as i686 Linux runs it.
//!
//! Relocations in shared objects are REL: the addend is the word at the place (the second word
//! of a TLS descriptor). The psABI's table, with S the symbol value, A the addend, B the base
//! (load bias), P the place and TP the thread pointer:
//!
//! | type              | field  | calculation   |
//! |-------------------|--------|---------------|
//! | 1  32             | word32 | S + A         |
//! | 2  PC32           | word32 | S + A - P     |
//! | 5  COPY           |        | (executables) |
//! | 6  GLOB_DAT       | word32 | S             |
//! | 7  JUMP_SLOT      | word32 | S             |
//! | 8  RELATIVE       | word32 | B + A         |
//! | 14 TLS_TPOFF      | word32 | S + A - TP-relative block offset (negative) |
//! | 35 TLS_DTPMOD32   | word32 | module id     |
//! | 36 TLS_DTPOFF32   | word32 | S + A (in its TLS block) |
//! | 37 TLS_TPOFF32    | word32 | A - (TP-relative offset of S) (positive) |
//! | 41 TLS_DESC       | 2×word32 | descriptor  |
//! | 42 IRELATIVE      | word32 | indirect (B + A) |
//!
//! The thread pointer is %gs:0 and the TLS blocks of static modules sit below it (variant II).
//! Functions take their arguments on the stack (cdecl); the PLT pushes the byte offset of its
//! relocation in `.rel.plt`.
//!
//! Objects are not linked on this machine: the object-file items at the end only keep relink's
//! link stage compiling (`OBJECT_LINKING` is false).

use super::{Calc, Kind, RuntimeFn};

pub use super::defaults::*;

pub const EM_386: u16 = 3;
pub const ELF_MACHINE: u16 = EM_386;
/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.0";
/// `e_flags` of the objects relink makes (none are defined on i386).
pub const ELF_FLAGS: u32 = 0;
/// Why a file's `e_flags` keep the system loader from running it here: never on i386.
pub fn flags_mismatch(_e_flags: u32) -> Option<&'static str> {
    None
}

pub const NAME: &str = "i386";

pub const R_386_NONE: u32 = 0;
pub const R_386_32: u32 = 1;
pub const R_386_PC32: u32 = 2;
pub const R_386_GOT32: u32 = 3;
pub const R_386_PLT32: u32 = 4;
pub const R_386_COPY: u32 = 5;
pub const R_386_GLOB_DAT: u32 = 6;
pub const R_386_JMP_SLOT: u32 = 7;
pub const R_386_RELATIVE: u32 = 8;
pub const R_386_GOTOFF: u32 = 9;
pub const R_386_GOTPC: u32 = 10;
pub const R_386_TLS_TPOFF: u32 = 14;
pub const R_386_TLS_IE: u32 = 15;
pub const R_386_TLS_GOTIE: u32 = 16;
pub const R_386_TLS_LE: u32 = 17;
pub const R_386_TLS_GD: u32 = 18;
pub const R_386_TLS_LDM: u32 = 19;
pub const R_386_16: u32 = 20;
pub const R_386_PC16: u32 = 21;
pub const R_386_8: u32 = 22;
pub const R_386_PC8: u32 = 23;
pub const R_386_TLS_LDO_32: u32 = 32;
pub const R_386_TLS_IE_32: u32 = 33;
pub const R_386_TLS_LE_32: u32 = 34;
pub const R_386_TLS_DTPMOD32: u32 = 35;
pub const R_386_TLS_DTPOFF32: u32 = 36;
pub const R_386_TLS_TPOFF32: u32 = 37;
pub const R_386_SIZE32: u32 = 38;
pub const R_386_TLS_GOTDESC: u32 = 39;
pub const R_386_TLS_DESC_CALL: u32 = 40;
pub const R_386_TLS_DESC: u32 = 41;
pub const R_386_IRELATIVE: u32 = 42;
pub const R_386_GOT32X: u32 = 43;

/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_386_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_386_TLS_TPOFF;
/// REL tables are what i386 objects have (glibc loads RELA ones too).
pub const ACCEPTS_REL: bool = true;

/// Map a raw relocation type onto its generic kind. `R_386_32` fills a whole word: it is the
/// symbolic word relocation here.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_386_NONE => Kind::None,
        R_386_32 => Kind::Symbolic,
        R_386_PC32 => Kind::PcRel32,
        R_386_GLOB_DAT => Kind::GotEntry,
        R_386_JMP_SLOT => Kind::PltSlot,
        R_386_RELATIVE => Kind::Relative,
        R_386_COPY => Kind::Copy,
        R_386_TLS_DTPMOD32 => Kind::DtpMod,
        R_386_TLS_DTPOFF32 => Kind::DtpOff,
        R_386_TLS_TPOFF => Kind::TpOff,
        R_386_TLS_TPOFF32 => Kind::TpOffNeg,
        R_386_TLS_DESC => Kind::TlsDesc,
        R_386_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        R_386_NONE => "R_386_NONE",
        R_386_32 => "R_386_32",
        R_386_PC32 => "R_386_PC32",
        R_386_GOT32 => "R_386_GOT32",
        R_386_PLT32 => "R_386_PLT32",
        R_386_COPY => "R_386_COPY",
        R_386_GLOB_DAT => "R_386_GLOB_DAT",
        R_386_JMP_SLOT => "R_386_JMP_SLOT",
        R_386_RELATIVE => "R_386_RELATIVE",
        R_386_GOTOFF => "R_386_GOTOFF",
        R_386_GOTPC => "R_386_GOTPC",
        R_386_TLS_TPOFF => "R_386_TLS_TPOFF",
        R_386_TLS_IE => "R_386_TLS_IE",
        R_386_TLS_GOTIE => "R_386_TLS_GOTIE",
        R_386_TLS_LE => "R_386_TLS_LE",
        R_386_TLS_GD => "R_386_TLS_GD",
        R_386_TLS_LDM => "R_386_TLS_LDM",
        R_386_16 => "R_386_16",
        R_386_PC16 => "R_386_PC16",
        R_386_8 => "R_386_8",
        R_386_PC8 => "R_386_PC8",
        R_386_TLS_LDO_32 => "R_386_TLS_LDO_32",
        R_386_TLS_IE_32 => "R_386_TLS_IE_32",
        R_386_TLS_LE_32 => "R_386_TLS_LE_32",
        R_386_TLS_DTPMOD32 => "R_386_TLS_DTPMOD32",
        R_386_TLS_DTPOFF32 => "R_386_TLS_DTPOFF32",
        R_386_TLS_TPOFF32 => "R_386_TLS_TPOFF32",
        R_386_SIZE32 => "R_386_SIZE32",
        R_386_TLS_GOTDESC => "R_386_TLS_GOTDESC",
        R_386_TLS_DESC_CALL => "R_386_TLS_DESC_CALL",
        R_386_TLS_DESC => "R_386_TLS_DESC",
        R_386_IRELATIVE => "R_386_IRELATIVE",
        R_386_GOT32X => "R_386_GOT32X",
        _ => "an unknown relocation type",
    }
}

/// TLS variant II: the static blocks end at the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::II;
/// No thread control block precedes the blocks (variant II keeps it above the thread pointer).
pub const TCB_SIZE: usize = 0;
/// `DTPOFF` values are plain offsets into the block.
pub const DTV_OFFSET: u64 = 0;

/// GOT words reserved for lazy binding: PLT0 pushes `GOT[1]` (relink's context for the object)
/// and jumps to `GOT[2]` (the trampoline).
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 2;
/// The lazy-binding trampoline is handed the byte offset of the PLT relocation in `.rel.plt`
/// (what i386's PLT pushes), not its index.
pub const LAZY_ARG_IS_OFFSET: bool = true;

// -------------------------------------------------------------------------------------------
// Relocatable objects: not linked on i386 (`src/link/` is ELF64 only). The items below keep
// the link stage compiling; a `.o` or `.a` input is refused before any of them is used.

/// Relocatable objects are refused on this machine.
pub const OBJECT_LINKING: bool = false;

/// No object relocation is known.
pub fn object_reloc(_r_type: u32) -> (Calc, Field) {
    (Calc::Unknown, Field::None)
}

/// Dynamic relocation types the linker would emit (unused: objects are refused).
pub mod dynrel {
    pub const ABS64: u32 = 0;
    pub const PC32: u32 = 0;
    pub const ABS32: u32 = 0;
    pub const ABS32S: u32 = 0;
    pub const GLOB_DAT: u32 = 0;
    pub const IRELATIVE: u32 = 0;
    pub const DTPMOD64: u32 = 0;
    pub const DTPOFF64: u32 = 0;
    pub const TPOFF64: u32 = 0;
    pub const TLSDESC: u32 = 0;
}

pub const STUB_SIZE: usize = 16;

/// Never called (objects are refused).
pub fn call_stub(_stub: u64, _slot: u64) -> [u8; STUB_SIZE] {
    [0xcc; STUB_SIZE]
}

pub const INIT_PROLOGUE: &[u8] = &[];
pub const INIT_EPILOGUE: &[u8] = &[0xc3];
pub const CODE_FILL: u8 = 0x90;
pub const RUNTIME_FNS: &[RuntimeFn] = &[];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamic_types() {
        // The i386 psABI's numbers: TLS_TPOFF is the (negative) offset from the thread
        // pointer, TLS_TPOFF32 the same offset negated.
        assert_eq!(classify(8), Kind::Relative);
        assert_eq!(classify(14), Kind::TpOff);
        assert_eq!(classify(37), Kind::TpOffNeg);
        assert_eq!(classify(41), Kind::TlsDesc);
        assert_eq!(classify(3), Kind::Unknown, "GOT32 is an object-file type");
        assert_eq!((ACCEPTS_REL, LAZY_ARG_IS_OFFSET, OBJECT_LINKING), (true, true, false));
        assert_eq!(TLS_VARIANT, super::super::TlsVariant::II);
    }
}
