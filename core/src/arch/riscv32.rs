//! RISC-V, 32-bit (RV32, ILP32 ABIs): "RISC-V ELF Specification" (riscv-elf-psabi-doc),
//! chapter "Relocations".
//!
//! Relocations are RELA, in ELF32 records (`crate::elf32`), `EM_RISCV` (243). The table is
//! the psABI's, for both XLEN; only the address width differs from RV64's, whose arithmetic
//! this file applies (see the end of this note). Variables: S symbol, A addend, P place, B base, G offset of the
//! GOT entry, GOT its address, GP `__global_pointer$`, V the field's value, TLSMODULE and
//! TLSOFFSET of the symbol's TLS block; TLS_DTV_OFFSET is 0x800 (a DTPREL value is biased so
//! that a signed 12-bit immediate reaches 4 KiB of block).
//!
//! | #  | name | field | calculation |
//! |----|------|-------|-------------|
//! | 0  | NONE | | |
//! | 1  | 32 | word32 | S + A |
//! | 2  | 64 | word64 | S + A |
//! | 3  | RELATIVE | wordclass | B + A |
//! | 4  | COPY | | (executables only) |
//! | 5  | JUMP_SLOT | wordclass | S |
//! | 6, 7 | TLS_DTPMOD32, 64 | word32, word64 | TLSMODULE |
//! | 8, 9 | TLS_DTPREL32, 64 | word32, word64 | S + A − TLS_DTV_OFFSET |
//! | 10, 11 | TLS_TPREL32, 64 | word32, word64 | S + A + TLSOFFSET |
//! | 12 | TLSDESC | 2 × wordclass | TLSDESC(S + A) |
//! | 16 | BRANCH | B-type | S + A − P |
//! | 17 | JAL | J-type | S + A − P |
//! | 18, 19 | CALL, CALL_PLT | U+I-type (AUIPC, JALR) | S + A − P |
//! | 20 | GOT_HI20 | U-type | G + GOT + A − P |
//! | 21 | TLS_GOT_HI20 | U-type | the IE entry: G + GOT + A − P |
//! | 22 | TLS_GD_HI20 | U-type | the GD entry: G + GOT + A − P |
//! | 23 | PCREL_HI20 | U-type | S + A − P |
//! | 24, 25 | PCREL_LO12_I, _S | I-type, S-type | S − P of the paired HI20 |
//! | 26 | HI20 | U-type | S + A |
//! | 27, 28 | LO12_I, _S | I-type, S-type | S + A |
//! | 29 | TPREL_HI20 | U-type | S + A + TLSOFFSET |
//! | 30, 31 | TPREL_LO12_I, _S | I-type, S-type | S + A + TLSOFFSET |
//! | 32 | TPREL_ADD | | (marks the `add` with tp) |
//! | 33–36 | ADD8, 16, 32, 64 | word8–64 | V + S + A |
//! | 37–40 | SUB8, 16, 32, 64 | word8–64 | V − S − A |
//! | 41 | GOT32_PCREL | word32 | G + GOT + A − P |
//! | 43 | ALIGN | | (nop padding for relaxation) |
//! | 44 | RVC_BRANCH | CB-type | S + A − P |
//! | 45 | RVC_JUMP | CJ-type | S + A − P |
//! | 47, 48 | GPREL_LO12_I, _S | I-type, S-type | S + A − GP |
//! | 49 | GPREL_HI20 | U-type | S + A − GP |
//! | 51 | RELAX | | (the paired instruction may be relaxed) |
//! | 52 | SUB6 | word6 | V − S − A |
//! | 53–56 | SET6, 8, 16, 32 | word6–32 | S + A |
//! | 57 | 32_PCREL | word32 | S + A − P |
//! | 58 | IRELATIVE | wordclass | ifunc_resolver(B + A) |
//! | 59 | PLT32 | word32 | S + A − P |
//! | 60 | SET_ULEB128 | ULEB128 | S + A |
//! | 61 | SUB_ULEB128 | ULEB128 | V − S − A |
//! | 62 | TLSDESC_HI20 | U-type | the descriptor: G + GOT + A − P |
//! | 63, 64 | TLSDESC_LOAD_LO12, _ADD_LO12 | I-type | S − P of the paired HI20 |
//! | 65 | TLSDESC_CALL | | (marks the call) |
//!
//! Ranges: B-type ±4 KiB, J-type ±1 MiB, CB-type ±256 B, CJ-type ±2 KiB, all even. A
//! `%hi`/`%lo` pair (U-type rounded by 0x800, then a sign-extended 12-bit immediate) reaches
//! any 32-bit value, so on RV32 nothing else can overflow: the address space wraps. The
//! psABI's table numbers 41 as reserved in older revisions; GOT32_PCREL took it since.
//! Relaxation is not done: RELAX and ALIGN leave the code as the assembler wrote it, which
//! is correct without relaxing.
//!
//! The arithmetic is RV64's (`riscv64::object`: the same fields and calculations), with values
//! wrapped to 32 bits first. 46 (RVC_LUI in RV64 objects) is reserved here; GPREL_* are named
//! but not applied (relink does no GP-relative relaxation and knows no `__global_pointer$`).
//! No runtime runs RV32 objects here and the link stage reads ELF64 objects only: this file is
//! the tables (`OBJECT_LINKING` is false), unit-tested against the psABI.

use super::riscv64::object::{Bad, Site};
use super::{sext, Calc, Kind};

pub use super::defaults::*;
pub use super::unlinked::*;
pub use super::riscv64::InsnField;

/// `e_machine` of RISC-V objects.
pub const EM_RISCV: u16 = 243;
pub const ELF_MACHINE: u16 = EM_RISCV;
/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.33";
/// `e_flags` of the objects relink would make: `EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE`
/// (ilp32d).
pub const ELF_FLAGS: u32 = 0x0001 | 0x0004;
/// Why a file's `e_flags` keep the system loader from running it here: another floating-point
/// ABI than ilp32d's.
pub fn flags_mismatch(e_flags: u32) -> Option<&'static str> {
    (e_flags & 0x0006 != 0x0004).then_some("built for another floating-point ABI than ilp32d")
}

pub const NAME: &str = "riscv32";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_RISCV_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_RISCV_TLS_TPREL32;
/// REL tables are refused, as on RV64.
pub const ACCEPTS_REL: bool = false;


pub const R_RISCV_NONE: u32 = 0;
pub const R_RISCV_32: u32 = 1;
pub const R_RISCV_64: u32 = 2;
pub const R_RISCV_RELATIVE: u32 = 3;
pub const R_RISCV_COPY: u32 = 4;
pub const R_RISCV_JUMP_SLOT: u32 = 5;
pub const R_RISCV_TLS_DTPMOD32: u32 = 6;
pub const R_RISCV_TLS_DTPMOD64: u32 = 7;
pub const R_RISCV_TLS_DTPREL32: u32 = 8;
pub const R_RISCV_TLS_DTPREL64: u32 = 9;
pub const R_RISCV_TLS_TPREL32: u32 = 10;
pub const R_RISCV_TLS_TPREL64: u32 = 11;
pub const R_RISCV_TLSDESC: u32 = 12;
pub const R_RISCV_BRANCH: u32 = 16;
pub const R_RISCV_JAL: u32 = 17;
pub const R_RISCV_CALL: u32 = 18;
pub const R_RISCV_CALL_PLT: u32 = 19;
pub const R_RISCV_GOT_HI20: u32 = 20;
pub const R_RISCV_TLS_GOT_HI20: u32 = 21;
pub const R_RISCV_TLS_GD_HI20: u32 = 22;
pub const R_RISCV_PCREL_HI20: u32 = 23;
pub const R_RISCV_PCREL_LO12_I: u32 = 24;
pub const R_RISCV_PCREL_LO12_S: u32 = 25;
pub const R_RISCV_HI20: u32 = 26;
pub const R_RISCV_LO12_I: u32 = 27;
pub const R_RISCV_LO12_S: u32 = 28;
pub const R_RISCV_TPREL_HI20: u32 = 29;
pub const R_RISCV_TPREL_LO12_I: u32 = 30;
pub const R_RISCV_TPREL_LO12_S: u32 = 31;
pub const R_RISCV_TPREL_ADD: u32 = 32;
pub const R_RISCV_ADD8: u32 = 33;
pub const R_RISCV_ADD16: u32 = 34;
pub const R_RISCV_ADD32: u32 = 35;
pub const R_RISCV_ADD64: u32 = 36;
pub const R_RISCV_SUB8: u32 = 37;
pub const R_RISCV_SUB16: u32 = 38;
pub const R_RISCV_SUB32: u32 = 39;
pub const R_RISCV_SUB64: u32 = 40;
pub const R_RISCV_GOT32_PCREL: u32 = 41;
pub const R_RISCV_ALIGN: u32 = 43;
pub const R_RISCV_RVC_BRANCH: u32 = 44;
pub const R_RISCV_RVC_JUMP: u32 = 45;
pub const R_RISCV_GPREL_LO12_I: u32 = 47;
pub const R_RISCV_GPREL_LO12_S: u32 = 48;
pub const R_RISCV_GPREL_HI20: u32 = 49;
pub const R_RISCV_RELAX: u32 = 51;
pub const R_RISCV_SUB6: u32 = 52;
pub const R_RISCV_SET6: u32 = 53;
pub const R_RISCV_SET8: u32 = 54;
pub const R_RISCV_SET16: u32 = 55;
pub const R_RISCV_SET32: u32 = 56;
pub const R_RISCV_32_PCREL: u32 = 57;
pub const R_RISCV_IRELATIVE: u32 = 58;
pub const R_RISCV_PLT32: u32 = 59;
pub const R_RISCV_SET_ULEB128: u32 = 60;
pub const R_RISCV_SUB_ULEB128: u32 = 61;
pub const R_RISCV_TLSDESC_HI20: u32 = 62;
pub const R_RISCV_TLSDESC_LOAD_LO12: u32 = 63;
pub const R_RISCV_TLSDESC_ADD_LO12: u32 = 64;
pub const R_RISCV_TLSDESC_CALL: u32 = 65;


/// Map a raw relocation type onto its generic kind (the 32-bit words of the table).
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_RISCV_NONE => Kind::None,
        R_RISCV_32 => Kind::Symbolic,
        R_RISCV_RELATIVE => Kind::Relative,
        R_RISCV_COPY => Kind::Copy,
        R_RISCV_JUMP_SLOT => Kind::PltSlot,
        R_RISCV_TLS_DTPMOD32 => Kind::DtpMod,
        R_RISCV_TLS_DTPREL32 => Kind::DtpOff,
        R_RISCV_TLS_TPREL32 => Kind::TpOff,
        R_RISCV_TLSDESC => Kind::TlsDesc,
        R_RISCV_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// The psABI name of a relocation type, for messages (RV64's names, without RVC_LUI).
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        super::riscv64::object::R_RISCV_RVC_LUI => super::riscv64::type_name(u32::MAX),
        _ => super::riscv64::type_name(r_type),
    }
}

/// TLS variant I, as on RV64: the first static block starts at the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::I;
pub const TCB_SIZE: usize = 0;
/// TLS_DTV_OFFSET: `tls_index` offsets and DTPREL values are biased by this.
pub const DTV_OFFSET: u64 = 0x800;

/// GOT words reserved for lazy binding, as on RV64.
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 0;

// -------------------------------------------------------------------------------------------
// Relocatable objects: RV64's fields and calculations (see riscv64.rs), not linked here.

/// Relocatable objects are refused on this machine (the link stage reads ELF64 objects).
pub const OBJECT_LINKING: bool = false;

/// The field of an object relocation on this machine.
pub type Field = super::Field<InsnField>;

/// The calculation and field of an object relocation type: RV64's, with whole 32-bit words
/// written as instruction fields are, wrapping at 2^32.
pub fn object_reloc(r_type: u32) -> (Calc, Field) {
    if r_type == super::riscv64::object::R_RISCV_RVC_LUI {
        return (Calc::Unknown, Field::None);
    }
    match super::riscv64::object_reloc(r_type) {
        (calc, Field::U32 | Field::S32) => (calc, Field::Insn(InsnField::whole(Site::Word32))),
        other => other,
    }
}

/// Write `v` into the `Field::Insn` field at the start of `place`; false if it does not fit.
pub fn write_insn(field: InsnField, place: &mut [u8], v: i64, _at: u64) -> bool {
    put_insn(field, place, v).is_ok()
}

/// [`write_insn`], saying why a value does not fit. The address space wraps at 2^32: the value
/// is read as a 32-bit one (a pair's high part after its rounding, so that `%hi` and `%lo`
/// still add up to it), except in a 64-bit data word.
pub fn put_insn(field: InsnField, place: &mut [u8], v: i64) -> Result<(), Bad> {
    let v = match field.site() {
        Site::Word64 => v,
        Site::U | Site::AuipcJalr => sext((v as u64).wrapping_add(0x800), 32) - 0x800,
        _ => sext(v as u64, 32),
    };
    super::riscv64::put_insn(field, place, v)
}

/// Whether PCREL_LO12 relocations take their value from a relocation of this type at their
/// symbol.
pub fn is_pair_hi(r_type: u32) -> bool {
    super::riscv64::is_pair_hi(r_type)
}

/// Dynamic relocation types the linker would emit, the words being 32-bit (unused: objects
/// are refused).
pub mod dynrel {
    use super::*;
    pub const ABS64: u32 = R_RISCV_64;
    pub const PC32: u32 = R_RISCV_32_PCREL;
    pub const ABS32: u32 = R_RISCV_32;
    pub const ABS32S: u32 = R_RISCV_32;
    pub const GLOB_DAT: u32 = R_RISCV_32;
    pub const IRELATIVE: u32 = R_RISCV_IRELATIVE;
    pub const DTPMOD64: u32 = R_RISCV_TLS_DTPMOD32;
    pub const DTPOFF64: u32 = R_RISCV_TLS_DTPREL32;
    pub const TPOFF64: u32 = R_RISCV_TLS_TPREL32;
    pub const TLSDESC: u32 = R_RISCV_TLSDESC;
}

#[cfg(test)]
mod tests {
    //! Expected values are encoded by hand from the ISA manual's instruction formats and the
    //! psABI's calculations (each worked out in the comment above it), not taken from the
    //! code. Registers: x0 zero, x1 ra, x5 t0, x6 t1, x10 a0, x11 a1.
    use super::*;
    use crate::arch::testing::{self, Error, Inputs, Machine};

    const RV32: Machine<InsnField> = Machine { classify, object_reloc, write, word: 4, dtv_offset: DTV_OFFSET };

    fn write(field: InsnField, place: &mut [u8], v: i64, _at: u64) -> Result<(), Bad> {
        put_insn(field, place, v)
    }

    /// Relocate one instruction word.
    fn insn(r_type: u32, word: u32, x: Inputs) -> u32 {
        testing::relocated(&RV32, r_type, word, x)
    }

    fn run(r_type: u32, place: &mut [u8], x: Inputs) -> Result<(), Error> {
        testing::apply(&RV32, r_type, place, &x)
    }

    /// Whether the table has an entry for the type.
    fn has_entry(r_type: u32) -> bool {
        type_name(r_type) != type_name(u32::MAX)
    }

    #[test]
    fn data_words() {
        // R_RISCV_32: S + A = 0x1000 + 0x10.
        let mut p = [0u8; 4];
        run(R_RISCV_32, &mut p, Inputs { s: 0x1000, a: 0x10, ..Default::default() }).unwrap();
        assert_eq!(p, 0x1010u32.to_le_bytes());
        // R_RISCV_RELATIVE: B + A = 0x4000_0000 + 0x234, one 32-bit word.
        let mut p = [0xffu8; 8];
        run(R_RISCV_RELATIVE, &mut p, Inputs { b: 0x4000_0000, a: 0x234, ..Default::default() }).unwrap();
        assert_eq!(p, [0x34, 0x02, 0x00, 0x40, 0xff, 0xff, 0xff, 0xff]);
        // R_RISCV_JUMP_SLOT: S, the addend ignored.
        let mut p = [0u8; 4];
        run(R_RISCV_JUMP_SLOT, &mut p, Inputs { s: 0x1234_5678, a: 4, ..Default::default() }).unwrap();
        assert_eq!(p, [0x78, 0x56, 0x34, 0x12]);
        // On RV32 a negative addend wraps: 0x10 − 0x20 = 0xffff_fff0.
        run(R_RISCV_32, &mut p, Inputs { s: 0x10, a: -0x20, ..Default::default() }).unwrap();
        assert_eq!(p, [0xf0, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn tls_words() {
        // DTPMOD32: the module id, 3.
        let mut p = [0u8; 4];
        run(R_RISCV_TLS_DTPMOD32, &mut p, Inputs { module: 3, ..Default::default() }).unwrap();
        assert_eq!(p, [3, 0, 0, 0]);
        // DTPREL32: S + A − 0x800 = 0x10 + 4 − 0x800 = −0x7ec = 0xffff_f814.
        run(R_RISCV_TLS_DTPREL32, &mut p, Inputs { s: 0x10, a: 4, ..Default::default() }).unwrap();
        assert_eq!(p, [0x14, 0xf8, 0xff, 0xff]);
        // TPREL32: S + A + TLSOFFSET = 0x10 + 0 + 0x40 (variant I: blocks above tp).
        run(R_RISCV_TLS_TPREL32, &mut p, Inputs { s: 0x10, tls_offset: 0x40, ..Default::default() }).unwrap();
        assert_eq!(p, [0x50, 0, 0, 0]);
        assert_eq!(run(R_RISCV_TLSDESC, &mut p, Inputs::default()), Err(Error::Runtime));
        assert_eq!(run(R_RISCV_COPY, &mut p, Inputs::default()), Err(Error::Runtime));
        assert_eq!(run(R_RISCV_IRELATIVE, &mut p, Inputs::default()), Err(Error::Runtime));
    }

    #[test]
    fn branch_b_type() {
        // beq a0, a1, . (BRANCH opcode 0x63, funct3 0, rs1 10, rs2 11): 0x00b50063.
        // Offset S + A − P = 0x1800 − 0x1000 = 0x800 = 2048: imm[12] = 0, imm[11] = 1,
        // imm[10:5] = 0, imm[4:1] = 0, so only insn[7] is set: 0x00b500e3.
        assert_eq!(insn(R_RISCV_BRANCH, 0x00b5_0063, Inputs { s: 0x1800, p: 0x1000, ..Default::default() }), 0x00b5_00e3);
        // Offset −2 = 0b1_1111_1111_1110: imm[12] = 1 (insn[31]), imm[10:5] = 0x3f
        // (insn[30:25]), imm[4:1] = 0xf (insn[11:8]), imm[11] = 1 (insn[7]):
        // 0x00b50063 | 0x8000_0000 | 0x7e00_0000 | 0xf00 | 0x80 = 0xfeb50fe3.
        assert_eq!(insn(R_RISCV_BRANCH, 0x00b5_0063, Inputs { s: 0xffe, p: 0x1000, ..Default::default() }), 0xfeb5_0fe3);
        // ±4 KiB, even.
        let mut p = 0x00b5_0063u32.to_le_bytes();
        assert!(matches!(run(R_RISCV_BRANCH, &mut p, Inputs { s: 0x2000, p: 0x1000, ..Default::default() }), Err(Error::Overflow { .. })));
        assert!(matches!(run(R_RISCV_BRANCH, &mut p, Inputs { s: 0x1001, p: 0x1000, ..Default::default() }), Err(Error::Misaligned { .. })));
    }

    #[test]
    fn jal_j_type() {
        // jal ra, . is 0x000000ef (opcode 0x6f, rd 1). Offset 0x12344 (S 0x13344, P 0x1000):
        // imm[20] = 0, imm[10:1] = 0x344 >> 1 = 0x1a2 → insn[30:21] = 0x1a2 << 21 = 0x3440_0000,
        // imm[11] = 0, imm[19:12] = 0x12 → insn[19:12] = 0x12000: 0x344120ef.
        assert_eq!(insn(R_RISCV_JAL, 0x0000_00ef, Inputs { s: 0x13344, p: 0x1000, ..Default::default() }), 0x3441_20ef);
        // −1 MiB (0xfff0_0000 as 21 bits: imm[20] = 1, the rest 0): 0x800000ef.
        assert_eq!(insn(R_RISCV_JAL, 0x0000_00ef, Inputs { s: 0x1000, p: 0x10_1000, ..Default::default() }), 0x8000_00ef);
        // Offset 0x800: imm[11] → insn[20]: 0x001000ef.
        assert_eq!(insn(R_RISCV_JAL, 0x0000_00ef, Inputs { s: 0x1800, p: 0x1000, ..Default::default() }), 0x0010_00ef);
        // +1 MiB is one too far.
        let mut p = 0x0000_00efu32.to_le_bytes();
        assert!(matches!(run(R_RISCV_JAL, &mut p, Inputs { s: 0x10_1000, p: 0x1000, ..Default::default() }), Err(Error::Overflow { .. })));
    }

    #[test]
    fn call_pair() {
        // auipc ra, 0 (0x00000097) ; jalr ra, 0(ra) (0x000080e7).
        // S + A − P = 0x1234_5ffc − 0x1000_0000 = 0x0234_5ffc.
        // %hi = (0x0234_5ffc + 0x800) >> 12 = 0x02346; %lo = 0xffc (−4).
        // auipc: 0x02346 << 12 | 0x97 = 0x02346097; jalr: 0xffc << 20 | 0x80e7 = 0xffc080e7.
        // Check: P + 0x0234_6000 − 4 = 0x1234_5ffc.
        // R_RISCV_CALL (deprecated) and R_RISCV_CALL_PLT compute alike.
        for r_type in [R_RISCV_CALL_PLT, R_RISCV_CALL] {
            let mut p = [0x97, 0, 0, 0, 0xe7, 0x80, 0, 0];
            run(r_type, &mut p, Inputs { s: 0x1234_5ffc, p: 0x1000_0000, ..Default::default() }).unwrap();
            assert_eq!(p[..4], 0x0234_6097u32.to_le_bytes());
            assert_eq!(p[4..], 0xffc0_80e7u32.to_le_bytes());
        }
    }

    #[test]
    fn call_pair_reaches_everything() {
        // AUIPC adds imm20 << 12 to its own address, JALR a sign-extended 12-bit immediate; on
        // RV32 both wrap at 2^32. Targets and places from a linear congruential generator,
        // with bit 11 (the rounding) set in half of them.
        let mut seed = 0x9e37_79b9u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            seed
        };
        for i in 0..20_000u32 {
            let target = (next() & !0x800 & !1) | (i & 1) << 11;
            let pc = next() & !1;
            let mut p = [0x97, 0, 0, 0, 0xe7, 0x80, 0, 0];
            run(R_RISCV_CALL_PLT, &mut p, Inputs { s: target.into(), p: pc.into(), ..Default::default() }).unwrap();
            let auipc = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
            let jalr = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
            let reached = pc.wrapping_add(auipc & 0xffff_f000).wrapping_add(((jalr as i32) >> 20) as u32);
            assert_eq!(reached, target, "{target:#x} from {pc:#x}");
        }
    }

    #[test]
    fn absolute_hi_lo() {
        // lui a0, 0 (0x00000537); addi a0, a0, 0 (0x00050513); sw a1, 0(a0) (0x00b52023).
        // S + A = 0x8765_4abc: %hi = (0x8765_4abc + 0x800) >> 12 = 0x87655, %lo = 0xabc
        // (sign-extended: −0x544; 0x8765_5000 − 0x544 = 0x8765_4abc).
        let x = Inputs { s: 0x8765_4abc, ..Default::default() };
        assert_eq!(insn(R_RISCV_HI20, 0x0000_0537, x), 0x8765_5537);
        // I-type: 0xabc << 20 | 0x50513 = 0xabc50513.
        assert_eq!(insn(R_RISCV_LO12_I, 0x0005_0513, x), 0xabc5_0513);
        // S-type: imm[11:5] = 0xabc >> 5 = 0x55 → insn[31:25] = 0xaa00_0000; imm[4:0] = 0x1c
        // → insn[11:7] = 0xe00: 0x00b52023 | 0xaa000000 | 0xe00 = 0xaab52e23.
        assert_eq!(insn(R_RISCV_LO12_S, 0x00b5_2023, x), 0xaab5_2e23);
    }

    #[test]
    fn pcrel_pair() {
        // auipc t0, 0 (0x00000297) at P 0x2000 referring to S + A = 0x1800:
        // S + A − P = −0x800 → %hi = (−0x800 + 0x800) >> 12 = 0, %lo = 0x800 (−2048).
        assert_eq!(insn(R_RISCV_PCREL_HI20, 0x0000_0297, Inputs { s: 0x1800, p: 0x2000, ..Default::default() }), 0x0000_0297);
        // lw t1, 0(t0) (0x0002a303) with %pcrel_lo: the caller passes the HI20's value
        // (−0x800) as S. I-type: 0x800 << 20 = 0x8000_0000 → 0x8002a303.
        assert_eq!(insn(R_RISCV_PCREL_LO12_I, 0x0002_a303, Inputs { s: (-0x800i64) as u64, ..Default::default() }), 0x8002_a303);
        // GOT_HI20: G + GOT + A − P = 0x10 + 0x3000 − 0x2000 = 0x1010 → %hi 1: 0x00001297.
        assert_eq!(insn(R_RISCV_GOT_HI20, 0x0000_0297, Inputs { got: 0x3000, g: 0x10, p: 0x2000, ..Default::default() }), 0x0000_1297);
    }

    #[test]
    fn tls_local_exec() {
        // lui a0, %tprel_hi(v); add a0, a0, tp, %tprel_add(v); addi a0, a0, %tprel_lo(v).
        // T = S + A + TLSOFFSET = 0x1234 + 0 + 0x10 = 0x1244: %hi 1, %lo 0x244.
        let x = Inputs { s: 0x1234, tls_offset: 0x10, ..Default::default() };
        assert_eq!(insn(R_RISCV_TPREL_HI20, 0x0000_0537, x), 0x0000_1537);
        assert_eq!(insn(R_RISCV_TPREL_LO12_I, 0x0005_0513, x), 0x2445_0513);
        // TPREL_ADD writes nothing.
        assert_eq!(insn(R_RISCV_TPREL_ADD, 0x0045_0533, x), 0x0045_0533);
    }

    #[test]
    fn compressed() {
        // c.beqz a0, . : funct3 110, imm, rs1' 010 (a0 = x8 + 2), imm, op 01
        // → 0b110_0_00_010_00000_01 = 0xc101. Offset +0x82 = 0b0_1000_0010: imm[7:6] = 0b10
        // → insn[6:5] = 0b10 (0x40); imm[2:1] = 0b01 → insn[4:3] = 0b01 (0x8); the other
        // bits are 0: 0xc101 | 0x40 | 0x8 = 0xc149.
        let mut p = 0xc101u16.to_le_bytes();
        run(R_RISCV_RVC_BRANCH, &mut p, Inputs { s: 0x1082, p: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, 0xc149u16.to_le_bytes());
        // Offset −0x100 (the lowest) = 0b1_0000_0000 as 9 bits: imm[8] → insn[12]: 0xd101.
        let mut p = 0xc101u16.to_le_bytes();
        run(R_RISCV_RVC_BRANCH, &mut p, Inputs { s: 0xf00, p: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, 0xd101u16.to_le_bytes());
        // Offset +0x20 = imm[5] → insn[2]: 0xc105.
        let mut p = 0xc101u16.to_le_bytes();
        run(R_RISCV_RVC_BRANCH, &mut p, Inputs { s: 0x1020, p: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, 0xc105u16.to_le_bytes());
        // c.j . : funct3 101, op 01 → 0xa001. Offset −2 (all of imm[11:1] set): every
        // immediate bit insn[12:2] is set → 0xa001 | 0x1ffc = 0xbffd.
        let mut p = 0xa001u16.to_le_bytes();
        run(R_RISCV_RVC_JUMP, &mut p, Inputs { s: 0xffe, p: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, 0xbffdu16.to_le_bytes());
        // c.j offset +0x20 = imm[5] → insn[2]: 0xa005.
        let mut p = 0xa001u16.to_le_bytes();
        run(R_RISCV_RVC_JUMP, &mut p, Inputs { s: 0x1020, p: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, 0xa005u16.to_le_bytes());
        // c.j offset +0x400 = imm[10] → insn[8]: 0xa101.
        let mut p = 0xa001u16.to_le_bytes();
        run(R_RISCV_RVC_JUMP, &mut p, Inputs { s: 0x1400, p: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, 0xa101u16.to_le_bytes());
        // One bit of the offset at a time, each to the instruction bit the CJ format gives it:
        // imm[3:1] → insn[5:3], imm[4] → insn[11], imm[6] → insn[7], imm[7] → insn[6],
        // imm[9:8] → insn[10:9], imm[11] (−0x800, the lowest) → insn[12].
        for (offset, expected) in [(0xei64, 0xa039u16), (0x10, 0xa801), (0x40, 0xa081), (0x80, 0xa041), (0x300, 0xa601), (-0x800, 0xb001)] {
            let mut p = 0xa001u16.to_le_bytes();
            run(R_RISCV_RVC_JUMP, &mut p, Inputs { s: (0x1000 + offset) as u64, p: 0x1000, ..Default::default() }).unwrap();
            assert_eq!(p, expected.to_le_bytes(), "offset {offset:#x}");
        }
        // Ranges: CB ±256 bytes, CJ ±2 KiB.
        assert!(run(R_RISCV_RVC_BRANCH, &mut [1, 0xc1], Inputs { s: 0x1100, p: 0x1000, ..Default::default() }).is_err());
        assert!(run(R_RISCV_RVC_JUMP, &mut [1, 0xa0], Inputs { s: 0x1800, p: 0x1000, ..Default::default() }).is_err());
    }

    #[test]
    fn label_arithmetic() {
        // ADD32 then SUB32 at one place: V + S1 − S2 (a label difference), 0 + 0x1080 − 0x1000.
        let mut p = [0u8; 4];
        run(R_RISCV_ADD32, &mut p, Inputs { s: 0x1080, ..Default::default() }).unwrap();
        run(R_RISCV_SUB32, &mut p, Inputs { s: 0x1000, ..Default::default() }).unwrap();
        assert_eq!(p, [0x80, 0, 0, 0]);
        // SET6 then SUB6 keep the byte's top two bits (0b11): 0x25 − 0x05 = 0x20 → 0xe0.
        let mut b = [0xc0u8];
        run(R_RISCV_SET6, &mut b, Inputs { s: 0x25, ..Default::default() }).unwrap();
        run(R_RISCV_SUB6, &mut b, Inputs { s: 0x05, ..Default::default() }).unwrap();
        assert_eq!(b, [0xe0]);
        // SET_ULEB128 / SUB_ULEB128 on a two-byte ULEB128: 0x1234 − 0x1034 = 0x200
        // = 0b100_0000000 → 0x80, 0x04.
        let mut u = [0x80, 0x00];
        run(R_RISCV_SET_ULEB128, &mut u, Inputs { s: 0x1234, ..Default::default() }).unwrap();
        run(R_RISCV_SUB_ULEB128, &mut u, Inputs { s: 0x1034, ..Default::default() }).unwrap();
        assert_eq!(u, [0x80, 0x04]);
        // 32_PCREL: S + A − P = 0x1000 − 0x1010 = −0x10.
        run(R_RISCV_32_PCREL, &mut p, Inputs { s: 0x1000, p: 0x1010, ..Default::default() }).unwrap();
        assert_eq!(p, (-0x10i32).to_le_bytes());
    }

    #[test]
    fn table_is_complete() {
        // Every number the psABI defines has an entry, and no reserved number does.
        let defined = [0..=12, 16..=41, 43..=45, 47..=49, 51..=65];
        for t in 0..=255u32 {
            let expected = defined.iter().any(|r| r.contains(&t));
            assert_eq!(has_entry(t), expected, "type {t}");
        }
        for t in [R_RISCV_RELAX, R_RISCV_ALIGN, R_RISCV_TLSDESC_CALL, R_RISCV_NONE] {
            run(t, &mut [], Inputs::default()).unwrap();
        }
        assert_eq!(type_name(R_RISCV_CALL_PLT), "R_RISCV_CALL_PLT");
        assert_eq!(run(42, &mut [0; 4], Inputs::default()), Err(Error::Unsupported));
    }
}
