//! RISC-V 64 (RV64GC, lp64d: "RISC-V ELF psABI", chapter "ELF Object Files", and the Linux
//! calling convention).
//!
//! Relocations in shared objects are RELA. The psABI's table, with S the symbol value, A the
//! addend, B the base (load bias), P the place and TP the thread-pointer offset of the
//! symbol's static TLS block:
//!
//! | type              | field    | calculation                          |
//! |-------------------|----------|--------------------------------------|
//! | 2  64             | word64   | S + A (also what GOT entries use)    |
//! | 3  RELATIVE       | word64   | B + A                                |
//! | 4  COPY           | -        | copy st_size bytes (executables)     |
//! | 5  JUMP_SLOT      | word64   | S                                    |
//! | 7  TLS_DTPMOD64   | word64   | module id                            |
//! | 9  TLS_DTPREL64   | word64   | S + A - 0x800 (offset in the block)  |
//! | 11 TLS_TPREL64    | word64   | S + A + TP                           |
//! | 12 TLSDESC        | 2×word64 | descriptor                           |
//! | 58 IRELATIVE      | word64   | indirect (B + A)                     |
//!
//! There is no GLOB_DAT: GOT entries are filled with R_RISCV_64, and 32-bit types are not used
//! in RV64 shared objects (glibc refuses them too).
//!
//! TLS is variant I: `tp` points just past the thread control block, and the first static
//! block starts at `tp` itself (glibc's TCB sits below the thread pointer, so the offset of
//! the first block is 0). `tls_index` offsets and DTPREL values are biased by -0x800 (the DTV
//! offset) so that a 12-bit signed immediate reaches more of a block; `__tls_get_addr` adds
//! it back.
//!
//! The table of the object-file types (relink's in-process linker, `object_reloc`) is further
//! down, with the code the linker writes (call stubs, `.init` frames, runtime functions).

use self::object::*;
use super::{Calc, Kind, RuntimeFn};

pub use super::defaults::*;

pub const ELF_MACHINE: u16 = EM_RISCV;
/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.27";
/// `e_flags` of the objects relink makes: `EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE`, the lp64d
/// ABI the system loader accepts (it refuses other float ABIs as if the file did not exist).
pub const ELF_FLAGS: u32 = 0x0001 | 0x0004;
/// Why a file's `e_flags` keep the system loader from running it here: another floating-point
/// ABI than lp64d's, or RV64E (glibc's loader skips such files).
pub fn flags_mismatch(e_flags: u32) -> Option<&'static str> {
    const EF_RISCV_FLOAT_ABI: u32 = 0x0006;
    const EF_RISCV_RVE: u32 = 0x0008;
    match e_flags & EF_RISCV_FLOAT_ABI {
        0x0000 => Some("built for the soft-float ABI (lp64), not lp64d"),
        0x0002 => Some("built for the single-float ABI (lp64f), not lp64d"),
        0x0006 => Some("built for the quad-float ABI (lp64q), not lp64d"),
        _ if e_flags & EF_RISCV_RVE != 0 => Some("built for RV64E, not RV64G"),
        _ => None,
    }
}

pub const NAME: &str = "riscv64";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_RISCV_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_RISCV_TLS_TPREL64;
/// REL tables are refused: glibc has no REL relocations on this machine.
pub const ACCEPTS_REL: bool = false;

/// Map a raw relocation type onto its generic kind.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_RISCV_NONE => Kind::None,
        R_RISCV_64 => Kind::Symbolic,
        R_RISCV_RELATIVE => Kind::Relative,
        R_RISCV_COPY => Kind::Copy,
        R_RISCV_JUMP_SLOT => Kind::PltSlot,
        R_RISCV_TLS_DTPMOD64 => Kind::DtpMod,
        R_RISCV_TLS_DTPREL64 => Kind::DtpOff,
        R_RISCV_TLS_TPREL64 => Kind::TpOff,
        R_RISCV_TLSDESC => Kind::TlsDesc,
        R_RISCV_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        R_RISCV_NONE => "R_RISCV_NONE",
        R_RISCV_32 => "R_RISCV_32",
        R_RISCV_64 => "R_RISCV_64",
        R_RISCV_RELATIVE => "R_RISCV_RELATIVE",
        R_RISCV_COPY => "R_RISCV_COPY",
        R_RISCV_JUMP_SLOT => "R_RISCV_JUMP_SLOT",
        R_RISCV_TLS_DTPMOD32 => "R_RISCV_TLS_DTPMOD32",
        R_RISCV_TLS_DTPMOD64 => "R_RISCV_TLS_DTPMOD64",
        R_RISCV_TLS_DTPREL32 => "R_RISCV_TLS_DTPREL32",
        R_RISCV_TLS_DTPREL64 => "R_RISCV_TLS_DTPREL64",
        R_RISCV_TLS_TPREL32 => "R_RISCV_TLS_TPREL32",
        R_RISCV_TLS_TPREL64 => "R_RISCV_TLS_TPREL64",
        R_RISCV_TLSDESC => "R_RISCV_TLSDESC",
        R_RISCV_BRANCH => "R_RISCV_BRANCH",
        R_RISCV_JAL => "R_RISCV_JAL",
        R_RISCV_CALL => "R_RISCV_CALL",
        R_RISCV_CALL_PLT => "R_RISCV_CALL_PLT",
        R_RISCV_GOT_HI20 => "R_RISCV_GOT_HI20",
        R_RISCV_TLS_GOT_HI20 => "R_RISCV_TLS_GOT_HI20",
        R_RISCV_TLS_GD_HI20 => "R_RISCV_TLS_GD_HI20",
        R_RISCV_PCREL_HI20 => "R_RISCV_PCREL_HI20",
        R_RISCV_PCREL_LO12_I => "R_RISCV_PCREL_LO12_I",
        R_RISCV_PCREL_LO12_S => "R_RISCV_PCREL_LO12_S",
        R_RISCV_HI20 => "R_RISCV_HI20",
        R_RISCV_LO12_I => "R_RISCV_LO12_I",
        R_RISCV_LO12_S => "R_RISCV_LO12_S",
        R_RISCV_TPREL_HI20 => "R_RISCV_TPREL_HI20",
        R_RISCV_TPREL_LO12_I => "R_RISCV_TPREL_LO12_I",
        R_RISCV_TPREL_LO12_S => "R_RISCV_TPREL_LO12_S",
        R_RISCV_TPREL_ADD => "R_RISCV_TPREL_ADD",
        R_RISCV_ADD8 => "R_RISCV_ADD8",
        R_RISCV_ADD16 => "R_RISCV_ADD16",
        R_RISCV_ADD32 => "R_RISCV_ADD32",
        R_RISCV_ADD64 => "R_RISCV_ADD64",
        R_RISCV_SUB8 => "R_RISCV_SUB8",
        R_RISCV_SUB16 => "R_RISCV_SUB16",
        R_RISCV_SUB32 => "R_RISCV_SUB32",
        R_RISCV_SUB64 => "R_RISCV_SUB64",
        R_RISCV_GOT32_PCREL => "R_RISCV_GOT32_PCREL",
        R_RISCV_ALIGN => "R_RISCV_ALIGN",
        R_RISCV_RVC_BRANCH => "R_RISCV_RVC_BRANCH",
        R_RISCV_RVC_JUMP => "R_RISCV_RVC_JUMP",
        R_RISCV_RVC_LUI => "R_RISCV_RVC_LUI",
        super::riscv32::R_RISCV_GPREL_LO12_I => "R_RISCV_GPREL_LO12_I",
        super::riscv32::R_RISCV_GPREL_LO12_S => "R_RISCV_GPREL_LO12_S",
        super::riscv32::R_RISCV_GPREL_HI20 => "R_RISCV_GPREL_HI20",
        R_RISCV_RELAX => "R_RISCV_RELAX",
        R_RISCV_SUB6 => "R_RISCV_SUB6",
        R_RISCV_SET6 => "R_RISCV_SET6",
        R_RISCV_SET8 => "R_RISCV_SET8",
        R_RISCV_SET16 => "R_RISCV_SET16",
        R_RISCV_SET32 => "R_RISCV_SET32",
        R_RISCV_32_PCREL => "R_RISCV_32_PCREL",
        R_RISCV_IRELATIVE => "R_RISCV_IRELATIVE",
        R_RISCV_PLT32 => "R_RISCV_PLT32",
        R_RISCV_SET_ULEB128 => "R_RISCV_SET_ULEB128",
        R_RISCV_SUB_ULEB128 => "R_RISCV_SUB_ULEB128",
        R_RISCV_TLSDESC_HI20 => "R_RISCV_TLSDESC_HI20",
        R_RISCV_TLSDESC_LOAD_LO12 => "R_RISCV_TLSDESC_LOAD_LO12",
        R_RISCV_TLSDESC_ADD_LO12 => "R_RISCV_TLSDESC_ADD_LO12",
        R_RISCV_TLSDESC_CALL => "R_RISCV_TLSDESC_CALL",
        _ => "an unknown relocation type",
    }
}

/// TLS variant I: the static blocks follow the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::I;
/// The first static block starts at the thread pointer (glibc keeps its TCB below it).
pub const TCB_SIZE: usize = 0;
/// `tls_index` offsets and `DTPREL` values are biased by this (glibc's `TLS_DTV_OFFSET`).
pub const DTV_OFFSET: u64 = 0x800;

/// GOT words reserved for lazy binding: PLT0 loads `.got.plt[1]` (relink's context for the
/// object) into t0 and jumps to `.got.plt[0]` (the trampoline).
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 0;

// -------------------------------------------------------------------------------------------
// Relocatable objects (the in-process linker in `src/link/`).
//
// The arithmetic of the psABI's object relocations is in `object`; below, how the generic
// linker sees each type. Instruction immediates, the 8/16-bit and 6-bit words, ULEB128 numbers
// and the ADD/SUB types (which update the word in place) are `Field::Insn` fields: the number
// holds the site, whether only the low part of a HI20/LO12 pair goes in, and whether the value
// is added to or subtracted from what the place holds. PCREL_LO12 and TLSDESC_*_LO12 are
// `Calc::PairedLo`: the linker gives them the value of the HI20 relocation at their symbol.
// No relaxation: RELAX is ignored and ALIGN's padding stays as assembled.

/// The arithmetic of RV64 object relocations.
pub mod object;

/// Relocatable objects are linked on this machine.
pub const OBJECT_LINKING: bool = true;

/// The sites `Field::Insn` numbers (bits 0–3 of the number).
const SITES: [Site; 16] = [
    Site::None,
    Site::Word8,
    Site::Word16,
    Site::Word32,
    Site::Word64,
    Site::Low6,
    Site::Uleb128,
    Site::U,
    Site::I,
    Site::S,
    Site::B,
    Site::J,
    Site::AuipcJalr,
    Site::Cb,
    Site::Cj,
    Site::CLui,
];
/// Bits of a `Field::Insn` number above the site.
const LO: u8 = 0x10;
const ADD: u8 = 0x20;
const SUB: u8 = 0x40;

fn insn_field(site: Site, flags: u8) -> Field {
    Field::Insn(InsnField(InsnField::whole(site).0 | flags))
}

/// The calculation and field of an object relocation type.
pub fn object_reloc(r_type: u32) -> (Calc, Field) {
    let Some((value, site)) = object::reloc(r_type) else { return (Calc::Unknown, Field::None) };
    let lo = if object::is_lo12(r_type) { LO } else { 0 };
    // Whole words the generic linker knows (so that they may refer outside the unit).
    let field = match (value, site) {
        (Value::Abs, Site::Word64) => Field::W64,
        (Value::Abs, Site::Word32) if r_type == R_RISCV_32 => Field::U32,
        (Value::Pc | Value::CallPc | Value::GotPc, Site::Word32) => Field::S32,
        (Value::Add, _) => insn_field(site, ADD),
        (Value::Sub, _) => insn_field(site, SUB),
        (_, Site::None) => Field::None,
        _ => insn_field(site, lo),
    };
    let calc = match value {
        Value::None => Calc::None,
        Value::Abs | Value::Add | Value::Sub => Calc::Abs,
        Value::Pc => Calc::Pc,
        Value::CallPc => Calc::CallPc,
        Value::GotPc => Calc::GotEntryPc { relax: false },
        Value::TlsGotPc => Calc::GotTpOff,
        Value::TlsGdPc => Calc::TlsGd,
        Value::TlsDescPc => Calc::TlsDesc,
        Value::TpRel => Calc::TpOff,
        Value::PairedLo => Calc::PairedLo,
    };
    (calc, field)
}

/// A `Field::Insn` field: its site in bits 0–3, flags above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InsnField(u8);

/// The field of an object relocation on this machine.
pub type Field = super::Field<InsnField>;

/// Bytes a `Field::Insn` field covers (at least; a ULEB128 number may be longer).
impl super::InsnSize for InsnField {
    fn size(self) -> usize {
        match SITES[(self.0 & 0xf) as usize] {
            Site::None => 0,
            Site::Word8 | Site::Low6 | Site::Uleb128 => 1,
            Site::Word16 | Site::Cb | Site::Cj | Site::CLui => 2,
            Site::Word32 | Site::U | Site::I | Site::S | Site::B | Site::J => 4,
            Site::Word64 | Site::AuipcJalr => 8,
        }
    }

    /// An absolute address in `lui` + `addi`/load/store (HI20 with LO12_I or LO12_S) is
    /// sign-extended from 32 bits, its HI20 part rounded by 0x800: below 2 GiB - 2 KiB in user
    /// space. A `c.lui` (RVC_LUI) reaches below 128 KiB - 2 KiB.
    fn low_end(self) -> Option<u64> {
        if self.0 & (ADD | SUB) != 0 {
            return None;
        }
        match SITES[(self.0 & 0xf) as usize] {
            Site::U => Some((1 << 31) - 0x800),
            Site::I | Site::S if self.0 & LO != 0 => Some((1 << 31) - 0x800),
            Site::CLui => Some((1 << 17) - 0x800),
            _ => None,
        }
    }
}

/// Write `v` into the `Field::Insn` field `k` at the start of `place`; false if it does not
/// fit there. (No RISC-V field depends on where the place is.)
pub fn write_insn(field: InsnField, place: &mut [u8], v: i64, _at: u64) -> bool {
    put_insn(field, place, v).is_ok()
}

/// [`write_insn`], saying why a value does not fit.
pub fn put_insn(InsnField(k): InsnField, place: &mut [u8], v: i64) -> Result<(), object::Bad> {
    let site = SITES[(k & 0xf) as usize];
    let v = if k & (ADD | SUB) != 0 {
        let old = object::read_old(site, place).ok_or(object::Bad::Place)?;
        object::word_value(if k & ADD != 0 { Value::Add } else { Value::Sub }, v, old)
    } else {
        v
    };
    object::write(site, place, v, k & LO != 0)
}

impl InsnField {
    /// Where the field is written.
    pub fn site(self) -> Site {
        SITES[(self.0 & 0xf) as usize]
    }

    /// The field of `site` for a relocation that writes the whole value there (not V ± it, not
    /// the low part of a pair).
    pub fn whole(site: Site) -> InsnField {
        InsnField(SITES.iter().position(|&x| x == site).unwrap_or(0) as u8)
    }
}

/// Whether PCREL_LO12 relocations take their value from a relocation of this type at their
/// symbol (the `auipc` it fills).
#[inline(always)]
pub fn is_pair_hi(r_type: u32) -> bool {
    object::is_pcrel_hi(r_type)
}

/// Dynamic relocation types the linker emits for what must be bound at load.
pub mod dynrel {
    use super::object::*;
    pub const ABS64: u32 = R_RISCV_64;
    pub const PC32: u32 = R_RISCV_32_PCREL;
    pub const ABS32: u32 = R_RISCV_32;
    pub const ABS32S: u32 = R_RISCV_32;
    pub const GLOB_DAT: u32 = R_RISCV_64;
    pub const IRELATIVE: u32 = R_RISCV_IRELATIVE;
    pub const DTPMOD64: u32 = R_RISCV_TLS_DTPMOD64;
    pub const DTPOFF64: u32 = R_RISCV_TLS_DTPREL64;
    pub const TPOFF64: u32 = R_RISCV_TLS_TPREL64;
    pub const TLSDESC: u32 = super::R_RISCV_TLSDESC;
}

/// Size of a call stub: `auipc t3, hi; ld t3, lo(t3); jalr t1, t3; nop`, the shape of a PLT
/// entry.
pub const STUB_SIZE: usize = 16;

/// A call stub at `stub` that jumps through the GOT entry at `slot`.
pub fn call_stub(stub: u64, slot: u64) -> [u8; STUB_SIZE] {
    object::plt_entry(stub, slot)
}

/// crti.o and crtn.o around the `.init` and `.fini` fragments: save ra, restore it and return.
/// Padding between fragments would be `nop`, which is not one byte: fragments are multiples of
/// 4 bytes, and the fill (zero) is never run.
pub const INIT_PROLOGUE: &[u8] = &[
    0x13, 0x01, 0x01, 0xff, // addi sp, sp, -16
    0x23, 0x34, 0x11, 0x00, // sd ra, 8(sp)
];
pub const INIT_EPILOGUE: &[u8] = &[
    0x83, 0x30, 0x81, 0x00, // ld ra, 8(sp)
    0x13, 0x01, 0x01, 0x01, // addi sp, sp, 16
    0x67, 0x80, 0x00, 0x00, // ret
];
pub const CODE_FILL: u8 = 0;

/// `atexit` and `at_quick_exit`: `auipc a2; addi a2` (`__dso_handle`), `li a1, 0`, `tail` the C
/// library's function.
const EXIT_HANDLER: &[u8] = code![0x0000_0617, 0x0006_0613, 0x0000_0593, 0x0000_0317, 0x0003_0067];

/// The address of a symbol of the unit is S - P in an `auipc` and the I-type instruction
/// after it, which R_RISCV_CALL fills (its partner here is an `addi`, not a `jalr`): no
/// `%pcrel_lo` label needed.
const fn exit_handler_relocs(target: &'static str) -> [(u32, u32, &'static str, i64); 2] {
    [(0, R_RISCV_CALL, "__dso_handle", 0), (12, R_RISCV_CALL_PLT, target, 0)]
}

/// The runtime functions of the x86_64 file (which tells what each does), in RV64 code.
pub const RUNTIME_FNS: &[RuntimeFn] = &[
    RuntimeFn { name: "atexit", code: EXIT_HANDLER, relocs: &exit_handler_relocs("__cxa_atexit") },
    RuntimeFn { name: "at_quick_exit", code: EXIT_HANDLER, relocs: &exit_handler_relocs("__cxa_at_quick_exit") },
    RuntimeFn {
        name: "pthread_atfork",
        // auipc a3; addi a3 (__dso_handle); tail __register_atfork
        code: code![0x0000_0697, 0x0006_8693, 0x0000_0317, 0x0003_0067],
        relocs: &[(0, R_RISCV_CALL, "__dso_handle", 0), (8, R_RISCV_CALL_PLT, "__register_atfork", 0)],
    },
    RuntimeFn {
        name: "__relink_unit_fini",
        // auipc t0, 0; lw t1, 36(t0); add t1, t0, t1; ld a1, 0(t1) (__cxa_finalize's GOT entry,
        // through the word at 36); beqz a1, 1f; auipc a0; addi a0 (__dso_handle); jr a1; 1: ret;
        // .word __cxa_finalize@GOT - the auipc
        code: code![
            0x0000_0297, 0x0242_a303, 0x0062_8333, 0x0003_3583, 0x0005_8863, 0x0000_0517, 0x0005_0513, 0x0005_8067,
            0x0000_8067, 0
        ],
        relocs: &[(36, R_RISCV_GOT32_PCREL, "__cxa_finalize", 36), (20, R_RISCV_CALL, "__dso_handle", 0)],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_window_of_absolute_addresses() {
        let end = |t| object_reloc(t).1.low_end();
        let hi20 = end(R_RISCV_HI20).unwrap();
        assert_eq!(hi20, 0x7fff_f800);
        assert_eq!(end(R_RISCV_LO12_I), Some(hi20));
        assert_eq!(end(R_RISCV_LO12_S), Some(hi20));
        assert_eq!(end(R_RISCV_32), Some(1 << 32));
        assert_eq!(end(R_RISCV_64), None);
        assert_eq!(end(R_RISCV_ADD32), None);
        assert_eq!(end(R_RISCV_SET16), None);
        // The last address below the end fits a lui, the end does not.
        let lui = 0x0000_07b7u32.to_le_bytes();
        assert!(object::write(Site::U, &mut lui.clone(), hi20 as i64 - 1, false).is_ok());
        assert_eq!(object::write(Site::U, &mut lui.clone(), hi20 as i64, false), Err(object::Bad::Range));
    }
}
