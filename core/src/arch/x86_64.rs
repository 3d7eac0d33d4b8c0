//! x86-64 (System V psABI, "AMD64 Architecture Processor Supplement", chapter 4.4).
//!
//! Relocations in shared objects are RELA. The psABI's table, with S the symbol value, A the
//! addend, B the base (load bias) and P the place:
//!
//! | type            | field  | calculation   |
//! |-----------------|--------|---------------|
//! | 1  64           | word64 | S + A         |
//! | 2  PC32         | word32 | S + A - P     |
//! | 6  GLOB_DAT     | word64 | S             |
//! | 7  JUMP_SLOT    | word64 | S             |
//! | 8  RELATIVE     | word64 | B + A         |
//! | 10 32           | word32 | S + A         |
//! | 11 32S          | word32 | S + A         |
//! | 16 DTPMOD64     | word64 | module id     |
//! | 17 DTPOFF64     | word64 | S + A (in its TLS block) |
//! | 18 TPOFF64      | word64 | S + A - TP-relative block offset |
//! | 36 TLSDESC      | 2×word64 | descriptor  |
//! | 37 IRELATIVE    | word64 | indirect (B + A) |
//!
//! The thread pointer is %fs:0 and the TLS blocks of static modules sit below it (variant II).
//!
//! The table of the object-file types (relink's in-process linker, `object_reloc`) is further
//! down, with the code the linker writes (call stubs, `.init` frames, runtime functions).

use super::{Calc, Kind, RuntimeFn};

pub use super::defaults::*;

pub const EM_X86_64: u16 = 62;
pub const ELF_MACHINE: u16 = EM_X86_64;

pub const R_X86_64_NONE: u32 = 0;
pub const R_X86_64_64: u32 = 1;
pub const R_X86_64_PC32: u32 = 2;
pub const R_X86_64_GOT32: u32 = 3;
pub const R_X86_64_PLT32: u32 = 4;
pub const R_X86_64_COPY: u32 = 5;
pub const R_X86_64_GLOB_DAT: u32 = 6;
pub const R_X86_64_JUMP_SLOT: u32 = 7;
pub const R_X86_64_RELATIVE: u32 = 8;
pub const R_X86_64_GOTPCREL: u32 = 9;
pub const R_X86_64_32: u32 = 10;
pub const R_X86_64_32S: u32 = 11;
pub const R_X86_64_16: u32 = 12;
pub const R_X86_64_PC16: u32 = 13;
pub const R_X86_64_8: u32 = 14;
pub const R_X86_64_PC8: u32 = 15;
pub const R_X86_64_DTPMOD64: u32 = 16;
pub const R_X86_64_DTPOFF64: u32 = 17;
pub const R_X86_64_TPOFF64: u32 = 18;
pub const R_X86_64_TLSGD: u32 = 19;
pub const R_X86_64_TLSLD: u32 = 20;
pub const R_X86_64_DTPOFF32: u32 = 21;
pub const R_X86_64_GOTTPOFF: u32 = 22;
pub const R_X86_64_TPOFF32: u32 = 23;
pub const R_X86_64_PC64: u32 = 24;
pub const R_X86_64_GOTOFF64: u32 = 25;
pub const R_X86_64_GOTPC32: u32 = 26;
pub const R_X86_64_GOT64: u32 = 27;
pub const R_X86_64_GOTPCREL64: u32 = 28;
pub const R_X86_64_GOTPC64: u32 = 29;
pub const R_X86_64_GOTPLT64: u32 = 30;
pub const R_X86_64_PLTOFF64: u32 = 31;
pub const R_X86_64_SIZE32: u32 = 32;
pub const R_X86_64_SIZE64: u32 = 33;
pub const R_X86_64_GOTPC32_TLSDESC: u32 = 34;
pub const R_X86_64_TLSDESC_CALL: u32 = 35;
pub const R_X86_64_TLSDESC: u32 = 36;
pub const R_X86_64_IRELATIVE: u32 = 37;
pub const R_X86_64_GOTPCRELX: u32 = 41;
pub const R_X86_64_REX_GOTPCRELX: u32 = 42;

/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.2.5";
/// `e_flags` of the objects relink makes (none are defined on x86-64).
pub const ELF_FLAGS: u32 = 0;
/// Why a file's `e_flags` keep the system loader from running it here: never on x86-64 (it
/// defines no flags).
pub fn flags_mismatch(_e_flags: u32) -> Option<&'static str> {
    None
}

pub const NAME: &str = "x86_64";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_X86_64_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_X86_64_TPOFF64;
/// REL tables are refused: glibc has no REL relocations on this machine.
pub const ACCEPTS_REL: bool = false;

/// Map a raw relocation type onto its generic kind.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_X86_64_NONE => Kind::None,
        R_X86_64_64 => Kind::Symbolic,
        R_X86_64_PC32 => Kind::PcRel32,
        R_X86_64_GLOB_DAT => Kind::GotEntry,
        R_X86_64_JUMP_SLOT => Kind::PltSlot,
        R_X86_64_RELATIVE => Kind::Relative,
        R_X86_64_32 => Kind::Abs32,
        R_X86_64_32S => Kind::Abs32Signed,
        R_X86_64_COPY => Kind::Copy,
        R_X86_64_DTPMOD64 => Kind::DtpMod,
        R_X86_64_DTPOFF64 => Kind::DtpOff,
        R_X86_64_TPOFF64 => Kind::TpOff,
        R_X86_64_TLSDESC => Kind::TlsDesc,
        R_X86_64_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        R_X86_64_NONE => "R_X86_64_NONE",
        R_X86_64_64 => "R_X86_64_64",
        R_X86_64_PC32 => "R_X86_64_PC32",
        R_X86_64_GOT32 => "R_X86_64_GOT32",
        R_X86_64_PLT32 => "R_X86_64_PLT32",
        R_X86_64_COPY => "R_X86_64_COPY",
        R_X86_64_GLOB_DAT => "R_X86_64_GLOB_DAT",
        R_X86_64_JUMP_SLOT => "R_X86_64_JUMP_SLOT",
        R_X86_64_RELATIVE => "R_X86_64_RELATIVE",
        R_X86_64_32 => "R_X86_64_32",
        R_X86_64_32S => "R_X86_64_32S",
        R_X86_64_DTPMOD64 => "R_X86_64_DTPMOD64",
        R_X86_64_DTPOFF64 => "R_X86_64_DTPOFF64",
        R_X86_64_TPOFF64 => "R_X86_64_TPOFF64",
        R_X86_64_TLSDESC => "R_X86_64_TLSDESC",
        R_X86_64_IRELATIVE => "R_X86_64_IRELATIVE",
        R_X86_64_GOTPCREL => "R_X86_64_GOTPCREL",
        R_X86_64_16 => "R_X86_64_16",
        R_X86_64_PC16 => "R_X86_64_PC16",
        R_X86_64_8 => "R_X86_64_8",
        R_X86_64_PC8 => "R_X86_64_PC8",
        R_X86_64_TLSGD => "R_X86_64_TLSGD",
        R_X86_64_TLSLD => "R_X86_64_TLSLD",
        R_X86_64_DTPOFF32 => "R_X86_64_DTPOFF32",
        R_X86_64_GOTTPOFF => "R_X86_64_GOTTPOFF",
        R_X86_64_TPOFF32 => "R_X86_64_TPOFF32",
        R_X86_64_PC64 => "R_X86_64_PC64",
        R_X86_64_GOTOFF64 => "R_X86_64_GOTOFF64",
        R_X86_64_GOTPC32 => "R_X86_64_GOTPC32",
        R_X86_64_GOT64 => "R_X86_64_GOT64",
        R_X86_64_GOTPCREL64 => "R_X86_64_GOTPCREL64",
        R_X86_64_GOTPC64 => "R_X86_64_GOTPC64",
        R_X86_64_GOTPLT64 => "R_X86_64_GOTPLT64",
        R_X86_64_PLTOFF64 => "R_X86_64_PLTOFF64",
        R_X86_64_SIZE32 => "R_X86_64_SIZE32",
        R_X86_64_SIZE64 => "R_X86_64_SIZE64",
        R_X86_64_GOTPC32_TLSDESC => "R_X86_64_GOTPC32_TLSDESC",
        R_X86_64_TLSDESC_CALL => "R_X86_64_TLSDESC_CALL",
        R_X86_64_GOTPCRELX => "R_X86_64_GOTPCRELX",
        R_X86_64_REX_GOTPCRELX => "R_X86_64_REX_GOTPCRELX",
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

// -------------------------------------------------------------------------------------------
// Relocatable objects (the in-process linker in `src/link/`).
//
// The psABI's table for relocations in ET_REL objects. S is the symbol's value, A the addend,
// P the place, G the offset of the symbol's GOT entry from the GOT base, GOT the GOT base
// (`_GLOBAL_OFFSET_TABLE_`), L the symbol's call stub (the symbol itself when it needs none),
// Z the symbol's size:
//
// | type                 | field  | calculation        |
// |----------------------|--------|--------------------|
// | 1  64                | word64 | S + A              |
// | 2  PC32              | word32 | S + A - P          |
// | 3  GOT32             | word32 | G + A              |
// | 4  PLT32             | word32 | L + A - P          |
// | 9  GOTPCREL          | word32 | G + GOT + A - P    |
// | 10 32                | word32 | S + A (zero-ext.)  |
// | 11 32S               | word32 | S + A (sign-ext.)  |
// | 12 16, 14 8          | word16, word8 | S + A       |
// | 13 PC16, 15 PC8      | word16, word8 | S + A - P   |
// | 19 TLSGD             | word32 | GD tls_index pair + A - P |
// | 20 TLSLD             | word32 | LD tls_index pair + A - P |
// | 21 DTPOFF32          | word32 | offset in the TLS block   |
// | 22 GOTTPOFF          | word32 | GOT entry of the TP offset + A - P |
// | 23 TPOFF32           | word32 | TP offset          |
// | 24 PC64              | word64 | S + A - P          |
// | 25 GOTOFF64          | word64 | S + A - GOT        |
// | 26 GOTPC32           | word32 | GOT + A - P        |
// | 27 GOT64             | word64 | G + A              |
// | 28 GOTPCREL64        | word64 | G + GOT + A - P    |
// | 29 GOTPC64           | word64 | GOT + A - P        |
// | 30 GOTPLT64          | word64 | G + A              |
// | 31 PLTOFF64          | word64 | L - GOT + A        |
// | 32 SIZE32, 33 SIZE64 | word32, word64 | Z + A      |
// | 34 GOTPC32_TLSDESC   | word32 | TLS descriptor + A - P    |
// | 35 TLSDESC_CALL      | none   | (marks the descriptor call) |
// | 17 DTPOFF64          | word64 | offset in the TLS block   |
// | 18 TPOFF64           | word64 | TP offset          |
// | 41 GOTPCRELX, 42 REX_GOTPCRELX | word32 | G + GOT + A - P (the load may become a lea) |

/// Relocatable objects are linked on this machine.
pub const OBJECT_LINKING: bool = true;

/// The calculation and field of an object relocation type.
pub fn object_reloc(r_type: u32) -> (Calc, Field) {
    match r_type {
        R_X86_64_NONE => (Calc::None, Field::None),
        R_X86_64_64 => (Calc::Abs, Field::W64),
        R_X86_64_PC32 => (Calc::Pc, Field::S32),
        R_X86_64_GOT32 => (Calc::GotEntry, Field::S32),
        R_X86_64_PLT32 => (Calc::CallPc, Field::S32),
        R_X86_64_GOTPCREL => (Calc::GotEntryPc { relax: false }, Field::S32),
        R_X86_64_32 => (Calc::Abs, Field::U32),
        R_X86_64_32S => (Calc::Abs, Field::S32),
        R_X86_64_16 => (Calc::Abs, Field::Bits16),
        R_X86_64_PC16 => (Calc::Pc, Field::Bits16),
        R_X86_64_8 => (Calc::Abs, Field::Bits8),
        R_X86_64_PC8 => (Calc::Pc, Field::Bits8),
        R_X86_64_DTPOFF64 => (Calc::DtpOff, Field::W64),
        R_X86_64_TPOFF64 => (Calc::TpOff, Field::W64),
        R_X86_64_TLSGD => (Calc::TlsGd, Field::S32),
        R_X86_64_TLSLD => (Calc::TlsLd, Field::S32),
        R_X86_64_DTPOFF32 => (Calc::DtpOff, Field::S32),
        R_X86_64_GOTTPOFF => (Calc::GotTpOff, Field::S32),
        R_X86_64_TPOFF32 => (Calc::TpOff, Field::S32),
        R_X86_64_PC64 => (Calc::Pc, Field::W64),
        R_X86_64_GOTOFF64 => (Calc::GotRel, Field::W64),
        R_X86_64_GOTPC32 => (Calc::GotBasePc, Field::S32),
        R_X86_64_GOT64 | R_X86_64_GOTPLT64 => (Calc::GotEntry, Field::W64),
        R_X86_64_GOTPCREL64 => (Calc::GotEntryPc { relax: false }, Field::W64),
        R_X86_64_GOTPC64 => (Calc::GotBasePc, Field::W64),
        R_X86_64_PLTOFF64 => (Calc::CallGotRel, Field::W64),
        R_X86_64_SIZE32 => (Calc::Size, Field::U32),
        R_X86_64_SIZE64 => (Calc::Size, Field::W64),
        R_X86_64_GOTPC32_TLSDESC => (Calc::TlsDesc, Field::S32),
        R_X86_64_TLSDESC_CALL => (Calc::TlsDescCall, Field::None),
        R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => (Calc::GotEntryPc { relax: true }, Field::S32),
        _ => (Calc::Unknown, Field::None),
    }
}

/// Dynamic relocation types the linker emits for what must be bound at load.
pub mod dynrel {
    use super::*;
    pub const ABS64: u32 = R_X86_64_64;
    pub const PC32: u32 = R_X86_64_PC32;
    pub const ABS32: u32 = R_X86_64_32;
    pub const ABS32S: u32 = R_X86_64_32S;
    pub const GLOB_DAT: u32 = R_X86_64_GLOB_DAT;
    pub const IRELATIVE: u32 = R_X86_64_IRELATIVE;
    pub const DTPMOD64: u32 = R_X86_64_DTPMOD64;
    pub const DTPOFF64: u32 = R_X86_64_DTPOFF64;
    pub const TPOFF64: u32 = R_X86_64_TPOFF64;
    pub const TLSDESC: u32 = R_X86_64_TLSDESC;
}

/// Size of a call stub, which reaches a symbol outside the unit (or an IFUNC's target) through
/// its GOT entry.
pub const STUB_SIZE: usize = 16;

/// A call stub at `stub` that jumps through the GOT entry at `slot`:
/// `endbr64; jmp *slot(%rip)`, padded with `int3`.
pub fn call_stub(stub: u64, slot: u64) -> [u8; STUB_SIZE] {
    let mut s = [0xcc; STUB_SIZE];
    s[..4].copy_from_slice(&[0xf3, 0x0f, 0x1e, 0xfa]);
    s[4..6].copy_from_slice(&[0xff, 0x25]);
    let disp = slot.wrapping_sub(stub + 10) as i64 as i32;
    s[6..10].copy_from_slice(&disp.to_le_bytes());
    s
}

/// Rewrite the GOT load whose displacement starts at `at` in `code`,
/// `mov foo@GOTPCREL(%rip), %reg`, into `lea foo(%rip), %reg` (the GOTPCRELX relaxation).
/// Returns false, leaving the code as it is, for any other instruction.
pub fn relax_got_load(code: &mut [u8], at: usize) -> bool {
    // The opcode byte precedes the ModRM byte, which must select %rip-relative addressing.
    match at.checked_sub(2).and_then(|i| code.get(i..at)) {
        Some(&[0x8b, modrm]) if modrm & 0xc7 == 0x05 => {
            code[at - 2] = 0x8d;
            true
        }
        _ => false,
    }
}

/// What a normal link's crti.o and crtn.o put around the `.init` and `.fini` fragments of the
/// objects (which make up the bodies of `_init` and `_fini`): a prologue that aligns the
/// stack, and the matching epilogue. Padding between fragments is `nop`.
pub const INIT_PROLOGUE: &[u8] = &[0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x08];
pub const INIT_EPILOGUE: &[u8] = &[0x48, 0x83, 0xc4, 0x08, 0xc3];
pub const CODE_FILL: u8 = 0x90;

/// `atexit`, `at_quick_exit` and `pthread_atfork` pass the caller's DSO handle on to the C
/// library (in a normal link they come from libc_nonshared.a); `__relink_unit_fini` runs the
/// unit's `__cxa_atexit` handlers when it is unloaded (crtbeginS.o's job in a normal link).
pub const RUNTIME_FNS: &[RuntimeFn] = &[
    RuntimeFn {
        name: "atexit",
        // endbr64; lea __dso_handle(%rip), %rdx; xor %esi, %esi; jmp __cxa_atexit
        code: &[0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8d, 0x15, 0, 0, 0, 0, 0x31, 0xf6, 0xe9, 0, 0, 0, 0],
        relocs: &[(7, R_X86_64_PC32, "__dso_handle", -4), (14, R_X86_64_PLT32, "__cxa_atexit", -4)],
    },
    RuntimeFn {
        name: "at_quick_exit",
        code: &[0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8d, 0x15, 0, 0, 0, 0, 0x31, 0xf6, 0xe9, 0, 0, 0, 0],
        relocs: &[(7, R_X86_64_PC32, "__dso_handle", -4), (14, R_X86_64_PLT32, "__cxa_at_quick_exit", -4)],
    },
    RuntimeFn {
        name: "pthread_atfork",
        // endbr64; lea __dso_handle(%rip), %rcx; jmp __register_atfork
        code: &[0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8d, 0x0d, 0, 0, 0, 0, 0xe9, 0, 0, 0, 0],
        relocs: &[(7, R_X86_64_PC32, "__dso_handle", -4), (12, R_X86_64_PLT32, "__register_atfork", -4)],
    },
    RuntimeFn {
        name: "__relink_unit_fini",
        // endbr64; mov __cxa_finalize@GOTPCREL(%rip), %rax; test %rax, %rax; je 1f;
        // lea __dso_handle(%rip), %rdi; jmp *%rax; 1: ret
        code: &[
            0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x05, 0, 0, 0, 0, 0x48, 0x85, 0xc0, 0x74, 0x09, 0x48, 0x8d, 0x3d, 0, 0, 0,
            0, 0xff, 0xe0, 0xc3,
        ],
        relocs: &[(7, R_X86_64_GOTPCREL, "__cxa_finalize", -4), (19, R_X86_64_PC32, "__dso_handle", -4)],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::testing::{self, Error, Inputs, Machine};

    const X86_64: Machine<InsnField> = Machine { classify, object_reloc, write: |f, _, _, _| match f {}, word: 8, dtv_offset: DTV_OFFSET };

    #[test]
    fn words_and_displacements() {
        let apply = |t, x: Inputs| {
            let mut b = [0xaau8; 8];
            testing::apply(&X86_64, t, &mut b, &x).map(|()| b)
        };
        let x = Inputs { s: 0x1000, a: -4, p: 0x2000, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_64, x), Ok(0xffcu64.to_le_bytes()));
        // 0x1000 − 4 − 0x2000 = −0x1004, four bytes; the rest of the place is left alone.
        assert_eq!(apply(R_X86_64_PLT32, x), Ok([0xfc, 0xef, 0xff, 0xff, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert_eq!(apply(R_X86_64_PC32, x), apply(R_X86_64_PLT32, x));
        // Eight bytes: 0x1000 − 4 − 0x2000 = −0x1004.
        assert_eq!(apply(R_X86_64_PC64, x), Ok((-0x1004i64).to_le_bytes()));
        let far = Inputs { s: 0x1_0000_0000, p: 0x1000, ..Inputs::default() };
        assert!(matches!(apply(R_X86_64_PC32, far), Err(Error::Overflow { .. })));
        assert!(matches!(apply(R_X86_64_32, far), Err(Error::Overflow { .. })));
        let negative = Inputs { s: 0xffff_ffff_8000_0000, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_32S, negative), Ok([0, 0, 0, 0x80, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert!(matches!(apply(R_X86_64_32, negative), Err(Error::Overflow { .. })));
        // 8 and 16 bits hold a signed or an unsigned value: 0xff and −0x80 fit a byte, 0x100 not.
        let byte = |s: i64| Inputs { s: s as u64, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_8, byte(0xff)), Ok([0xff, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert_eq!(apply(R_X86_64_8, byte(-0x80)), Ok([0x80, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert!(matches!(apply(R_X86_64_8, byte(0x100)), Err(Error::Overflow { .. })));
        assert_eq!(apply(R_X86_64_16, byte(-1)), Ok([0xff, 0xff, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa]));
        // GOTPCREL: G + GOT + A − P = 0x10 + 0x3000 − 4 − 0x2000.
        let got = Inputs { got: 0x3000, g: 0x10, ..x };
        assert_eq!(apply(R_X86_64_GOTPCREL, got), Ok([0x0c, 0x10, 0, 0, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert_eq!(type_name(R_X86_64_GOTTPOFF), "R_X86_64_GOTTPOFF");
        assert_eq!(apply(200, x), Err(Error::Unsupported));
    }

    #[test]
    fn dynamic_rows() {
        let apply = |t, x: Inputs| {
            let mut b = [0xaau8; 8];
            testing::apply(&X86_64, t, &mut b, &x).map(|()| b)
        };
        // RELATIVE: B + A; GLOB_DAT and JUMP_SLOT: S, the addend left out.
        let x = Inputs { s: 0x5000, a: 0x10, b: 0x7000_0000, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_RELATIVE, x), Ok(0x7000_0010u64.to_le_bytes()));
        assert_eq!(apply(R_X86_64_GLOB_DAT, x), Ok(0x5000u64.to_le_bytes()));
        assert_eq!(apply(R_X86_64_JUMP_SLOT, x), Ok(0x5000u64.to_le_bytes()));
        // TLS: a variable 8 bytes into a block 0x40 below the thread pointer (variant II) is at
        // −0x38 from it (TPOFF64), 8 in its block (DTPOFF64), in module 3 (DTPMOD64).
        let tls = Inputs { s: 8, module: 3, tls_offset: -0x40, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_TPOFF64, tls), Ok((-0x38i64).to_le_bytes()));
        assert_eq!(apply(R_X86_64_DTPOFF64, tls), Ok(8u64.to_le_bytes()));
        assert_eq!(apply(R_X86_64_DTPMOD64, tls), Ok(3u64.to_le_bytes()));
        // The runtime's own work.
        assert_eq!(apply(R_X86_64_COPY, x), Err(Error::Runtime));
        assert_eq!(apply(R_X86_64_IRELATIVE, x), Err(Error::Runtime));
        assert_eq!(apply(R_X86_64_TLSDESC, x), Err(Error::Runtime));
    }

    #[test]
    fn dynamic_types() {
        // The psABI's numbers (AMD64 supplement, table "Relocation Types").
        assert_eq!(classify(8), Kind::Relative);
        assert_eq!(classify(6), Kind::GotEntry);
        assert_eq!(classify(7), Kind::PltSlot);
        assert_eq!(classify(18), Kind::TpOff);
        assert_eq!(classify(36), Kind::TlsDesc);
        assert_eq!(classify(37), Kind::Irelative);
        assert_eq!(classify(3), Kind::Unknown, "GOT32 is an object-file type");
        assert_eq!(type_name(42), "R_X86_64_REX_GOTPCRELX");
        assert_eq!((RELATIVE, TPOFF), (8, 18));
    }

    #[test]
    fn call_stub_and_relaxation() {
        // endbr64; jmp *0x1000(%rip) from 0x2000: the displacement counts from the end of the
        // jmp (0x200a), so 0x3000 − 0x200a = 0xff6.
        let s = call_stub(0x2000, 0x3000);
        assert_eq!(s, [0xf3, 0x0f, 0x1e, 0xfa, 0xff, 0x25, 0xf6, 0x0f, 0, 0, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc]);
        // mov foo@GOTPCREL(%rip), %rax (48 8b 05 disp32) becomes lea (48 8d 05 disp32).
        let mut mov = [0x48, 0x8b, 0x05, 0, 0, 0, 0];
        assert!(relax_got_load(&mut mov, 3));
        assert_eq!(mov[..3], [0x48, 0x8d, 0x05]);
        // mov (%rax), %rax (48 8b 00) is not %rip-relative.
        let mut other = [0x48, 0x8b, 0x00, 0, 0, 0, 0];
        assert!(!relax_got_load(&mut other, 3));
        assert!(!relax_got_load(&mut [0x05], 0));
    }
}
