//! AArch64 ("ELF for the Arm 64-bit Architecture (AArch64)", AAELF64, section 5.7).
//!
//! Relocations in shared objects are RELA. The psABI's table of the dynamic relocations, with S
//! the symbol value, A the addend, B the base (load bias), P the place and TP the thread pointer
//! (TPREL: the offset of the variable from TP, its block's offset plus S + A):
//!
//! | type              | field    | calculation                          |
//! |-------------------|----------|--------------------------------------|
//! | 257  ABS64        | word64   | S + A                                |
//! | 1024 COPY         | size of S| copy S into the executable           |
//! | 1025 GLOB_DAT     | word64   | S + A                                |
//! | 1026 JUMP_SLOT    | word64   | S + A (lazy binding may defer it)    |
//! | 1027 RELATIVE     | word64   | B + A                                |
//! | 1028 TLS_DTPMOD   | word64   | module id of S's block               |
//! | 1029 TLS_DTPREL   | word64   | S + A (offset in its TLS block)      |
//! | 1030 TLS_TPREL    | word64   | S + A + block offset from TP         |
//! | 1031 TLSDESC      | 2×word64 | descriptor: function, argument       |
//! | 1032 IRELATIVE    | word64   | resolver(B + A)(hwcap args)          |
//!
//! The thread pointer is `tpidr_el0`. TLS is variant I: TP points at a 16-byte thread control
//! block and the static blocks follow it (positive offsets).
//!
//! The table of the object-file types (relink's in-process linker, `object_reloc`) is further
//! down, with the code the linker writes (call stubs, `.init` frames, runtime functions).

use super::{fits_signed, insert, Calc, Kind, RuntimeFn};

pub use super::defaults::*;

pub const EM_AARCH64: u16 = 183;
pub const ELF_MACHINE: u16 = EM_AARCH64;
/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.17";
/// `e_flags` of the objects relink makes (none are defined on AArch64).
pub const ELF_FLAGS: u32 = 0;
/// Why a file's `e_flags` keep the system loader from running it here: never on AArch64 (it
/// defines no flags).
pub fn flags_mismatch(_e_flags: u32) -> Option<&'static str> {
    None
}

pub const NAME: &str = "aarch64";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_AARCH64_RELATIVE;
/// The type of a TPREL relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_AARCH64_TLS_TPREL;
/// REL tables are refused: glibc has no REL relocations on this machine.
pub const ACCEPTS_REL: bool = false;

pub const R_AARCH64_NONE: u32 = 0;
pub const R_AARCH64_ABS64: u32 = 257;
pub const R_AARCH64_ABS32: u32 = 258;
pub const R_AARCH64_ABS16: u32 = 259;
pub const R_AARCH64_PREL64: u32 = 260;
pub const R_AARCH64_PREL32: u32 = 261;
pub const R_AARCH64_PREL16: u32 = 262;
pub const R_AARCH64_MOVW_UABS_G0: u32 = 263;
pub const R_AARCH64_MOVW_UABS_G0_NC: u32 = 264;
pub const R_AARCH64_MOVW_UABS_G1: u32 = 265;
pub const R_AARCH64_MOVW_UABS_G1_NC: u32 = 266;
pub const R_AARCH64_MOVW_UABS_G2: u32 = 267;
pub const R_AARCH64_MOVW_UABS_G2_NC: u32 = 268;
pub const R_AARCH64_MOVW_UABS_G3: u32 = 269;
pub const R_AARCH64_LD_PREL_LO19: u32 = 273;
pub const R_AARCH64_ADR_PREL_LO21: u32 = 274;
pub const R_AARCH64_ADR_PREL_PG_HI21: u32 = 275;
pub const R_AARCH64_ADR_PREL_PG_HI21_NC: u32 = 276;
pub const R_AARCH64_ADD_ABS_LO12_NC: u32 = 277;
pub const R_AARCH64_LDST8_ABS_LO12_NC: u32 = 278;
pub const R_AARCH64_TSTBR14: u32 = 279;
pub const R_AARCH64_CONDBR19: u32 = 280;
pub const R_AARCH64_JUMP26: u32 = 282;
pub const R_AARCH64_CALL26: u32 = 283;
pub const R_AARCH64_LDST16_ABS_LO12_NC: u32 = 284;
pub const R_AARCH64_LDST32_ABS_LO12_NC: u32 = 285;
pub const R_AARCH64_LDST64_ABS_LO12_NC: u32 = 286;
pub const R_AARCH64_LDST128_ABS_LO12_NC: u32 = 299;
pub const R_AARCH64_GOT_LD_PREL19: u32 = 309;
pub const R_AARCH64_ADR_GOT_PAGE: u32 = 311;
pub const R_AARCH64_LD64_GOT_LO12_NC: u32 = 312;
pub const R_AARCH64_TLSGD_ADR_PAGE21: u32 = 513;
pub const R_AARCH64_TLSGD_ADD_LO12_NC: u32 = 514;
pub const R_AARCH64_TLSLD_ADR_PAGE21: u32 = 518;
pub const R_AARCH64_TLSLD_ADD_LO12_NC: u32 = 519;
pub const R_AARCH64_TLSLD_ADD_DTPREL_HI12: u32 = 528;
pub const R_AARCH64_TLSLD_ADD_DTPREL_LO12: u32 = 529;
pub const R_AARCH64_TLSLD_ADD_DTPREL_LO12_NC: u32 = 530;
pub const R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21: u32 = 541;
pub const R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC: u32 = 542;
pub const R_AARCH64_TLSLE_ADD_TPREL_HI12: u32 = 549;
pub const R_AARCH64_TLSLE_ADD_TPREL_LO12: u32 = 550;
pub const R_AARCH64_TLSLE_ADD_TPREL_LO12_NC: u32 = 551;
pub const R_AARCH64_TLSDESC_ADR_PAGE21: u32 = 562;
pub const R_AARCH64_TLSDESC_LD64_LO12: u32 = 563;
pub const R_AARCH64_TLSDESC_ADD_LO12: u32 = 564;
pub const R_AARCH64_TLSDESC_CALL: u32 = 569;
pub const R_AARCH64_COPY: u32 = 1024;
pub const R_AARCH64_GLOB_DAT: u32 = 1025;
pub const R_AARCH64_JUMP_SLOT: u32 = 1026;
pub const R_AARCH64_RELATIVE: u32 = 1027;
pub const R_AARCH64_TLS_DTPMOD: u32 = 1028;
pub const R_AARCH64_TLS_DTPREL: u32 = 1029;
pub const R_AARCH64_TLS_TPREL: u32 = 1030;
pub const R_AARCH64_TLSDESC: u32 = 1031;
pub const R_AARCH64_IRELATIVE: u32 = 1032;

/// Map a raw relocation type onto its generic kind.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_AARCH64_NONE => Kind::None,
        // GLOB_DAT adds the addend on AArch64 (S + A), unlike x86-64's.
        R_AARCH64_ABS64 | R_AARCH64_GLOB_DAT => Kind::Symbolic,
        R_AARCH64_JUMP_SLOT => Kind::PltSlot,
        R_AARCH64_RELATIVE => Kind::Relative,
        R_AARCH64_COPY => Kind::Copy,
        R_AARCH64_TLS_DTPMOD => Kind::DtpMod,
        R_AARCH64_TLS_DTPREL => Kind::DtpOff,
        R_AARCH64_TLS_TPREL => Kind::TpOff,
        R_AARCH64_TLSDESC => Kind::TlsDesc,
        R_AARCH64_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// psABI names of the dynamic types and of the static ones most often met, for messages.
const TYPE_NAMES: &[(u32, &str)] = &[
    (0, "R_AARCH64_NONE"),
    (257, "R_AARCH64_ABS64"),
    (258, "R_AARCH64_ABS32"),
    (259, "R_AARCH64_ABS16"),
    (260, "R_AARCH64_PREL64"),
    (261, "R_AARCH64_PREL32"),
    (262, "R_AARCH64_PREL16"),
    (263, "R_AARCH64_MOVW_UABS_G0"),
    (264, "R_AARCH64_MOVW_UABS_G0_NC"),
    (265, "R_AARCH64_MOVW_UABS_G1"),
    (266, "R_AARCH64_MOVW_UABS_G1_NC"),
    (267, "R_AARCH64_MOVW_UABS_G2"),
    (268, "R_AARCH64_MOVW_UABS_G2_NC"),
    (269, "R_AARCH64_MOVW_UABS_G3"),
    (273, "R_AARCH64_LD_PREL_LO19"),
    (274, "R_AARCH64_ADR_PREL_LO21"),
    (275, "R_AARCH64_ADR_PREL_PG_HI21"),
    (276, "R_AARCH64_ADR_PREL_PG_HI21_NC"),
    (277, "R_AARCH64_ADD_ABS_LO12_NC"),
    (278, "R_AARCH64_LDST8_ABS_LO12_NC"),
    (279, "R_AARCH64_TSTBR14"),
    (280, "R_AARCH64_CONDBR19"),
    (282, "R_AARCH64_JUMP26"),
    (283, "R_AARCH64_CALL26"),
    (284, "R_AARCH64_LDST16_ABS_LO12_NC"),
    (285, "R_AARCH64_LDST32_ABS_LO12_NC"),
    (286, "R_AARCH64_LDST64_ABS_LO12_NC"),
    (299, "R_AARCH64_LDST128_ABS_LO12_NC"),
    (309, "R_AARCH64_GOT_LD_PREL19"),
    (311, "R_AARCH64_ADR_GOT_PAGE"),
    (312, "R_AARCH64_LD64_GOT_LO12_NC"),
    (513, "R_AARCH64_TLSGD_ADR_PAGE21"),
    (514, "R_AARCH64_TLSGD_ADD_LO12_NC"),
    (518, "R_AARCH64_TLSLD_ADR_PAGE21"),
    (519, "R_AARCH64_TLSLD_ADD_LO12_NC"),
    (528, "R_AARCH64_TLSLD_ADD_DTPREL_HI12"),
    (529, "R_AARCH64_TLSLD_ADD_DTPREL_LO12"),
    (530, "R_AARCH64_TLSLD_ADD_DTPREL_LO12_NC"),
    (541, "R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21"),
    (542, "R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC"),
    (549, "R_AARCH64_TLSLE_ADD_TPREL_HI12"),
    (550, "R_AARCH64_TLSLE_ADD_TPREL_LO12"),
    (551, "R_AARCH64_TLSLE_ADD_TPREL_LO12_NC"),
    (562, "R_AARCH64_TLSDESC_ADR_PAGE21"),
    (563, "R_AARCH64_TLSDESC_LD64_LO12"),
    (564, "R_AARCH64_TLSDESC_ADD_LO12"),
    (569, "R_AARCH64_TLSDESC_CALL"),
    (1024, "R_AARCH64_COPY"),
    (1025, "R_AARCH64_GLOB_DAT"),
    (1026, "R_AARCH64_JUMP_SLOT"),
    (1027, "R_AARCH64_RELATIVE"),
    (1028, "R_AARCH64_TLS_DTPMOD"),
    (1029, "R_AARCH64_TLS_DTPREL"),
    (1030, "R_AARCH64_TLS_TPREL"),
    (1031, "R_AARCH64_TLSDESC"),
    (1032, "R_AARCH64_IRELATIVE"),
];

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    TYPE_NAMES.iter().find(|(t, _)| *t == r_type).map_or("an unknown relocation type", |(_, n)| n)
}

/// TLS variant I: the static blocks follow a 16-byte thread control block at the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::I;
pub const TCB_SIZE: usize = 16;
/// `DTPREL` values are plain offsets into the block.
pub const DTV_OFFSET: u64 = 0;

/// GOT words reserved for lazy binding: `GOT[1]` (relink's context for the object),
/// `GOT[2]` (the trampoline PLT0 branches to).
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 2;

// -------------------------------------------------------------------------------------------
// Relocatable objects (`src/link/`). The psABI's table of the static relocations relink
// applies, with S, A, P as above, X the value computed, Page(x) = x & !0xfff, G the address of
// the symbol's GOT entry, L the symbol's call stub (the symbol itself when it needs none; calls
// leaving the unit go through a stub, `adrp x16; ldr x17; br x17`), and TPREL(x) the offset of
// x from the thread pointer:
//
// | type                              | field                | calculation              |
// |-----------------------------------|----------------------|--------------------------|
// | 257 ABS64, 258 ABS32, 259 ABS16   | word64/32/16         | S + A                    |
// | 260 PREL64, 261 PREL32, 262 PREL16| word64/32/16         | S + A - P                |
// | 263-269 MOVW_UABS_G0..G3 (_NC)    | MOVZ/MOVK imm16      | S + A, bits 16n+15:16n   |
// | 273 LD_PREL_LO19                 | LDR (literal) imm19  | S + A - P, bits 20:2     |
// | 274 ADR_PREL_LO21                 | ADR imm21            | S + A - P                |
// | 275 ADR_PREL_PG_HI21 (276 _NC)    | ADRP imm21           | Page(S + A) - Page(P)    |
// | 277 ADD_ABS_LO12_NC               | ADD imm12            | S + A, bits 11:0         |
// | 278/284/285/286/299 LDSTn_ABS_LO12_NC | LDR/STR imm12    | S + A, bits 11:log2(n/8) |
// | 279 TSTBR14                       | TBZ/TBNZ imm14       | S + A - P, bits 15:2     |
// | 280 CONDBR19                      | B.cond/CBZ imm19     | S + A - P, bits 20:2     |
// | 282 JUMP26, 283 CALL26            | B/BL imm26           | L + A - P, bits 27:2     |
// | 309 GOT_LD_PREL19                | LDR (literal) imm19  | G - P, bits 20:2         |
// | 311 ADR_GOT_PAGE                  | ADRP imm21           | Page(G) - Page(P)        |
// | 312 LD64_GOT_LO12_NC              | LDR imm12            | G, bits 11:3             |
// | 513 TLSGD_ADR_PAGE21            | ADRP imm21           | Page(G(GD pair of S + A)) - Page(P) |
// | 514 TLSGD_ADD_LO12_NC             | ADD imm12            | G(GD pair of S + A), bits 11:0 |
// | 518 TLSLD_ADR_PAGE21              | ADRP imm21           | Page(G(LD pair)) - Page(P) |
// | 519 TLSLD_ADD_LO12_NC             | ADD imm12            | G(LD pair), bits 11:0    |
// | 528 TLSLD_ADD_DTPREL_HI12         | ADD imm12            | DTPREL(S + A), bits 23:12 |
// | 529 TLSLD_ADD_DTPREL_LO12 (530 _NC)| ADD imm12           | DTPREL(S + A), bits 11:0 |
// | 541 TLSIE_ADR_GOTTPREL_PAGE21     | ADRP imm21           | Page(G(TPREL(S + A))) - Page(P) |
// | 542 TLSIE_LD64_GOTTPREL_LO12_NC   | LDR imm12            | G(TPREL(S + A)), bits 11:3 |
// | 549 TLSLE_ADD_TPREL_HI12          | ADD imm12            | TPREL(S + A), bits 23:12 |
// | 550 TLSLE_ADD_TPREL_LO12 (551 _NC)| ADD imm12            | TPREL(S + A), bits 11:0  |
// | 562 TLSDESC_ADR_PAGE21            | ADRP imm21           | Page(G(TLSDESC(S + A))) - Page(P) |
// | 563 TLSDESC_LD64_LO12             | LDR imm12            | G(TLSDESC(S + A)), bits 11:3 |
// | 564 TLSDESC_ADD_LO12              | ADD imm12            | G(TLSDESC(S + A)), bits 11:0 |
// | 569 TLSDESC_CALL                  | none                 | (marks the descriptor call) |
//
// The types that take the low 12 bits of an address (ADD_ABS_LO12_NC, LDST*, and the GOT,
// GD/LD and descriptor LO12 types) are given the PC-relative calculation of their ADRP
// (X - P, `Calc::Pc` for S + A), and the field adds the place back: the ADRP and its
// companion then reach the same stub, GOT entry or dynamic relocation, and an address outside
// the unit is refused for both alike.

/// Relocatable objects are linked on this machine.
pub const OBJECT_LINKING: bool = true;

/// The immediate fields of A64 instructions that relocations write ("Arm Architecture
/// Reference Manual", the encodings of ADR/ADRP, ADD (immediate), LDR/STR (unsigned offset),
/// MOVZ/MOVK, B/BL, B.cond/CBZ/CBNZ and TBZ/TBNZ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsnField {
    /// ADRP `immhi:immlo` <- Page(X) - Page(P) in pages, from X - P; `check`: within ±4 GiB.
    AdrPage { check: bool },
    /// ADR `immhi:immlo` <- X - P, within ±1 MiB.
    Adr,
    /// ADD or LDR/STR `imm12` (bits 21:10) <- bits 11:`shift` of X, from X - P.
    PageOff { shift: u8 },
    /// ADD `imm12` <- bits 11:0 of X (`hi`: bits 23:12), X given as it is (an offset from the
    /// thread pointer or in a TLS block); `check`: X below 2^12 (`hi`: 2^24).
    AddImm { hi: bool, check: bool },
    /// MOVZ/MOVK `imm16` (bits 20:5) <- bits 16·`group` + 15 : 16·`group` of X; `check`: X
    /// below 2^(16·`group` + 16).
    MovW { group: u8, check: bool },
    /// A PC-relative word offset of `bits` bits <- (X - P) / 4 (26: B/BL at bit 0; 19:
    /// B.cond/CBZ/CBNZ and LDR (literal) at bit 5; 14: TBZ/TBNZ at bit 5).
    Words { bits: u8 },
}

/// The field of an object relocation on this machine.
pub type Field = super::Field<InsnField>;

/// A `Field::Insn` field covers one instruction.
impl super::InsnSize for InsnField {
    fn size(self) -> usize {
        4
    }
}

/// Write `v` into the field of the instruction at the start of `place`, whose offset from the
/// (page-aligned) image base is `at`; false if it does not fit.
pub fn write_insn(field: InsnField, place: &mut [u8], v: i64, at: u64) -> bool {
    let Some(word) = place.get(..4) else { return false };
    let old = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
    let Some(insn) = encode_insn(field, old, v, at) else { return false };
    place[..4].copy_from_slice(&insn.to_le_bytes());
    true
}

/// Encode `v` into the field of `insn` at the place whose offset from the (page-aligned) image
/// base is `place`; None if it does not fit.
fn encode_insn(field: InsnField, insn: u32, v: i64, place: u64) -> Option<u32> {
    // X from X - P, where only its low 12 bits are used.
    let low = |v: i64| (v as u64).wrapping_add(place) & 0xfff;
    let adr = |insn: u32, imm: i64| insert(insert(insn, 29, 2, imm as u32), 5, 19, (imm >> 2) as u32);
    Some(match field {
        InsnField::AdrPage { check } => {
            let pages = v.wrapping_add((place & 0xfff) as i64) >> 12;
            if check && !fits_signed(pages, 21) {
                return None;
            }
            adr(insn, pages)
        }
        InsnField::Adr => {
            if !fits_signed(v, 21) {
                return None;
            }
            adr(insn, v)
        }
        InsnField::PageOff { shift } => insert(insn, 10, 12, (low(v) >> shift) as u32),
        InsnField::AddImm { hi, check } => {
            let limit = if hi { 1i64 << 24 } else { 1 << 12 };
            if check && !(0..limit).contains(&v) {
                return None;
            }
            insert(insn, 10, 12, ((v as u64) >> if hi { 12 } else { 0 }) as u32)
        }
        InsnField::MovW { group, check } => {
            let shift = 16 * group as u32;
            if check && shift < 48 && (v as u64) >> (shift + 16) != 0 {
                return None;
            }
            insert(insn, 5, 16, ((v as u64) >> shift) as u32)
        }
        InsnField::Words { bits } => {
            if v & 3 != 0 || !fits_signed(v >> 2, bits as u32) {
                return None;
            }
            insert(insn, if bits == 26 { 0 } else { 5 }, bits as u32, (v >> 2) as u32)
        }
    })
}

/// The calculation and field of an object relocation type.
pub fn object_reloc(r_type: u32) -> (Calc, Field) {
    use self::InsnField::*;
    let insn = Field::Insn;
    match r_type {
        R_AARCH64_NONE => (Calc::None, Field::None),
        R_AARCH64_ABS64 => (Calc::Abs, Field::W64),
        R_AARCH64_ABS32 => (Calc::Abs, Field::U32),
        R_AARCH64_ABS16 => (Calc::Abs, Field::Bits16),
        R_AARCH64_PREL64 => (Calc::Pc, Field::W64),
        R_AARCH64_PREL32 => (Calc::Pc, Field::S32),
        R_AARCH64_PREL16 => (Calc::Pc, Field::Bits16),
        R_AARCH64_MOVW_UABS_G0 => (Calc::Abs, insn(MovW { group: 0, check: true })),
        R_AARCH64_MOVW_UABS_G0_NC => (Calc::Abs, insn(MovW { group: 0, check: false })),
        R_AARCH64_MOVW_UABS_G1 => (Calc::Abs, insn(MovW { group: 1, check: true })),
        R_AARCH64_MOVW_UABS_G1_NC => (Calc::Abs, insn(MovW { group: 1, check: false })),
        R_AARCH64_MOVW_UABS_G2 => (Calc::Abs, insn(MovW { group: 2, check: true })),
        R_AARCH64_MOVW_UABS_G2_NC => (Calc::Abs, insn(MovW { group: 2, check: false })),
        R_AARCH64_MOVW_UABS_G3 => (Calc::Abs, insn(MovW { group: 3, check: false })),
        R_AARCH64_LD_PREL_LO19 => (Calc::Pc, insn(Words { bits: 19 })),
        R_AARCH64_ADR_PREL_LO21 => (Calc::Pc, insn(Adr)),
        R_AARCH64_ADR_PREL_PG_HI21 => (Calc::Pc, insn(AdrPage { check: true })),
        R_AARCH64_ADR_PREL_PG_HI21_NC => (Calc::Pc, insn(AdrPage { check: false })),
        R_AARCH64_ADD_ABS_LO12_NC | R_AARCH64_LDST8_ABS_LO12_NC => (Calc::Pc, insn(PageOff { shift: 0 })),
        R_AARCH64_LDST16_ABS_LO12_NC => (Calc::Pc, insn(PageOff { shift: 1 })),
        R_AARCH64_LDST32_ABS_LO12_NC => (Calc::Pc, insn(PageOff { shift: 2 })),
        R_AARCH64_LDST64_ABS_LO12_NC => (Calc::Pc, insn(PageOff { shift: 3 })),
        R_AARCH64_LDST128_ABS_LO12_NC => (Calc::Pc, insn(PageOff { shift: 4 })),
        R_AARCH64_TSTBR14 => (Calc::Pc, insn(Words { bits: 14 })),
        R_AARCH64_CONDBR19 => (Calc::Pc, insn(Words { bits: 19 })),
        R_AARCH64_JUMP26 | R_AARCH64_CALL26 => (Calc::CallPc, insn(Words { bits: 26 })),
        R_AARCH64_GOT_LD_PREL19 => (Calc::GotEntryPc { relax: false }, insn(Words { bits: 19 })),
        R_AARCH64_ADR_GOT_PAGE => (Calc::GotEntryPc { relax: false }, insn(AdrPage { check: true })),
        R_AARCH64_LD64_GOT_LO12_NC => (Calc::GotEntryPc { relax: false }, insn(PageOff { shift: 3 })),
        R_AARCH64_TLSGD_ADR_PAGE21 => (Calc::TlsGd, insn(AdrPage { check: true })),
        R_AARCH64_TLSGD_ADD_LO12_NC => (Calc::TlsGd, insn(PageOff { shift: 0 })),
        R_AARCH64_TLSLD_ADR_PAGE21 => (Calc::TlsLd, insn(AdrPage { check: true })),
        R_AARCH64_TLSLD_ADD_LO12_NC => (Calc::TlsLd, insn(PageOff { shift: 0 })),
        R_AARCH64_TLSLD_ADD_DTPREL_HI12 => (Calc::DtpOff, insn(AddImm { hi: true, check: true })),
        R_AARCH64_TLSLD_ADD_DTPREL_LO12 => (Calc::DtpOff, insn(AddImm { hi: false, check: true })),
        R_AARCH64_TLSLD_ADD_DTPREL_LO12_NC => (Calc::DtpOff, insn(AddImm { hi: false, check: false })),
        R_AARCH64_TLSIE_ADR_GOTTPREL_PAGE21 => (Calc::GotTpOff, insn(AdrPage { check: true })),
        R_AARCH64_TLSIE_LD64_GOTTPREL_LO12_NC => (Calc::GotTpOff, insn(PageOff { shift: 3 })),
        R_AARCH64_TLSLE_ADD_TPREL_HI12 => (Calc::TpOff, insn(AddImm { hi: true, check: true })),
        R_AARCH64_TLSLE_ADD_TPREL_LO12 => (Calc::TpOff, insn(AddImm { hi: false, check: true })),
        R_AARCH64_TLSLE_ADD_TPREL_LO12_NC => (Calc::TpOff, insn(AddImm { hi: false, check: false })),
        R_AARCH64_TLSDESC_ADR_PAGE21 => (Calc::TlsDesc, insn(AdrPage { check: true })),
        R_AARCH64_TLSDESC_LD64_LO12 => (Calc::TlsDesc, insn(PageOff { shift: 3 })),
        R_AARCH64_TLSDESC_ADD_LO12 => (Calc::TlsDesc, insn(PageOff { shift: 0 })),
        R_AARCH64_TLSDESC_CALL => (Calc::TlsDescCall, Field::None),
        _ => (Calc::Unknown, Field::None),
    }
}

/// Dynamic relocation types the linker emits for what must be bound at load.
pub mod dynrel {
    use super::*;
    pub const ABS64: u32 = R_AARCH64_ABS64;
    pub const PC32: u32 = R_AARCH64_PREL32;
    pub const ABS32: u32 = R_AARCH64_ABS32;
    pub const ABS32S: u32 = R_AARCH64_ABS32;
    pub const GLOB_DAT: u32 = R_AARCH64_GLOB_DAT;
    pub const IRELATIVE: u32 = R_AARCH64_IRELATIVE;
    pub const DTPMOD64: u32 = R_AARCH64_TLS_DTPMOD;
    pub const DTPOFF64: u32 = R_AARCH64_TLS_DTPREL;
    pub const TPOFF64: u32 = R_AARCH64_TLS_TPREL;
    pub const TLSDESC: u32 = R_AARCH64_TLSDESC;
}

/// Size of a call stub (a veneer through a GOT entry).
pub const STUB_SIZE: usize = 16;

/// A call stub at `stub` that branches through the GOT entry at `slot` (8-byte aligned), with
/// the intra-procedure-call registers as a PLT entry uses them:
/// `adrp x16, slot; ldr x17, [x16, :lo12:slot]; br x17; brk #0`.
pub fn call_stub(stub: u64, slot: u64) -> [u8; STUB_SIZE] {
    let ldr = 0xf940_0211 | (((slot & 0xfff) as u32) >> 3) << 10;
    words([adrp_x16(stub, slot), ldr, 0xd61f_0220, 0xd420_0000])
}

/// `adrp x16, target` at `at`.
fn adrp_x16(at: u64, target: u64) -> u32 {
    let pages = ((target >> 12) as i64).wrapping_sub((at >> 12) as i64) as u32;
    0x9000_0010 | (pages & 3) << 29 | ((pages >> 2) & 0x7ffff) << 5
}

/// Instruction words as little-endian bytes.
fn words<const N: usize, const B: usize>(w: [u32; N]) -> [u8; B] {
    let mut s = [0u8; B];
    for (i, w) in w.into_iter().enumerate() {
        s[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    s
}

/// How far (either way, in bytes) a `b`/`bl` reaches: a CALL26/JUMP26 branch to code of the
/// unit farther away goes through a veneer placed after its section (see `link::layout`).
pub const BRANCH_REACH: u64 = 1 << 27;

/// Whether a relocation is a branch that a veneer may carry farther: CALL26 and JUMP26 (as
/// with lld and mold; conditional branches and literal loads get none).
pub fn veneered_branch(r_type: u32) -> bool {
    matches!(r_type, R_AARCH64_CALL26 | R_AARCH64_JUMP26)
}

/// Size of a range-extension veneer.
pub const VENEER_SIZE: usize = 12;

/// A veneer at `at` to `target` (within ±4 GiB), with the register a linker's veneer
/// may clobber: `adrp x16, target; add x16, x16, :lo12:target; br x16`.
pub fn veneer(at: u64, target: u64) -> [u8; VENEER_SIZE] {
    let add = 0x9100_0210 | ((target & 0xfff) as u32) << 10;
    words([adrp_x16(at, target), add, 0xd61f_0200])
}

/// crti.o's and crtn.o's `.init`/`.fini` frame: `stp x29, x30, [sp, #-16]!; mov x29, sp` and
/// `ldp x29, x30, [sp], #16; ret`.
pub const INIT_PROLOGUE: &[u8] = &[0xfd, 0x7b, 0xbf, 0xa9, 0xfd, 0x03, 0x00, 0x91];
pub const INIT_EPILOGUE: &[u8] = &[0xfd, 0x7b, 0xc1, 0xa8, 0xc0, 0x03, 0x5f, 0xd6];
/// Instructions are 4-byte words: fragments never leave a gap to fill.
pub const CODE_FILL: u8 = 0;

/// `atexit` and `at_quick_exit`: `bti c; adrp x2, __dso_handle; add x2, x2, :lo12:__dso_handle;
/// mov x1, #0; b <the C library's function>`.
const EXIT_HANDLER: &[u8] = code![0xd503_245f, 0x9000_0002, 0x9100_0042, 0xd280_0001, 0x1400_0000];

const fn exit_handler_relocs(target: &'static str) -> [(u32, u32, &'static str, i64); 3] {
    [
        (4, R_AARCH64_ADR_PREL_PG_HI21, "__dso_handle", 0),
        (8, R_AARCH64_ADD_ABS_LO12_NC, "__dso_handle", 0),
        (16, R_AARCH64_JUMP26, target, 0),
    ]
}

/// `atexit`, `at_quick_exit` and `pthread_atfork` pass the caller's DSO handle on to the C
/// library; `__relink_unit_fini` runs the unit's `__cxa_atexit` handlers when it is unloaded
/// (see the x86_64 file).
pub const RUNTIME_FNS: &[RuntimeFn] = &[
    RuntimeFn { name: "atexit", code: EXIT_HANDLER, relocs: &exit_handler_relocs("__cxa_atexit") },
    RuntimeFn { name: "at_quick_exit", code: EXIT_HANDLER, relocs: &exit_handler_relocs("__cxa_at_quick_exit") },
    RuntimeFn {
        name: "pthread_atfork",
        // bti c; adrp x3, __dso_handle; add x3, x3, :lo12:__dso_handle; b __register_atfork
        code: code![0xd503_245f, 0x9000_0003, 0x9100_0063, 0x1400_0000],
        relocs: &[
            (4, R_AARCH64_ADR_PREL_PG_HI21, "__dso_handle", 0),
            (8, R_AARCH64_ADD_ABS_LO12_NC, "__dso_handle", 0),
            (12, R_AARCH64_JUMP26, "__register_atfork", 0),
        ],
    },
    RuntimeFn {
        name: "__relink_unit_fini",
        // bti c; adrp x1, :got:__cxa_finalize; ldr x1, [x1, :got_lo12:__cxa_finalize];
        // cbz x1, 1f; adrp x0, __dso_handle; add x0, x0, :lo12:__dso_handle; br x1; 1: ret
        code: code![0xd503_245f, 0x9000_0001, 0xf940_0021, 0xb400_0081, 0x9000_0000, 0x9100_0000, 0xd61f_0020, 0xd65f_03c0],
        relocs: &[
            (4, R_AARCH64_ADR_GOT_PAGE, "__cxa_finalize", 0),
            (8, R_AARCH64_LD64_GOT_LO12_NC, "__cxa_finalize", 0),
            (16, R_AARCH64_ADR_PREL_PG_HI21, "__dso_handle", 0),
            (20, R_AARCH64_ADD_ABS_LO12_NC, "__dso_handle", 0),
        ],
    },
];

#[cfg(test)]
mod tests {
    //! Expected instruction words are assembled by hand from the A64 encodings ("Arm
    //! Architecture Reference Manual": ADRP, ADD (immediate), LDR (immediate, unsigned offset),
    //! BR, BRK, BL), not computed.
    use super::*;

    #[test]
    fn dynamic_types() {
        // AAELF64's numbers.
        assert_eq!(classify(1027), Kind::Relative);
        assert_eq!(classify(1025), Kind::Symbolic, "GLOB_DAT adds the addend");
        assert_eq!(classify(1026), Kind::PltSlot);
        assert_eq!(classify(1030), Kind::TpOff);
        assert_eq!(classify(1031), Kind::TlsDesc);
        assert_eq!(classify(283), Kind::Unknown, "CALL26 is an object-file type");
        assert_eq!(type_name(283), "R_AARCH64_CALL26");
        assert_eq!(type_name(9999), "an unknown relocation type");
    }

    #[test]
    fn stubs_and_veneers() {
        // From 0x2000 through the GOT entry at 0x3008: adrp x16, one page up (immlo = 1);
        // ldr x17, [x16, #8] (imm12 = 8 / 8); br x17; brk #0.
        let words = |b: &[u8]| b.chunks(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]])).collect::<std::vec::Vec<_>>();
        assert_eq!(words(&call_stub(0x2000, 0x3008)), [0xb000_0010, 0xf940_0611, 0xd61f_0220, 0xd420_0000]);
        // From 0x1000 to 0x5000_0123: 0x4ffff pages (immlo = 3, immhi = 0x13fff); add x16,
        // x16, #0x123; br x16.
        assert_eq!(words(&veneer(0x1000, 0x5000_0123)), [0xf027_fff0, 0x9104_8e10, 0xd61f_0200]);
        assert!(veneered_branch(R_AARCH64_CALL26) && veneered_branch(R_AARCH64_JUMP26));
        assert!(!veneered_branch(R_AARCH64_CONDBR19));
    }

    #[test]
    fn branch_fields() {
        let bl = |v: i64| {
            let mut b = 0x9400_0000u32.to_le_bytes();
            write_insn(InsnField::Words { bits: 26 }, &mut b, v, 0).then(|| u32::from_le_bytes(b))
        };
        // bl +0x100: imm26 = 0x40; bl −128 MiB: imm26 = 0x2000000 (its sign bit).
        assert_eq!(bl(0x100), Some(0x9400_0040));
        assert_eq!(bl(-(1 << 27)), Some(0x9600_0000));
        // Not a multiple of 4, or beyond ±128 MiB.
        assert_eq!(bl(2), None);
        assert_eq!(bl(1 << 27), None);
        assert_eq!(object_reloc(R_AARCH64_CALL26), (Calc::CallPc, Field::Insn(InsnField::Words { bits: 26 })));
        assert_eq!(Field::Insn(InsnField::Adr).size(), 4);
    }
}
