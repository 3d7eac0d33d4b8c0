//! LoongArch, 64-bit (LP64 ABIs): "ELF for the LoongArch Architecture" (la-abi-specs,
//! laelf), chapter "Relocations", and its "Code Models".
//!
//! Relocations are RELA in ELF64 records, `EM_LOONGARCH` (258). Variables: S symbol, A
//! addend, PC the place, B base, GOT the GOT's address, G (IE, GD) the offset of the
//! symbol's (initial-exec, general/local-dynamic or descriptor) GOT entry, T the variable's
//! offset from the thread pointer. TLS variant I with no DTV bias: DTPREL is S + A.
//!
//! | #  | name | field | calculation |
//! |----|------|-------|-------------|
//! | 0 | NONE | | |
//! | 1, 2 | 32, 64 | word32, word64 | S + A |
//! | 3 | RELATIVE | word64 | B + A |
//! | 4 | COPY | | (executables only) |
//! | 5 | JUMP_SLOT | word64 | S |
//! | 6, 7 | TLS_DTPMOD32, 64 | word | module id |
//! | 8, 9 | TLS_DTPREL32, 64 | word | S + A (offset in the block) |
//! | 10, 11 | TLS_TPREL32, 64 | word | T |
//! | 12 | IRELATIVE | word64 | resolver(B + A) |
//! | 13, 14 | TLS_DESC32, 64 | 2 words | descriptor |
//! | 20, 21 | MARK_LA, MARK_PCREL | | marks |
//! | 22–46 | SOP_* | | stack machine of ABI v0 (not applied) |
//! | 47–51 | ADD8, 16, 24, 32, 64 | word | V + S + A |
//! | 52–56 | SUB8, 16, 24, 32, 64 | word | V − S − A |
//! | 57, 58 | GNU_VTINHERIT, GNU_VTENTRY | | marks |
//! | 64 | B16 | `insn[25:10]` ← `(S+A−PC)[17:2]` | ±128 KiB, 4-aligned |
//! | 65 | B21 | `insn[4:0]` ← `[22:18]`, `insn[25:10]` ← `[17:2]` | ±4 MiB, 4-aligned |
//! | 66 | B26 | `insn[9:0]` ← `[27:18]`, `insn[25:10]` ← `[17:2]` | ±128 MiB, 4-aligned |
//! | 67, 68 | ABS_HI20, ABS_LO12 | si20 ← `[31:12]`, si12 ← `[11:0]` | S + A |
//! | 69, 70 | ABS64_LO20, ABS64_HI12 | si20 ← `[51:32]`, si12 ← `[63:52]` | S + A |
//! | 71, 72 | PCALA_HI20, PCALA_LO12 | si20 ← page delta `[31:12]`, si12 ← `(S+A)[11:0]` | |
//! | 73, 74 | PCALA64_LO20, _HI12 | si20 ← `[51:32]`, si12 ← `[63:52]` of the 64-bit page delta from PC−8, PC−12 | |
//! | 75–78 | GOT_PC_HI20, _LO12, GOT64_PC_LO20, _HI12 | as PCALA, of GOT + G | |
//! | 79–82 | GOT_HI20, _LO12, GOT64_LO20, _HI12 | as ABS, of GOT + G | |
//! | 83–86 | TLS_LE_HI20, _LO12, LE64_LO20, _HI12 | as ABS, of T | |
//! | 87–90 | TLS_IE_PC_HI20, … | as PCALA, of GOT + IE | |
//! | 91–94 | TLS_IE_HI20, … | as ABS, of GOT + IE | |
//! | 95, 96 | TLS_LD_PC_HI20, TLS_LD_HI20 | of GOT + GD | |
//! | 97, 98 | TLS_GD_PC_HI20, TLS_GD_HI20 | of GOT + GD | |
//! | 99 | 32_PCREL | word32 | S + A − PC |
//! | 100 | RELAX | | mark |
//! | 102 | ALIGN | | nop padding |
//! | 103 | PCREL20_S2 | si20 ← `(S+A−PC)[21:2]` | ±2 MiB, 4-aligned |
//! | 105, 106 | ADD6, SUB6 | low 6 bits of a byte | V ± (S + A) |
//! | 107, 108 | ADD_ULEB128, SUB_ULEB128 | ULEB128 | V ± (S + A) |
//! | 109 | 64_PCREL | word64 | S + A − PC |
//! | 110 | CALL36 | PCADDU18I si20 ← `[37:18]`, JIRL offs16 ← `[17:2]` | S + A − PC |
//! | 111–118 | TLS_DESC_PC_HI20 … TLS_DESC64_HI12 | as GOT_PC / GOT, of GOT + GD | |
//! | 119, 120 | TLS_DESC_LD, TLS_DESC_CALL | | marks |
//! | 121 | TLS_LE_HI20_R | si20 ← `(T + 0x800)[31:12]` | |
//! | 122 | TLS_LE_ADD_R | | mark |
//! | 123 | TLS_LE_LO12_R | si12 ← `T[11:0]` | |
//! | 124–126 | TLS_LD, GD, DESC _PCREL20_S2 | si20 ← `(GOT + GD − PC)[21:2]` | |
//!
//! Page deltas: PCALAU12I adds a sign-extended `si20 << 12` to `PC & ~0xfff` and the next
//! instruction a sign-extended 12-bit immediate, so every `*_PC_HI20` is
//! `((X + 0x800) & ~0xfff) − (PC & ~0xfff)`. The laelf table (version 20231219) writes the
//! `+ 0x800` for PCALA_HI20 and TLS_DESC_PC_HI20 only; without it a GOT entry whose low
//! 12 bits are 0x800 or more is missed by 4 KiB, so it is applied to all (as the toolchains
//! do). The 64-bit LO20/HI12 parts follow the table's formula, from the PCALAU12I 8 or 12
//! bytes before. CALL36 rounds the high part by 0x20000 because JIRL's offset is signed (the
//! code-model chapter's range `[PC − 128 GiB − 0x20000, PC + 128 GiB − 0x20000 − 4]`). The
//! `*_PCREL20_S2` TLS types are PC-relative as their description says (the table omits
//! `− PC`). ADD6/SUB6 keep the byte's top two bits. The stack-machine relocations (22–46)
//! of ABI v0 objects (binutils before 2.40) are refused.
//!
//! In relink's model: the dynamic types through `classify` onto [`Kind`], the object-file types
//! through `object_reloc` onto a calculation ([`Calc`]) and a field of this machine's shape
//! ([`InsnField`], encoded by `write_insn`). A PC-relative sequence's parts are all computed
//! from X − P (the page delta needs only the low 12 bits of P, which is all relink's link stage
//! promises); the absolute forms of GOT entries (GOT_HI20 and the like: GOT + G, not relative
//! to P) add the whole P back, so they need the place's address. There is no LoongArch runtime
//! here: objects are not linked (`OBJECT_LINKING` is false) and the file is the tables,
//! unit-tested against the laelf.

use super::riscv64::object::{self as rv, Site, Value};
use super::{bits, fits_signed, insert, Bad, Calc, Kind};

pub use super::defaults::*;
pub use super::unlinked::*;

/// `e_machine` of LoongArch objects.
pub const EM_LOONGARCH: u16 = 258;
pub const ELF_MACHINE: u16 = EM_LOONGARCH;
/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.36";
/// `e_flags` of the objects relink would make: the lp64d ABI, object ABI v1.
pub const ELF_FLAGS: u32 = 0x3 | 0x40;
/// Why a file's `e_flags` keep the system loader from running it here: another base ABI than
/// lp64d.
pub fn flags_mismatch(e_flags: u32) -> Option<&'static str> {
    (e_flags & 0x7 != 0x3).then_some("built for another base ABI than lp64d")
}

pub const NAME: &str = "loongarch64";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_LARCH_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_LARCH_TLS_TPREL64;
/// REL tables are refused: glibc has no REL relocations on this machine.
pub const ACCEPTS_REL: bool = false;


pub const R_LARCH_NONE: u32 = 0;
pub const R_LARCH_32: u32 = 1;
pub const R_LARCH_64: u32 = 2;
pub const R_LARCH_RELATIVE: u32 = 3;
pub const R_LARCH_COPY: u32 = 4;
pub const R_LARCH_JUMP_SLOT: u32 = 5;
pub const R_LARCH_TLS_DTPMOD32: u32 = 6;
pub const R_LARCH_TLS_DTPMOD64: u32 = 7;
pub const R_LARCH_TLS_DTPREL32: u32 = 8;
pub const R_LARCH_TLS_DTPREL64: u32 = 9;
pub const R_LARCH_TLS_TPREL32: u32 = 10;
pub const R_LARCH_TLS_TPREL64: u32 = 11;
pub const R_LARCH_IRELATIVE: u32 = 12;
pub const R_LARCH_TLS_DESC32: u32 = 13;
pub const R_LARCH_TLS_DESC64: u32 = 14;
pub const R_LARCH_MARK_LA: u32 = 20;
pub const R_LARCH_MARK_PCREL: u32 = 21;
/// First and last of the ABI v0 stack-machine relocations (SOP_PUSH_PCREL … SOP_POP_32_U).
pub const R_LARCH_SOP_PUSH_PCREL: u32 = 22;
pub const R_LARCH_SOP_POP_32_U: u32 = 46;
pub const R_LARCH_ADD8: u32 = 47;
pub const R_LARCH_ADD16: u32 = 48;
pub const R_LARCH_ADD24: u32 = 49;
pub const R_LARCH_ADD32: u32 = 50;
pub const R_LARCH_ADD64: u32 = 51;
pub const R_LARCH_SUB8: u32 = 52;
pub const R_LARCH_SUB16: u32 = 53;
pub const R_LARCH_SUB24: u32 = 54;
pub const R_LARCH_SUB32: u32 = 55;
pub const R_LARCH_SUB64: u32 = 56;
pub const R_LARCH_GNU_VTINHERIT: u32 = 57;
pub const R_LARCH_GNU_VTENTRY: u32 = 58;
pub const R_LARCH_B16: u32 = 64;
pub const R_LARCH_B21: u32 = 65;
pub const R_LARCH_B26: u32 = 66;
pub const R_LARCH_ABS_HI20: u32 = 67;
pub const R_LARCH_ABS_LO12: u32 = 68;
pub const R_LARCH_ABS64_LO20: u32 = 69;
pub const R_LARCH_ABS64_HI12: u32 = 70;
pub const R_LARCH_PCALA_HI20: u32 = 71;
pub const R_LARCH_PCALA_LO12: u32 = 72;
pub const R_LARCH_PCALA64_LO20: u32 = 73;
pub const R_LARCH_PCALA64_HI12: u32 = 74;
pub const R_LARCH_GOT_PC_HI20: u32 = 75;
pub const R_LARCH_GOT_PC_LO12: u32 = 76;
pub const R_LARCH_GOT64_PC_LO20: u32 = 77;
pub const R_LARCH_GOT64_PC_HI12: u32 = 78;
pub const R_LARCH_GOT_HI20: u32 = 79;
pub const R_LARCH_GOT_LO12: u32 = 80;
pub const R_LARCH_GOT64_LO20: u32 = 81;
pub const R_LARCH_GOT64_HI12: u32 = 82;
pub const R_LARCH_TLS_LE_HI20: u32 = 83;
pub const R_LARCH_TLS_LE_LO12: u32 = 84;
pub const R_LARCH_TLS_LE64_LO20: u32 = 85;
pub const R_LARCH_TLS_LE64_HI12: u32 = 86;
pub const R_LARCH_TLS_IE_PC_HI20: u32 = 87;
pub const R_LARCH_TLS_IE_PC_LO12: u32 = 88;
pub const R_LARCH_TLS_IE64_PC_LO20: u32 = 89;
pub const R_LARCH_TLS_IE64_PC_HI12: u32 = 90;
pub const R_LARCH_TLS_IE_HI20: u32 = 91;
pub const R_LARCH_TLS_IE_LO12: u32 = 92;
pub const R_LARCH_TLS_IE64_LO20: u32 = 93;
pub const R_LARCH_TLS_IE64_HI12: u32 = 94;
pub const R_LARCH_TLS_LD_PC_HI20: u32 = 95;
pub const R_LARCH_TLS_LD_HI20: u32 = 96;
pub const R_LARCH_TLS_GD_PC_HI20: u32 = 97;
pub const R_LARCH_TLS_GD_HI20: u32 = 98;
pub const R_LARCH_32_PCREL: u32 = 99;
pub const R_LARCH_RELAX: u32 = 100;
pub const R_LARCH_ALIGN: u32 = 102;
pub const R_LARCH_PCREL20_S2: u32 = 103;
pub const R_LARCH_ADD6: u32 = 105;
pub const R_LARCH_SUB6: u32 = 106;
pub const R_LARCH_ADD_ULEB128: u32 = 107;
pub const R_LARCH_SUB_ULEB128: u32 = 108;
pub const R_LARCH_64_PCREL: u32 = 109;
pub const R_LARCH_CALL36: u32 = 110;
pub const R_LARCH_TLS_DESC_PC_HI20: u32 = 111;
pub const R_LARCH_TLS_DESC_PC_LO12: u32 = 112;
pub const R_LARCH_TLS_DESC64_PC_LO20: u32 = 113;
pub const R_LARCH_TLS_DESC64_PC_HI12: u32 = 114;
pub const R_LARCH_TLS_DESC_HI20: u32 = 115;
pub const R_LARCH_TLS_DESC_LO12: u32 = 116;
pub const R_LARCH_TLS_DESC64_LO20: u32 = 117;
pub const R_LARCH_TLS_DESC64_HI12: u32 = 118;
pub const R_LARCH_TLS_DESC_LD: u32 = 119;
pub const R_LARCH_TLS_DESC_CALL: u32 = 120;
pub const R_LARCH_TLS_LE_HI20_R: u32 = 121;
pub const R_LARCH_TLS_LE_ADD_R: u32 = 122;
pub const R_LARCH_TLS_LE_LO12_R: u32 = 123;
pub const R_LARCH_TLS_LD_PCREL20_S2: u32 = 124;
pub const R_LARCH_TLS_GD_PCREL20_S2: u32 = 125;
pub const R_LARCH_TLS_DESC_PCREL20_S2: u32 = 126;

/// Map a raw relocation type onto its generic kind.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_LARCH_NONE => Kind::None,
        R_LARCH_64 => Kind::Symbolic,
        R_LARCH_RELATIVE => Kind::Relative,
        R_LARCH_COPY => Kind::Copy,
        R_LARCH_JUMP_SLOT => Kind::PltSlot,
        R_LARCH_TLS_DTPMOD64 => Kind::DtpMod,
        R_LARCH_TLS_DTPREL64 => Kind::DtpOff,
        R_LARCH_TLS_TPREL64 => Kind::TpOff,
        R_LARCH_IRELATIVE => Kind::Irelative,
        R_LARCH_TLS_DESC64 => Kind::TlsDesc,
        _ => Kind::Unknown,
    }
}

/// The laelf name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        R_LARCH_NONE => "R_LARCH_NONE",
        R_LARCH_32 => "R_LARCH_32",
        R_LARCH_64 => "R_LARCH_64",
        R_LARCH_RELATIVE => "R_LARCH_RELATIVE",
        R_LARCH_COPY => "R_LARCH_COPY",
        R_LARCH_JUMP_SLOT => "R_LARCH_JUMP_SLOT",
        R_LARCH_TLS_DTPMOD32 => "R_LARCH_TLS_DTPMOD32",
        R_LARCH_TLS_DTPMOD64 => "R_LARCH_TLS_DTPMOD64",
        R_LARCH_TLS_DTPREL32 => "R_LARCH_TLS_DTPREL32",
        R_LARCH_TLS_DTPREL64 => "R_LARCH_TLS_DTPREL64",
        R_LARCH_TLS_TPREL32 => "R_LARCH_TLS_TPREL32",
        R_LARCH_TLS_TPREL64 => "R_LARCH_TLS_TPREL64",
        R_LARCH_IRELATIVE => "R_LARCH_IRELATIVE",
        R_LARCH_TLS_DESC32 => "R_LARCH_TLS_DESC32",
        R_LARCH_TLS_DESC64 => "R_LARCH_TLS_DESC64",
        R_LARCH_MARK_LA => "R_LARCH_MARK_LA",
        R_LARCH_MARK_PCREL => "R_LARCH_MARK_PCREL",
        R_LARCH_SOP_PUSH_PCREL..=R_LARCH_SOP_POP_32_U => "R_LARCH_SOP_*",
        R_LARCH_ADD8 => "R_LARCH_ADD8",
        R_LARCH_ADD16 => "R_LARCH_ADD16",
        R_LARCH_ADD24 => "R_LARCH_ADD24",
        R_LARCH_ADD32 => "R_LARCH_ADD32",
        R_LARCH_ADD64 => "R_LARCH_ADD64",
        R_LARCH_SUB8 => "R_LARCH_SUB8",
        R_LARCH_SUB16 => "R_LARCH_SUB16",
        R_LARCH_SUB24 => "R_LARCH_SUB24",
        R_LARCH_SUB32 => "R_LARCH_SUB32",
        R_LARCH_SUB64 => "R_LARCH_SUB64",
        R_LARCH_GNU_VTINHERIT => "R_LARCH_GNU_VTINHERIT",
        R_LARCH_GNU_VTENTRY => "R_LARCH_GNU_VTENTRY",
        R_LARCH_B16 => "R_LARCH_B16",
        R_LARCH_B21 => "R_LARCH_B21",
        R_LARCH_B26 => "R_LARCH_B26",
        R_LARCH_ABS_HI20..=R_LARCH_ABS64_HI12 => ABS[(r_type - R_LARCH_ABS_HI20) as usize],
        R_LARCH_PCALA_HI20..=R_LARCH_PCALA64_HI12 => PCALA[(r_type - R_LARCH_PCALA_HI20) as usize],
        R_LARCH_GOT_PC_HI20..=R_LARCH_GOT64_PC_HI12 => GOT_PC[(r_type - R_LARCH_GOT_PC_HI20) as usize],
        R_LARCH_GOT_HI20..=R_LARCH_GOT64_HI12 => GOT[(r_type - R_LARCH_GOT_HI20) as usize],
        R_LARCH_TLS_LE_HI20..=R_LARCH_TLS_LE64_HI12 => LE[(r_type - R_LARCH_TLS_LE_HI20) as usize],
        R_LARCH_TLS_IE_PC_HI20..=R_LARCH_TLS_IE64_PC_HI12 => IE_PC[(r_type - R_LARCH_TLS_IE_PC_HI20) as usize],
        R_LARCH_TLS_IE_HI20..=R_LARCH_TLS_IE64_HI12 => IE[(r_type - R_LARCH_TLS_IE_HI20) as usize],
        R_LARCH_TLS_LD_PC_HI20 => "R_LARCH_TLS_LD_PC_HI20",
        R_LARCH_TLS_LD_HI20 => "R_LARCH_TLS_LD_HI20",
        R_LARCH_TLS_GD_PC_HI20 => "R_LARCH_TLS_GD_PC_HI20",
        R_LARCH_TLS_GD_HI20 => "R_LARCH_TLS_GD_HI20",
        R_LARCH_32_PCREL => "R_LARCH_32_PCREL",
        R_LARCH_RELAX => "R_LARCH_RELAX",
        R_LARCH_ALIGN => "R_LARCH_ALIGN",
        R_LARCH_PCREL20_S2 => "R_LARCH_PCREL20_S2",
        R_LARCH_ADD6 => "R_LARCH_ADD6",
        R_LARCH_SUB6 => "R_LARCH_SUB6",
        R_LARCH_ADD_ULEB128 => "R_LARCH_ADD_ULEB128",
        R_LARCH_SUB_ULEB128 => "R_LARCH_SUB_ULEB128",
        R_LARCH_64_PCREL => "R_LARCH_64_PCREL",
        R_LARCH_CALL36 => "R_LARCH_CALL36",
        R_LARCH_TLS_DESC_PC_HI20..=R_LARCH_TLS_DESC64_PC_HI12 => DESC_PC[(r_type - R_LARCH_TLS_DESC_PC_HI20) as usize],
        R_LARCH_TLS_DESC_HI20..=R_LARCH_TLS_DESC64_HI12 => DESC[(r_type - R_LARCH_TLS_DESC_HI20) as usize],
        R_LARCH_TLS_DESC_LD => "R_LARCH_TLS_DESC_LD",
        R_LARCH_TLS_DESC_CALL => "R_LARCH_TLS_DESC_CALL",
        R_LARCH_TLS_LE_HI20_R => "R_LARCH_TLS_LE_HI20_R",
        R_LARCH_TLS_LE_ADD_R => "R_LARCH_TLS_LE_ADD_R",
        R_LARCH_TLS_LE_LO12_R => "R_LARCH_TLS_LE_LO12_R",
        R_LARCH_TLS_LD_PCREL20_S2 => "R_LARCH_TLS_LD_PCREL20_S2",
        R_LARCH_TLS_GD_PCREL20_S2 => "R_LARCH_TLS_GD_PCREL20_S2",
        R_LARCH_TLS_DESC_PCREL20_S2 => "R_LARCH_TLS_DESC_PCREL20_S2",
        _ => "an unknown relocation type",
    }
}

/// The names of the four relocations of one sequence: HI20, LO12, 64_LO20, 64_HI12.
const PCALA: [&str; 4] = ["R_LARCH_PCALA_HI20", "R_LARCH_PCALA_LO12", "R_LARCH_PCALA64_LO20", "R_LARCH_PCALA64_HI12"];
const GOT_PC: [&str; 4] = ["R_LARCH_GOT_PC_HI20", "R_LARCH_GOT_PC_LO12", "R_LARCH_GOT64_PC_LO20", "R_LARCH_GOT64_PC_HI12"];
const IE_PC: [&str; 4] = ["R_LARCH_TLS_IE_PC_HI20", "R_LARCH_TLS_IE_PC_LO12", "R_LARCH_TLS_IE64_PC_LO20", "R_LARCH_TLS_IE64_PC_HI12"];
const DESC_PC: [&str; 4] = ["R_LARCH_TLS_DESC_PC_HI20", "R_LARCH_TLS_DESC_PC_LO12", "R_LARCH_TLS_DESC64_PC_LO20", "R_LARCH_TLS_DESC64_PC_HI12"];
const ABS: [&str; 4] = ["R_LARCH_ABS_HI20", "R_LARCH_ABS_LO12", "R_LARCH_ABS64_LO20", "R_LARCH_ABS64_HI12"];
const GOT: [&str; 4] = ["R_LARCH_GOT_HI20", "R_LARCH_GOT_LO12", "R_LARCH_GOT64_LO20", "R_LARCH_GOT64_HI12"];
const LE: [&str; 4] = ["R_LARCH_TLS_LE_HI20", "R_LARCH_TLS_LE_LO12", "R_LARCH_TLS_LE64_LO20", "R_LARCH_TLS_LE64_HI12"];
const IE: [&str; 4] = ["R_LARCH_TLS_IE_HI20", "R_LARCH_TLS_IE_LO12", "R_LARCH_TLS_IE64_LO20", "R_LARCH_TLS_IE64_HI12"];
const DESC: [&str; 4] = ["R_LARCH_TLS_DESC_HI20", "R_LARCH_TLS_DESC_LO12", "R_LARCH_TLS_DESC64_LO20", "R_LARCH_TLS_DESC64_HI12"];

/// TLS variant I with the first static block at the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::I;
pub const TCB_SIZE: usize = 0;
/// No DTV bias: DTPREL is S + A.
pub const DTV_OFFSET: u64 = 0;

/// GOT words reserved for lazy binding: `.got.plt[0]` the resolver, `.got.plt[1]` the object.
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 0;

// -------------------------------------------------------------------------------------------
// Relocatable objects: the laelf's object-file types, not linked here.

/// Relocatable objects are refused on this machine (no runtime).
pub const OBJECT_LINKING: bool = false;

/// A field of this machine's own shape: instruction immediates, and data updated in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsnField {
    /// A data word of `bytes` bytes (1, 2, 3, 4 or 8) ← V + value or V − value (`op` is
    /// `Value::Add` or `Value::Sub`).
    Data { bytes: u8, op: Value },
    /// The low 6 bits of a byte ← V ± value (the top two kept).
    Low6(Value),
    /// A ULEB128 number ← V ± value, in the bytes it has.
    Uleb128(Value),
    /// si12 (`insn[21:10]`, `si20` false) or si20 (`insn[24:5]`) ← X[`from` + width − 1 :
    /// `from`]; X is the value, or with `pc` the value + P (the value being X − P).
    Part { si20: bool, from: u8, pc: bool },
    /// PCALAU12I's si20 ← the page delta `((X + 0x800) & ~0xfff) − (P & ~0xfff)`, bits 31:12,
    /// the value being X − P.
    PageHi20,
    /// LU32I.D's si20 (bits 51:32) or LU52I.D's si12 (`hi12`, bits 63:52) ← the extreme code
    /// model's page delta from the PCALAU12I `back` bytes before P, the value being X − P.
    Page64 { hi12: bool, back: u8 },
    /// si20 ← `(value + 0x800)[31:12]` (the relaxable local-exec high part).
    Hi20Rounded,
    /// PCADDI's si20 ← `value[21:2]`: ±2 MiB, 4-aligned.
    Pcrel20S2,
    /// The word offset of a branch of `bits` bits (16: BEQ…JIRL, 21: BEQZ/BNEZ, 26: B/BL).
    Branch { bits: u8 },
    /// PCADDU18I + JIRL (8 bytes): si20 ← `(value + 0x20000)[37:18]`, then offs16 ←
    /// `value[17:2]`: ±128 GiB, 4-aligned.
    Call36,
}

/// The field of an object relocation on this machine.
pub type Field = super::Field<InsnField>;

impl super::InsnSize for InsnField {
    fn size(self) -> usize {
        match self {
            InsnField::Data { bytes, .. } => bytes as usize,
            InsnField::Low6(_) | InsnField::Uleb128(_) => 1,
            InsnField::Call36 => 8,
            _ => 4,
        }
    }
}

/// The calculation and field of an object relocation type. The four parts of a sequence
/// (HI20, LO12, 64_LO20, 64_HI12) are PC-relative page deltas (`*_PC_*` and PCALA: `pc4`) or
/// absolute parts (`abs4`); the LO12 of a PC-relative sequence is that of the address itself.
pub fn object_reloc(r_type: u32) -> (Calc, Field) {
    use self::InsnField::{Branch, Data, Low6, Page64, PageHi20, Part, Pcrel20S2, Uleb128};
    let f = Field::Insn;
    let part = |si20, from, pc| f(Part { si20, from, pc });
    // The PC-relative sequence of X (X − P computed by `calc`).
    let pc4 = |calc: Calc, i: u32| {
        let field = [f(PageHi20), part(false, 0, true), f(Page64 { hi12: false, back: 8 }), f(Page64 { hi12: true, back: 12 })];
        (calc, field[i as usize])
    };
    // The absolute parts of X, computed by `calc` (with `pc`, as X − P).
    let abs4 = |calc: Calc, pc: bool, i: u32| {
        let field = [part(true, 12, pc), part(false, 0, pc), part(true, 32, pc), part(false, 52, pc)];
        (calc, field[i as usize])
    };
    let got = Calc::GotEntryPc { relax: false };
    let data = |bytes, op| (Calc::Abs, f(Data { bytes, op }));
    let mark = (Calc::None, Field::None);
    match r_type {
        R_LARCH_NONE | R_LARCH_MARK_LA | R_LARCH_MARK_PCREL | R_LARCH_GNU_VTINHERIT | R_LARCH_GNU_VTENTRY => mark,
        R_LARCH_RELAX | R_LARCH_ALIGN | R_LARCH_TLS_DESC_LD | R_LARCH_TLS_LE_ADD_R => mark,
        R_LARCH_TLS_DESC_CALL => (Calc::TlsDescCall, Field::None),
        R_LARCH_32 => (Calc::Abs, Field::U32),
        R_LARCH_64 => (Calc::Abs, Field::W64),
        R_LARCH_32_PCREL => (Calc::Pc, Field::S32),
        R_LARCH_64_PCREL => (Calc::Pc, Field::W64),
        R_LARCH_ADD8 => data(1, Value::Add),
        R_LARCH_ADD16 => data(2, Value::Add),
        R_LARCH_ADD24 => data(3, Value::Add),
        R_LARCH_ADD32 => data(4, Value::Add),
        R_LARCH_ADD64 => data(8, Value::Add),
        R_LARCH_SUB8 => data(1, Value::Sub),
        R_LARCH_SUB16 => data(2, Value::Sub),
        R_LARCH_SUB24 => data(3, Value::Sub),
        R_LARCH_SUB32 => data(4, Value::Sub),
        R_LARCH_SUB64 => data(8, Value::Sub),
        R_LARCH_ADD6 => (Calc::Abs, f(Low6(Value::Add))),
        R_LARCH_SUB6 => (Calc::Abs, f(Low6(Value::Sub))),
        R_LARCH_ADD_ULEB128 => (Calc::Abs, f(Uleb128(Value::Add))),
        R_LARCH_SUB_ULEB128 => (Calc::Abs, f(Uleb128(Value::Sub))),
        R_LARCH_B16 => (Calc::Pc, f(Branch { bits: 16 })),
        R_LARCH_B21 => (Calc::Pc, f(Branch { bits: 21 })),
        R_LARCH_B26 => (Calc::CallPc, f(Branch { bits: 26 })),
        R_LARCH_CALL36 => (Calc::CallPc, f(InsnField::Call36)),
        R_LARCH_PCREL20_S2 => (Calc::Pc, f(Pcrel20S2)),
        R_LARCH_TLS_LD_PCREL20_S2 => (Calc::TlsLd, f(Pcrel20S2)),
        R_LARCH_TLS_GD_PCREL20_S2 => (Calc::TlsGd, f(Pcrel20S2)),
        R_LARCH_TLS_DESC_PCREL20_S2 => (Calc::TlsDesc, f(Pcrel20S2)),
        R_LARCH_ABS_HI20..=R_LARCH_ABS64_HI12 => abs4(Calc::Abs, false, r_type - R_LARCH_ABS_HI20),
        R_LARCH_TLS_LE_HI20..=R_LARCH_TLS_LE64_HI12 => abs4(Calc::TpOff, false, r_type - R_LARCH_TLS_LE_HI20),
        R_LARCH_TLS_LE_HI20_R => (Calc::TpOff, f(InsnField::Hi20Rounded)),
        R_LARCH_TLS_LE_LO12_R => (Calc::TpOff, part(false, 0, false)),
        // PCALA's LO12 is the low part of the symbol's address: S + A.
        R_LARCH_PCALA_LO12 => (Calc::Abs, part(false, 0, false)),
        R_LARCH_PCALA_HI20..=R_LARCH_PCALA64_HI12 => pc4(Calc::Pc, r_type - R_LARCH_PCALA_HI20),
        R_LARCH_GOT_PC_HI20..=R_LARCH_GOT64_PC_HI12 => pc4(got, r_type - R_LARCH_GOT_PC_HI20),
        R_LARCH_TLS_IE_PC_HI20..=R_LARCH_TLS_IE64_PC_HI12 => pc4(Calc::GotTpOff, r_type - R_LARCH_TLS_IE_PC_HI20),
        R_LARCH_TLS_DESC_PC_HI20..=R_LARCH_TLS_DESC64_PC_HI12 => pc4(Calc::TlsDesc, r_type - R_LARCH_TLS_DESC_PC_HI20),
        R_LARCH_TLS_LD_PC_HI20 => pc4(Calc::TlsLd, 0),
        R_LARCH_TLS_GD_PC_HI20 => pc4(Calc::TlsGd, 0),
        R_LARCH_GOT_HI20..=R_LARCH_GOT64_HI12 => abs4(got, true, r_type - R_LARCH_GOT_HI20),
        R_LARCH_TLS_IE_HI20..=R_LARCH_TLS_IE64_HI12 => abs4(Calc::GotTpOff, true, r_type - R_LARCH_TLS_IE_HI20),
        R_LARCH_TLS_DESC_HI20..=R_LARCH_TLS_DESC64_HI12 => abs4(Calc::TlsDesc, true, r_type - R_LARCH_TLS_DESC_HI20),
        R_LARCH_TLS_LD_HI20 => abs4(Calc::TlsLd, true, 0),
        R_LARCH_TLS_GD_HI20 => abs4(Calc::TlsGd, true, 0),
        // The dynamic types, and the stack machine of ABI v0 (binutils before 2.40): refused.
        _ => (Calc::Unknown, Field::None),
    }
}

/// Write `v` into the `Field::Insn` field at the start of `place`, whose address is `at`;
/// false if it does not fit.
pub fn write_insn(field: InsnField, place: &mut [u8], v: i64, at: u64) -> bool {
    put_insn(field, place, v, at).is_ok()
}

/// The 4 KiB page of an address (`& ~0xfff`).
const fn page(v: u64) -> u64 {
    v & !0xfff
}

/// [`write_insn`], saying why a value does not fit. Ranges are checked before alignment.
pub fn put_insn(field: InsnField, place: &mut [u8], v: i64, at: u64) -> Result<(), Bad> {
    let x = v as u64;
    let checked = |bits: u32, rounding: i64| match v {
        _ if !fits_signed(v.wrapping_add(rounding), bits) => Err(Bad::Range),
        _ if v & 3 != 0 => Err(Bad::Odd),
        _ => Ok(()),
    };
    let word = |place: &[u8], i: usize| place.get(i..i + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or(Bad::Place);
    let si12 = |insn, imm| insert(insn, 10, 12, imm);
    let si20 = |insn, imm| insert(insn, 5, 20, imm);
    let offs16 = |insn, offs: u64| insert(insn, 10, 16, bits(offs, 17, 2));
    let insn = match field {
        InsnField::Data { bytes, op } => {
            let b = place.get_mut(..bytes as usize).ok_or(Bad::Place)?;
            let old = b.iter().rev().fold(0u64, |v, &x| v << 8 | u64::from(x)) as i64;
            b.copy_from_slice(&rv::word_value(op, v, old).to_le_bytes()[..bytes as usize]);
            return Ok(());
        }
        InsnField::Low6(op) => {
            let old = rv::read_old(Site::Low6, place).ok_or(Bad::Place)?;
            return rv::write(Site::Low6, place, rv::word_value(op, v, old), false);
        }
        InsnField::Uleb128(op) => {
            let old = rv::read_old(Site::Uleb128, place).ok_or(Bad::Place)?;
            return rv::write(Site::Uleb128, place, rv::word_value(op, v, old), false);
        }
        InsnField::Call36 => {
            checked(38, 0x20000)?;
            let (pcaddu18i, jirl) = (word(place, 0)?, word(place, 4)?);
            place[..4].copy_from_slice(&si20(pcaddu18i, bits(x.wrapping_add(0x20000), 37, 18)).to_le_bytes());
            place[4..8].copy_from_slice(&offs16(jirl, x).to_le_bytes());
            return Ok(());
        }
        InsnField::Part { si20: wide, from, pc } => {
            let x = if pc { x.wrapping_add(at) } else { x };
            let from = u32::from(from);
            match wide {
                true => si20(word(place, 0)?, bits(x, from + 19, from)),
                false => si12(word(place, 0)?, bits(x, from + 11, from)),
            }
        }
        // P's page cancels out of both page deltas: only its low 12 bits matter.
        InsnField::PageHi20 => si20(word(place, 0)?, bits(page(x.wrapping_add(at & 0xfff).wrapping_add(0x800)), 31, 12)),
        InsnField::Page64 { hi12, back } => {
            let low = at & 0xfff;
            let x = x.wrapping_add(low);
            let carry = if x & 0x800 != 0 { 0x1000u64.wrapping_sub(0x1_0000_0000) } else { 0 };
            let delta = page(x.wrapping_add(0x8000_0000).wrapping_add(carry)).wrapping_sub(page(low.wrapping_sub(u64::from(back))));
            match hi12 {
                true => si12(word(place, 0)?, bits(delta, 63, 52)),
                false => si20(word(place, 0)?, bits(delta, 51, 32)),
            }
        }
        InsnField::Hi20Rounded => si20(word(place, 0)?, bits(x.wrapping_add(0x800), 31, 12)),
        InsnField::Pcrel20S2 => {
            checked(22, 0)?;
            si20(word(place, 0)?, bits(x, 21, 2))
        }
        InsnField::Branch { bits: n } => {
            checked(u32::from(n) + 2, 0)?;
            let insn = offs16(word(place, 0)?, x);
            match n {
                16 => insn,
                21 => insert(insn, 0, 5, bits(x, 22, 18)),
                _ => insert(insn, 0, 10, bits(x, 27, 18)),
            }
        }
    };
    place[..4].copy_from_slice(&insn.to_le_bytes());
    Ok(())
}

/// Dynamic relocation types the linker would emit (unused: objects are refused).
pub mod dynrel {
    use super::*;
    pub const ABS64: u32 = R_LARCH_64;
    pub const PC32: u32 = R_LARCH_32_PCREL;
    pub const ABS32: u32 = R_LARCH_32;
    pub const ABS32S: u32 = R_LARCH_32;
    pub const GLOB_DAT: u32 = R_LARCH_64;
    pub const IRELATIVE: u32 = R_LARCH_IRELATIVE;
    pub const DTPMOD64: u32 = R_LARCH_TLS_DTPMOD64;
    pub const DTPOFF64: u32 = R_LARCH_TLS_DTPREL64;
    pub const TPOFF64: u32 = R_LARCH_TLS_TPREL64;
    pub const TLSDESC: u32 = R_LARCH_TLS_DESC64;
}

#[cfg(test)]
mod tests {
    //! Expected instruction words are encoded by hand from the LoongArch reference manual's
    //! formats (opcode bits, rd in `[4:0]`, rj in `[9:5]`, immediates as laelf places them), with
    //! the arithmetic worked out in each comment. Registers: r1 ra, r4 a0, r5 a1, r12 t0.
    //! Sequences are also executed with the instructions' semantics (`Cpu`) to show they
    //! reach their target.
    use super::*;
    use crate::arch::sext;
    use crate::arch::testing::{self, Error, Inputs, Machine};

    const LA64: Machine<InsnField> = Machine { classify, object_reloc, write: put_insn, word: 8, dtv_offset: DTV_OFFSET };

    fn run(r_type: u32, place: &mut [u8], x: Inputs) -> Result<(), Error> {
        testing::apply(&LA64, r_type, place, &x)
    }

    /// Relocate one instruction word.
    fn insn(r_type: u32, word: u32, x: Inputs) -> u32 {
        testing::relocated(&LA64, r_type, word, x)
    }

    /// Whether the table has an entry for the type.
    fn has_entry(r_type: u32) -> bool {
        type_name(r_type) != type_name(u32::MAX)
    }

    /// The immediate fields, read back as the manual defines them.
    fn si12(w: u32) -> i64 {
        sext(u64::from(w >> 10) & 0xfff, 12)
    }
    fn si20(w: u32) -> i64 {
        sext(u64::from(w >> 5) & 0xf_ffff, 20)
    }
    fn offs16(w: u32) -> i64 {
        sext(u64::from(w >> 10) & 0xffff, 16) << 2
    }

    // Instructions with zero immediates.
    const PCALAU12I_T0: u32 = 0x1a00_000c; // 0001101 si20 rd
    const ADDI_D_T0_T0: u32 = 0x02c0_018c; // 0000001011 si12 rj rd
    const LD_D_A0_T0: u32 = 0x28c0_0184; // 0010100011 si12 rj rd
    const LU12I_W_T0: u32 = 0x1400_000c; // 0001010 si20 rd
    const ORI_T0_T0: u32 = 0x0380_018c; // 0000001110 ui12 rj rd
    const LU32I_D_T0: u32 = 0x1600_000c; // 0001011 si20 rd
    const LU52I_D_T0_T0: u32 = 0x0300_018c; // 0000001100 si12 rj rd
    const PCADDU18I_RA: u32 = 0x1e00_0001; // 0001111 si20 rd
    const JIRL_RA_RA: u32 = 0x4c00_0021; // 010011 offs16 rj rd
    const PCADDI_A0: u32 = 0x1800_0004; // 0001100 si20 rd

    #[test]
    fn branches() {
        // bl (010101 → 0x54000000), offset 0x0123_4568: offs[17:2] = (0x0123_4568 >> 2) &
        // 0xffff = 0xd15a → insn[25:10] = 0x0345_6800; offs[27:18] = 0x48 → insn[9:0].
        // 0x5400_0000 | 0x0345_6800 | 0x48 = 0x5745_6848.
        let x = Inputs { s: 0x1000 + 0x0123_4568, p: 0x1000, ..Default::default() };
        assert_eq!(insn(R_LARCH_B26, 0x5400_0000, x), 0x5745_6848);
        // b (0x50000000) to PC − 4: every offset bit set: 0x53ff_ffff.
        assert_eq!(insn(R_LARCH_B26, 0x5000_0000, Inputs { s: 0xffc, p: 0x1000, ..Default::default() }), 0x53ff_ffff);
        // ±128 MiB, 4-aligned.
        let mut p = 0x5000_0000u32.to_le_bytes();
        assert!(matches!(run(R_LARCH_B26, &mut p, Inputs { s: 0x800_1000, p: 0x1000, ..Default::default() }), Err(Error::Overflow { .. })));
        assert!(matches!(run(R_LARCH_B26, &mut p, Inputs { s: 0x1002, p: 0x1000, ..Default::default() }), Err(Error::Misaligned { .. })));

        // beqz a0 (010000, rj 4 → 0x40000080), offset −16: offs[17:2] = 0xfffc →
        // 0x03ff_f000; offs[22:18] = 0x1f → insn[4:0]: 0x43ff_f09f.
        assert_eq!(insn(R_LARCH_B21, 0x4000_0080, Inputs { s: 0xff0, p: 0x1000, ..Default::default() }), 0x43ff_f09f);
        // ±4 MiB.
        assert!(run(R_LARCH_B21, &mut p, Inputs { s: 0x40_1000, p: 0x1000, ..Default::default() }).is_err());

        // beq a0, a1 (010110, rj 4, rd 5 → 0x58000085), offset 0x100: offs[17:2] = 0x40 →
        // 0x10000: 0x5801_0085. ±128 KiB.
        assert_eq!(insn(R_LARCH_B16, 0x5800_0085, Inputs { s: 0x1100, p: 0x1000, ..Default::default() }), 0x5801_0085);
        assert!(run(R_LARCH_B16, &mut p, Inputs { s: 0x2_1000, p: 0x1000, ..Default::default() }).is_err());
    }

    #[test]
    fn pc_relative_normal_code_model() {
        // pcalau12i t0, %pc_hi20(x); addi.d t0, t0, %pc_lo12(x), with PC 0x1_2000_0abc and
        // S + A = 0x1_2345_6f00: ((0x1_2345_6f00 + 0x800) & ~0xfff) − (PC & ~0xfff)
        // = 0x1_2345_7000 − 0x1_2000_0000 = 0x345_7000 → si20 = 0x03457 → 0x03457 << 5 =
        // 0x68ae0: 0x1a06_8aec. lo12 = 0xf00 → 0xf00 << 10 = 0x3c_0000: 0x02fc_018c.
        // Check: 0x1_2000_0000 + 0x345_7000 + sext(0xf00) (−0x100) = 0x1_2345_6f00.
        let x = Inputs { s: 0x1_2345_6f00, p: 0x1_2000_0abc, ..Default::default() };
        assert_eq!(insn(R_LARCH_PCALA_HI20, PCALAU12I_T0, x), 0x1a06_8aec);
        assert_eq!(insn(R_LARCH_PCALA_LO12, ADDI_D_T0_T0, x), 0x02fc_018c);
    }

    #[test]
    fn got_entry_with_high_low_bits() {
        // pcalau12i t0, %got_pc_hi20(x); ld.d a0, t0, %got_pc_lo12(x): GOT 0x2_0000, G 0x8f8,
        // PC 0x1_0000. The entry is at 0x2_08f8, whose low 12 bits 0x8f8 ld.d sign-extends to
        // −0x708, so the page part must be 0x2_1000: (0x2_08f8 + 0x800) & ~0xfff = 0x2_1000,
        // minus 0x1_0000 = 0x1_1000 → si20 0x11 → 0x220: 0x1a00_022c. ld.d: 0x8f8 << 10 =
        // 0x23_e000: 0x28e3_e184. Check: 0x1_0000 + 0x1_1000 − 0x708 = 0x2_08f8.
        let x = Inputs { got: 0x2_0000, g: 0x8f8, p: 0x1_0000, ..Default::default() };
        let hi = insn(R_LARCH_GOT_PC_HI20, PCALAU12I_T0, x);
        let lo = insn(R_LARCH_GOT_PC_LO12, LD_D_A0_T0, Inputs { p: 0x1_0004, ..x });
        assert_eq!((hi, lo), (0x1a00_022c, 0x28e3_e184));
        assert_eq!(0x1_0000 + (si20(hi) << 12) + si12(lo), 0x2_08f8);
        // The initial-exec and descriptor entries compute alike.
        assert_eq!(insn(R_LARCH_TLS_IE_PC_HI20, PCALAU12I_T0, x), 0x1a00_022c);
        assert_eq!(insn(R_LARCH_TLS_DESC_PC_HI20, PCALAU12I_T0, x), 0x1a00_022c);
    }

    /// A LoongArch CPU running the extreme code model's sequences: pcalau12i t1 at `pc`,
    /// then addi.d t0, zero, lo12; lu32i.d t0, lo20; lu52i.d t0, t0, hi12; the address is
    /// t1 + t0.
    fn extreme(pc: u64, hi20: u32, lo12: u32, lo20: u32, hi12: u32) -> u64 {
        let t1 = (pc & !0xfff).wrapping_add((si20(hi20) << 12) as u64);
        let t0 = si12(lo12) as u64;
        let t0 = ((si20(lo20) as u64) << 32) | (t0 & 0xffff_ffff);
        let t0 = ((si12(hi12) as u64) << 52) | (t0 & ((1 << 52) - 1));
        t1.wrapping_add(t0)
    }

    #[test]
    fn pc_relative_extreme_code_model() {
        // X = S + A = 0x7654_3210_8765_4abc, the pcalau12i at PC 0x1000.
        // HI20: ((X + 0x800) & ~0xfff) − 0x1000 = 0x7654_3210_8765_4000 → [31:12] = 0x87654
        //   → 0x87654 << 5 = 0x10e_ca80: 0x1b0e_ca8c.
        // LO12: 0xabc → 0xabc << 10 = 0x2a_f000: 0x02ea_f18c.
        // LO20, HI12 (PC − 8 and PC − 12 are 0x1000): X & 0x800 is set, so
        //   X + 0x8000_0000 + 0x1000 − 0x1_0000_0000 = 0x7654_3210_0765_5abc, page
        //   0x7654_3210_0765_5000, minus 0x1000 = 0x7654_3210_0765_4000: [51:32] = 0x43210
        //   → 0x43210 << 5 = 0x86_4200: 0x1686_420c; [63:52] = 0x765 → 0x765 << 10 =
        //   0x1d_9400: 0x031d_958c.
        let x = Inputs { s: 0x7654_3210_8765_4abc, p: 0x1000, ..Default::default() };
        let hi20 = insn(R_LARCH_PCALA_HI20, PCALAU12I_T0, x);
        let lo12 = insn(R_LARCH_PCALA_LO12, ADDI_D_T0_T0, Inputs { p: 0x1004, ..x });
        let lo20 = insn(R_LARCH_PCALA64_LO20, LU32I_D_T0, Inputs { p: 0x1008, ..x });
        let hi12 = insn(R_LARCH_PCALA64_HI12, LU52I_D_T0_T0, Inputs { p: 0x100c, ..x });
        assert_eq!((hi20, lo12, lo20, hi12), (0x1b0e_ca8c, 0x02ea_f18c, 0x1686_420c, 0x031d_958c));
        assert_eq!(extreme(0x1000, hi20, lo12, lo20, hi12), 0x7654_3210_8765_4abc);

        // Other targets and places, with and without bit 11 and bit 31 set, forward and
        // backward: the sequence reaches each.
        for (target, pc) in [
            (0x0000_0000_0000_0000u64, 0x7fff_ffff_f000u64),
            (0xffff_ffff_ffff_f800, 0x1234_5678),
            (0x1234_5678_7fff_f7ff, 0x8000_0000),
            (0x8000_0000_0000_0800, 0x1_0000_0ffc),
        ] {
            let x = Inputs { s: target, p: pc, ..Default::default() };
            let parts = [
                insn(R_LARCH_PCALA_HI20, PCALAU12I_T0, x),
                insn(R_LARCH_PCALA_LO12, ADDI_D_T0_T0, Inputs { p: pc + 4, ..x }),
                insn(R_LARCH_PCALA64_LO20, LU32I_D_T0, Inputs { p: pc + 8, ..x }),
                insn(R_LARCH_PCALA64_HI12, LU52I_D_T0_T0, Inputs { p: pc + 12, ..x }),
            ];
            assert_eq!(extreme(pc, parts[0], parts[1], parts[2], parts[3]), target, "{target:#x} from {pc:#x}");
        }
    }

    #[test]
    fn extreme_code_model_reaches_everything() {
        // Targets and places from a linear congruential generator, with the low 12 and bit 31
        // of each forced through every combination that decides the carries.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            seed
        };
        for i in 0..20_000u64 {
            let edges = [0, 0x7ff, 0x800, 0xfff];
            let target = (next() & !0x8000_0fff) | edges[(i % 4) as usize] | ((i >> 2) & 1) << 31;
            let pc = (next() & !0x8000_0fff & !3) | edges[((i >> 3) % 4) as usize] & !3 | ((i >> 5) & 1) << 31;
            let x = Inputs { s: target, p: pc, ..Default::default() };
            let parts = [
                insn(R_LARCH_PCALA_HI20, PCALAU12I_T0, x),
                insn(R_LARCH_PCALA_LO12, ADDI_D_T0_T0, Inputs { p: pc.wrapping_add(4), ..x }),
                insn(R_LARCH_PCALA64_LO20, LU32I_D_T0, Inputs { p: pc.wrapping_add(8), ..x }),
                insn(R_LARCH_PCALA64_HI12, LU52I_D_T0_T0, Inputs { p: pc.wrapping_add(12), ..x }),
            ];
            assert_eq!(extreme(pc, parts[0], parts[1], parts[2], parts[3]), target, "{target:#x} from {pc:#x}");
        }
    }

    #[test]
    fn absolute_and_local_exec() {
        // lu12i.w/ori/lu32i.d/lu52i.d of X = 0x7654_3210_8765_4abc: [31:12] 0x87654 →
        // 0x150e_ca8c; [11:0] 0xabc → 0x03aa_f18c; [51:32] 0x43210 → 0x1686_420c;
        // [63:52] 0x765 → 0x031d_958c.
        let x = Inputs { s: 0x7654_3210_8765_4abc, ..Default::default() };
        assert_eq!(insn(R_LARCH_ABS_HI20, LU12I_W_T0, x), 0x150e_ca8c);
        assert_eq!(insn(R_LARCH_ABS_LO12, ORI_T0_T0, x), 0x03aa_f18c);
        assert_eq!(insn(R_LARCH_ABS64_LO20, LU32I_D_T0, x), 0x1686_420c);
        assert_eq!(insn(R_LARCH_ABS64_HI12, LU52I_D_T0_T0, x), 0x031d_958c);
        // TLS LE: T = S + A + TLSOFFSET = 0x10 + 0 + 0x12340 = 0x12350: lu12i.w si20 0x12 →
        // 0x240: 0x1400_024c; ori ui12 0x350 → 0xd_4000: 0x038d_418c.
        let t = Inputs { s: 0x10, tls_offset: 0x12340, ..Default::default() };
        assert_eq!(insn(R_LARCH_TLS_LE_HI20, LU12I_W_T0, t), 0x1400_024c);
        assert_eq!(insn(R_LARCH_TLS_LE_LO12, ORI_T0_T0, t), 0x038d_418c);
        // The relaxable form rounds: T = 0x12950, (T + 0x800) >> 12 = 0x13 → 0x1400_026c.
        let t = Inputs { s: 0x610, tls_offset: 0x12340, ..Default::default() };
        assert_eq!(insn(R_LARCH_TLS_LE_HI20_R, LU12I_W_T0, t), 0x1400_026c);
        // GOT entry address: GOT 0x12_3000 + G 0x48 = 0x12_3048: [31:12] 0x123 → 0x2460.
        let g = Inputs { got: 0x12_3000, g: 0x48, ..Default::default() };
        assert_eq!(insn(R_LARCH_GOT_HI20, LU12I_W_T0, g), 0x1400_246c);
        assert_eq!(insn(R_LARCH_GOT_LO12, ORI_T0_T0, g), 0x0381_218c);
    }

    #[test]
    fn call36_rounds_its_high_part() {
        // pcaddu18i ra, %call36(f); jirl ra, ra, 0. Offset 0x1_2346_0004: bits 17:2 are
        // 0x8001, negative for jirl's signed offs16, so the high part is rounded:
        // (0x1_2346_0004 + 0x2_0000) >> 18 = 0x48d2 → 0x48d2 << 5 = 0x9_1a40: 0x1e09_1a41;
        // jirl: 0x8001 << 10 = 0x200_0400: 0x4e00_0421.
        // Check: (0x48d2 << 18) + sext16(0x8001) * 4 = 0x1_2348_0000 − 0x1_fffc = 0x1_2346_0004.
        let mut p = [0u8; 8];
        p[..4].copy_from_slice(&PCADDU18I_RA.to_le_bytes());
        p[4..].copy_from_slice(&JIRL_RA_RA.to_le_bytes());
        run(R_LARCH_CALL36, &mut p, Inputs { s: 0x1000 + 0x1_2346_0004, p: 0x1000, ..Default::default() }).unwrap();
        let pcaddu18i = u32::from_le_bytes(p[..4].try_into().unwrap());
        let jirl = u32::from_le_bytes(p[4..].try_into().unwrap());
        assert_eq!((pcaddu18i, jirl), (0x1e09_1a41, 0x4e00_0421));
        assert_eq!((si20(pcaddu18i) << 18) + offs16(jirl), 0x1_2346_0004);
        // Offsets across the whole range, from a linear congruential generator: PCADDU18I
        // adds si20 << 18 to its address and JIRL offs16 << 2, both sign-extended.
        let mut seed = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let offset = sext(seed >> 20, 38) & !3;
            if offset >= (1 << 37) - 0x20000 {
                continue;
            }
            let mut p = [0u8; 8];
            p[..4].copy_from_slice(&PCADDU18I_RA.to_le_bytes());
            p[4..].copy_from_slice(&JIRL_RA_RA.to_le_bytes());
            let pc = 0x1234_5678_9abc_def0u64;
            run(R_LARCH_CALL36, &mut p, Inputs { s: pc.wrapping_add(offset as u64), p: pc, ..Default::default() }).unwrap();
            let (hi, lo) = (u32::from_le_bytes(p[..4].try_into().unwrap()), u32::from_le_bytes(p[4..].try_into().unwrap()));
            assert_eq!((si20(hi) << 18) + offs16(lo), offset);
        }
        // ±128 GiB.
        assert!(run(R_LARCH_CALL36, &mut p, Inputs { s: 0x20_0000_0000, p: 0, ..Default::default() }).is_err());
    }

    #[test]
    fn pcrel20_s2() {
        // pcaddi a0, offset 0x1234: [21:2] = 0x48d → 0x48d << 5 = 0x91a0: 0x1800_91a4.
        assert_eq!(insn(R_LARCH_PCREL20_S2, PCADDI_A0, Inputs { s: 0x3234, p: 0x2000, ..Default::default() }), 0x1800_91a4);
        // The GD form, PC-relative to the GOT entry: 0x1_0000 + 0x20 − 0xfe00 = 0x220 →
        // [21:2] = 0x88 → 0x1100: 0x1800_1104.
        let x = Inputs { got: 0x1_0000, g: 0x20, p: 0xfe00, ..Default::default() };
        assert_eq!(insn(R_LARCH_TLS_GD_PCREL20_S2, PCADDI_A0, x), 0x1800_1104);
        // ±2 MiB.
        let mut p = PCADDI_A0.to_le_bytes();
        assert!(run(R_LARCH_PCREL20_S2, &mut p, Inputs { s: 0x20_0000, p: 0, ..Default::default() }).is_err());
    }

    #[test]
    fn dynamic_words() {
        let word = |r_type, x| {
            let mut p = [0u8; 8];
            run(r_type, &mut p, x).unwrap();
            u64::from_le_bytes(p)
        };
        assert_eq!(word(R_LARCH_64, Inputs { s: 0x12_0000, a: 8, ..Default::default() }), 0x12_0008);
        assert_eq!(word(R_LARCH_RELATIVE, Inputs { b: 0x7fff_0000_0000, a: 0x40, ..Default::default() }), 0x7fff_0000_0040);
        assert_eq!(word(R_LARCH_JUMP_SLOT, Inputs { s: 0x12_3450, a: 8, ..Default::default() }), 0x12_3450);
        assert_eq!(word(R_LARCH_TLS_DTPMOD64, Inputs { module: 2, ..Default::default() }), 2);
        // No DTV bias on LoongArch: S + A.
        assert_eq!(word(R_LARCH_TLS_DTPREL64, Inputs { s: 0x10, a: 8, ..Default::default() }), 0x18);
        assert_eq!(word(R_LARCH_TLS_TPREL64, Inputs { s: 0x10, tls_offset: 0x800, ..Default::default() }), 0x810);
        assert_eq!(run(R_LARCH_TLS_DESC64, &mut [0; 16], Inputs::default()), Err(Error::Runtime));
        assert_eq!(run(R_LARCH_IRELATIVE, &mut [0; 8], Inputs::default()), Err(Error::Runtime));
    }

    #[test]
    fn label_arithmetic() {
        // ADD24/SUB24: 0x12_3456 − 0x12_0000 = 0x3456 in three bytes.
        let mut p = [0u8; 3];
        run(R_LARCH_ADD24, &mut p, Inputs { s: 0x12_3456, ..Default::default() }).unwrap();
        run(R_LARCH_SUB24, &mut p, Inputs { s: 0x12_0000, ..Default::default() }).unwrap();
        assert_eq!(p, [0x56, 0x34, 0x00]);
        // ADD6 keeps the top two bits: 0x81 holds 1 in its low 6 bits; + 0x3e wraps to 0x3f.
        let mut b = [0x81u8];
        run(R_LARCH_ADD6, &mut b, Inputs { s: 0x3e, ..Default::default() }).unwrap();
        assert_eq!(b, [0xbf]);
        run(R_LARCH_SUB6, &mut b, Inputs { s: 0x3f, ..Default::default() }).unwrap();
        assert_eq!(b, [0x80]);
        // ADD_ULEB128 on a padded one: 5 (85 80 00) + 0x7b = 0x80 → 80 81 00.
        let mut u = [0x85, 0x80, 0x00];
        run(R_LARCH_ADD_ULEB128, &mut u, Inputs { s: 0x7b, ..Default::default() }).unwrap();
        assert_eq!(u, [0x80, 0x81, 0x00]);
        run(R_LARCH_SUB_ULEB128, &mut u, Inputs { s: 0x80, ..Default::default() }).unwrap();
        assert_eq!(u, [0x80, 0x80, 0x00]);
    }

    #[test]
    fn table_is_complete() {
        let defined = [0..=14, 20..=58, 64..=100, 102..=103, 105..=126];
        for t in 0..=255u32 {
            let expected = defined.iter().any(|r| r.contains(&t));
            assert_eq!(has_entry(t), expected, "type {t}");
        }
        // The stack machine of ABI v0 is refused, the marks accepted.
        assert_eq!(run(30, &mut [0; 4], Inputs::default()), Err(Error::Unsupported));
        for t in [R_LARCH_RELAX, R_LARCH_ALIGN, R_LARCH_MARK_LA, R_LARCH_TLS_DESC_CALL, R_LARCH_TLS_LE_ADD_R] {
            run(t, &mut [], Inputs::default()).unwrap();
        }
        assert_eq!(type_name(R_LARCH_GOT64_PC_HI12), "R_LARCH_GOT64_PC_HI12");
        assert_eq!(type_name(R_LARCH_TLS_IE_LO12), "R_LARCH_TLS_IE_LO12");
    }
}
