//! Per-architecture relocation tables, one file per architecture, compiled on every host (they
//! are data and arithmetic: each is unit-tested wherever the tests run). Each file starts with a
//! short note on its psABI and reads like the psABI's tables.
//!
//! One model of a relocation serves every machine:
//!
//! - a dynamic relocation (in a shared object, or one the link stage emits) is a [`Kind`],
//!   through each file's `classify`; [`dynamic`] is its arithmetic (S + A, B + A, S + A − P and
//!   the range of a 32-bit field, the TLS words), for relink's relocate stage and the core's
//!   own loader ([`crate::object`]) alike;
//! - an object-file relocation (relink's in-process linker, [`crate::link`]) is a calculation
//!   ([`Calc`]) and a field ([`Field`]) through `object_reloc`; the link stage computes the
//!   value, and a field of the machine's own shape (an instruction's immediate) is sized and
//!   encoded by the file (`InsnField`, `write_insn`).
//!
//! Around them each file gives the machine's constants: `ELF_MACHINE`, `ELF_FLAGS`,
//! `flags_mismatch`, `NAME`, `GLIBC_BASE`, `RELATIVE`, `TPOFF`, `ACCEPTS_REL`, `type_name`, the
//! lazy-binding GOT words, the TLS layout (`TLS_VARIANT`, `TCB_SIZE`, `DTV_OFFSET`, see
//! [`crate::tls`]), and the object side (`OBJECT_LINKING`, `InsnField` (its size by
//! [`InsnSize`]), `write_insn`, `is_pair_hi`, `dynrel`, `call_stub`/`STUB_SIZE`,
//! `relax_got_load`, `INIT_PROLOGUE`/`INIT_EPILOGUE`, `CODE_FILL`, `RUNTIME_FNS`, and the branch
//! veneers `veneered_branch`, `BRANCH_REACH`, `VENEER_SIZE`, `veneer`). What touches the running
//! process (the thread pointer, IFUNC calls, CPU features, assembly entry points) stays in
//! relink's `src/arch/<arch>.rs`, which re-exports its machine's file from here. riscv32 and
//! loongarch64 have no runtime (no toolchain runs them here): their files are the tables,
//! unit-tested against values worked out from their psABIs (the object-file items nothing
//! uses there, call stubs and the like, are [`unlinked`]'s).
//!
//! [`native`] is the file of the machine the crate is compiled for.

/// Instruction words as the little-endian bytes of a `&'static [u8]` (the runtime functions
/// of machines with 4-byte instruction words).
macro_rules! code {
    ($($w:expr),* $(,)?) => {{
        const W: &[u32] = &[$($w),*];
        const B: [u8; W.len() * 4] = {
            let mut b = [0u8; W.len() * 4];
            let mut i = 0;
            while i < b.len() {
                b[i] = (W[i / 4] >> (8 * (i % 4))) as u8;
                i += 1;
            }
            b
        };
        &B
    }};
}

pub mod aarch64;
pub mod arm;
pub mod loongarch64;
pub mod riscv32;
pub mod riscv64;
pub mod x86;
pub mod x86_64;

/// The table of the machine the crate is compiled for (none on others).
pub mod native {
    #[cfg(target_arch = "aarch64")]
    pub use super::aarch64::*;
    #[cfg(target_arch = "arm")]
    pub use super::arm::*;
    #[cfg(target_arch = "riscv64")]
    pub use super::riscv64::*;
    #[cfg(target_arch = "x86")]
    pub use super::x86::*;
    #[cfg(target_arch = "x86_64")]
    pub use super::x86_64::*;
}

/// What a machine's file has unless it says otherwise: each file glob-imports these, and its
/// own definitions take their place.
pub mod defaults {
    /// Whether other relocations take their value from one of this type at their symbol
    /// (`Calc::PairedLo`): none outside RISC-V.
    #[inline(always)]
    pub fn is_pair_hi(_r_type: u32) -> bool {
        false
    }

    /// How far either way a branch reaches before a veneer must carry it (relink's
    /// `link::layout`): veneers exist only on AArch64.
    pub const BRANCH_REACH: u64 = u64::MAX;
    /// Size of a range-extension veneer.
    pub const VENEER_SIZE: usize = 0;

    /// Whether a relocation is a branch a veneer may carry farther.
    #[inline(always)]
    pub fn veneered_branch(_r_type: u32) -> bool {
        false
    }

    /// A veneer at `at` to `target`.
    pub fn veneer(_at: u64, _target: u64) -> [u8; VENEER_SIZE] {
        []
    }

    /// Whether the lazy-binding trampoline is handed the byte offset of the PLT relocation
    /// (what i386's PLT pushes) rather than its index.
    pub const LAZY_ARG_IS_OFFSET: bool = false;

    /// Whether a TLS descriptor holds its argument word before its function (Arm's
    /// `{argument, function}`; elsewhere `{function, argument}`).
    pub const TLSDESC_ARGUMENT_FIRST: bool = false;

    /// GOT loads are not rewritten (only x86-64's `mov foo@GOTPCREL(%rip)` is: the other
    /// machines' rewrites are part of linker relaxation, which relink does not do).
    pub fn relax_got_load(_code: &mut [u8], _at: usize) -> bool {
        false
    }

    /// No relocation writes into an instruction's encoding: the fields are whole bytes
    /// (x86-64, and the machines whose objects are not linked and that name no fields).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum InsnField {}

    /// The field of an object relocation on such a machine.
    pub type Field = super::Field<InsnField>;

    impl super::InsnSize for InsnField {
        fn size(self) -> usize {
            match self {}
        }
    }

    /// Never called: there is no [`InsnField`].
    pub fn write_insn(field: InsnField, _place: &mut [u8], _v: i64, _at: u64) -> bool {
        match field {}
    }
}

/// The rest of the object-file side for a machine whose objects are not linked and that has
/// no runtime (riscv32, loongarch64): no call stubs, `.init` frames or runtime functions. Each
/// such file glob-imports these.
pub mod unlinked {
    pub const STUB_SIZE: usize = 16;

    /// Never called (objects are refused).
    pub fn call_stub(_stub: u64, _slot: u64) -> [u8; STUB_SIZE] {
        [0; STUB_SIZE]
    }

    pub const INIT_PROLOGUE: &[u8] = &[];
    pub const INIT_EPILOGUE: &[u8] = &[];
    pub const CODE_FILL: u8 = 0;
    pub const RUNTIME_FNS: &[super::RuntimeFn] = &[];
}

/// What a dynamic relocation computes, independent of the architecture (each file's
/// `classify` maps its raw types onto these).
/// `S` is the symbol's value, `A` the addend, `B` the object's load bias, `P` the place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Nothing to do.
    None,
    /// word64 = B + A
    Relative,
    /// word64 = S + A
    Symbolic,
    /// word64 = S (GOT entry; the addend is ignored)
    GotEntry,
    /// word64 = S (PLT slot; lazy binding may defer it)
    PltSlot,
    /// word64 = resolver(B + A)()
    Irelative,
    /// word32 = S + A - P, must fit in a signed 32-bit field
    PcRel32,
    /// word32 = S + A, zero-extended
    Abs32,
    /// word32 = S + A, sign-extended
    Abs32Signed,
    /// copy st_size bytes from S to P (executables only)
    Copy,
    /// word64 = module id of the symbol's TLS block
    DtpMod,
    /// word64 = offset of S + A inside its TLS block
    DtpOff,
    /// word64 = offset of S + A from the thread pointer (static TLS)
    TpOff,
    /// word = A - (offset of S from the thread pointer): the distance below it, positive in TLS
    /// variant II (i386's `R_386_TLS_TPOFF32`)
    TpOffNeg,
    /// two words: a TLS descriptor
    TlsDesc,
    /// A type relink does not know.
    Unknown,
}

impl Kind {
    /// The word a relocation of kind `Relative` (B + A), `Symbolic` (S + A), `GotEntry` or
    /// `PltSlot` (S) writes: the common cases, which relink's relocate stage takes on its fast
    /// path ([`dynamic`] gives the same words).
    #[inline(always)]
    pub fn word(self, x: &Inputs) -> u64 {
        match self {
            Kind::Symbolic => x.s.wrapping_add(x.a as u64),
            Kind::Relative => x.b.wrapping_add(x.a as u64),
            _ => x.s,
        }
    }

    /// The 32-bit field of a relocation of kind `PcRel32` (S + A − P, signed), `Abs32` (S + A,
    /// zero-extended) or `Abs32Signed` (S + A, sign-extended) on a machine whose words are
    /// `word` bytes, or the value that does not fit (on a 32-bit machine every value fits: the
    /// field is the whole word, and the address space wraps).
    #[inline(always)]
    pub fn field32(self, x: &Inputs, word: usize) -> Result<u32, i64> {
        let sa = x.s.wrapping_add(x.a as u64);
        let (v, fits) = match self {
            Kind::PcRel32 => {
                let v = sa.wrapping_sub(x.p) as i64;
                (v, fits_signed(v, 32))
            }
            Kind::Abs32 => (sa as i64, fits_unsigned(sa as i64, 32)),
            _ => (sa as i64, fits_signed(sa as i64, 32)),
        };
        if fits || word == 4 {
            Ok(v as u32)
        } else {
            Err(v)
        }
    }

    /// The word of a TLS relocation of kind `DtpMod` (the module id), `DtpOff` (S + A − the
    /// machine's `DTV_OFFSET`, `dtv_offset`), `TpOff` (the offset of S + A from the thread
    /// pointer) or `TpOffNeg` (A − the offset of S from the thread pointer).
    #[inline(always)]
    pub fn tls_word(self, x: &Inputs, dtv_offset: u64) -> u64 {
        let sa = x.s.wrapping_add(x.a as u64);
        match self {
            Kind::DtpMod => x.module,
            Kind::DtpOff => sa.wrapping_sub(dtv_offset),
            Kind::TpOff => (x.tls_offset as u64).wrapping_add(sa),
            _ => (x.a as u64).wrapping_sub((x.tls_offset as u64).wrapping_add(x.s)),
        }
    }

    /// Whether the relocation fills a word of the GOT (an aligned word, or two for a TLS
    /// descriptor).
    pub fn is_got_word(self) -> bool {
        matches!(self, Kind::GotEntry | Kind::PltSlot | Kind::DtpMod | Kind::DtpOff | Kind::TpOff | Kind::TpOffNeg | Kind::TlsDesc)
    }
}

/// The psABIs' variables of one relocation. A dynamic relocation uses S, A, P, B and the TLS
/// numbers; GOT and G are an object relocation's (the link stage has its own).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// S: the symbol's value (for a TLS symbol, the variable's offset in its block).
    pub s: u64,
    /// A
    pub a: i64,
    /// P: the address of the place.
    pub p: u64,
    /// B: the load bias of the object.
    pub b: u64,
    /// The TLS module id of the symbol's block.
    pub module: u64,
    /// The offset of the symbol's TLS block from the thread pointer (static TLS).
    pub tls_offset: i64,
    /// GOT: the address of the GOT.
    pub got: u64,
    /// G: the offset from GOT of the entry the relocation refers to.
    pub g: u64,
}

/// What a dynamic relocation writes at its place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing.
    None,
    /// A word of the machine (its low bytes on a 32-bit one).
    Word(u64),
    /// A 32-bit field.
    Word32(u32),
    /// A word: what the IFUNC resolver at this address returns (the runtime calls it).
    Ifunc(u64),
}

/// Why [`dynamic`] gives no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The value does not fit the 32-bit field.
    Range(i64),
    /// The runtime's own work: a copy, a TLS descriptor.
    Runtime,
    /// A type the machine's table does not know.
    Unknown,
}

/// The arithmetic of a dynamic relocation of kind `kind`, on a machine whose words are `word`
/// bytes (4 or 8) and whose `DTPOFF` values are biased by `dtv_offset` (the arch file's
/// `DTV_OFFSET`). Values are computed with wrapping 64-bit arithmetic, as the psABIs write them;
/// a 32-bit machine keeps the low half (its address space wraps), so its 32-bit fields never
/// overflow. By groups of kinds, the same is [`Kind::word`], [`Kind::field32`] and
/// [`Kind::tls_word`], which relink's relocate stage calls where it has told the kinds apart.
#[inline(always)]
pub fn dynamic(kind: Kind, x: &Inputs, word: usize, dtv_offset: u64) -> Result<Value, Refused> {
    Ok(match kind {
        Kind::None => Value::None,
        Kind::Relative | Kind::Symbolic | Kind::GotEntry | Kind::PltSlot => Value::Word(kind.word(x)),
        Kind::Irelative => Value::Ifunc(Kind::Relative.word(x)),
        Kind::PcRel32 | Kind::Abs32 | Kind::Abs32Signed => Value::Word32(kind.field32(x, word).map_err(Refused::Range)?),
        Kind::DtpMod | Kind::DtpOff | Kind::TpOff | Kind::TpOffNeg => Value::Word(kind.tls_word(x, dtv_offset)),
        Kind::Copy | Kind::TlsDesc => return Err(Refused::Runtime),
        Kind::Unknown => return Err(Refused::Unknown),
    })
}

/// Whether `v` is a two's complement value of `bits` bits (1 to 64).
#[inline(always)]
pub const fn fits_signed(v: i64, bits: u32) -> bool {
    bits >= 64 || (v >= -(1i64 << (bits - 1)) && v < (1i64 << (bits - 1)))
}

/// Whether `v` is a non-negative value below 2^`bits`.
#[inline(always)]
pub const fn fits_unsigned(v: i64, bits: u32) -> bool {
    bits >= 64 || (v >= 0 && (v as u64) >> bits == 0)
}

/// `v` with its low `bits` bits (1 to 64) read as a two's complement value.
pub const fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Bits `hi` down to `lo` of `v` (at most 32 of them), shifted down to bit 0.
pub const fn bits(v: u64, hi: u32, lo: u32) -> u32 {
    ((v >> lo) & ((1u64 << (hi - lo + 1)) - 1)) as u32
}

/// `insn` with its `width` bits starting at bit `at` replaced by the low bits of `value`.
pub const fn insert(insn: u32, at: u32, width: u32, value: u32) -> u32 {
    let mask = (((1u64 << width) - 1) as u32) << at;
    (insn & !mask) | ((value << at) & mask)
}

/// Why a value could not be written into a field of the machine's own shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// The value does not fit the field.
    Range,
    /// A branch target or offset that is not aligned as the field needs.
    Odd,
    /// The place is too short, or holds something the field cannot be written into (a
    /// ULEB128 without end, a RISC-V `c.lui` whose value would be 0).
    Place,
}

/// What an object relocation computes (see the table in the arch file's `object_reloc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calc {
    None,
    /// S + A
    Abs,
    /// S + A - P
    Pc,
    /// L + A - P
    CallPc,
    /// G + GOT + A - P; `relax`: the instruction may be rewritten to use S directly.
    GotEntryPc { relax: bool },
    /// G + A
    GotEntry,
    /// S + A - GOT
    GotRel,
    /// GOT + A - P
    GotBasePc,
    /// L + A - GOT
    CallGotRel,
    /// Z + A
    Size,
    /// The GD `tls_index` pair of S + A - P
    TlsGd,
    /// The module's LD `tls_index` pair + A - P
    TlsLd,
    /// Offset of S + A in its TLS block
    DtpOff,
    /// The GOT entry holding the thread-pointer offset of S, + A - P (initial exec)
    GotTpOff,
    /// Thread-pointer offset of S + A (local exec)
    TpOff,
    /// The TLS descriptor of S + A - P
    TlsDesc,
    /// The call through a TLS descriptor: nothing to write.
    TlsDescCall,
    /// The low part of the value of the relocation at the place S labels (a RISC-V
    /// `%pcrel_lo`: S is the `auipc` that a PC-relative HI20 relocation fills, see
    /// `is_pair_hi`); A is not used.
    PairedLo,
    /// A type relink does not know.
    Unknown,
}

/// A field of the machine's own shape (an instruction's immediate, bytes updated in place),
/// named by the arch file's `InsnField`.
pub trait InsnSize: Copy + core::fmt::Debug + PartialEq + Eq {
    /// Bytes the field covers (at least; a RISC-V ULEB128 number may be longer).
    fn size(self) -> usize;

    /// For an absolute address written into the field (or into the instruction pair it is
    /// part of, such as RISC-V's `lui` + `addi`): the end of the low addresses it reaches, so
    /// that the unit is placed below it; `None` when the field never holds such an address.
    fn low_end(self) -> Option<u64> {
        None
    }
}

/// The field an object relocation writes; `I` is the machine's `InsnField` (each arch file
/// names `Field<InsnField>` `Field`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field<I> {
    None,
    /// 8 or 16 bits, signed or unsigned (a bitfield).
    Bits8,
    Bits16,
    /// 32 bits, zero-extended.
    U32,
    /// 32 bits, sign-extended.
    S32,
    W64,
    /// A field of the machine's own shape (an instruction's immediate, bytes updated in
    /// place), which the arch file's `InsnField` names and sizes ([`InsnSize`]) and its
    /// `write_insn` encodes, checking its range (x86-64 has none).
    Insn(I),
}

impl<I: InsnSize> Field<I> {
    /// Bytes written.
    pub fn size(self) -> usize {
        match self {
            Field::None => 0,
            Field::Bits8 => 1,
            Field::Bits16 => 2,
            Field::U32 | Field::S32 => 4,
            Field::W64 => 8,
            Field::Insn(f) => f.size(),
        }
    }

    /// The end of the low addresses an absolute address in the field reaches (see
    /// [`InsnSize::low_end`]): 4 GiB zero-extended, 2 GiB sign-extended.
    pub fn low_end(self) -> Option<u64> {
        match self {
            Field::U32 => Some(1 << 32),
            Field::S32 => Some(1 << 31),
            Field::Insn(f) => f.low_end(),
            _ => None,
        }
    }

    /// Whether `v` fits the field (an instruction's range is checked as it is encoded).
    pub fn fits(self, v: i64) -> bool {
        match self {
            Field::None | Field::W64 | Field::Insn(_) => true,
            Field::Bits8 => (-0x80..=0xff).contains(&v),
            Field::Bits16 => (-0x8000..=0xffff).contains(&v),
            Field::U32 => (0..=u32::MAX as i64).contains(&v),
            Field::S32 => (i32::MIN as i64..=i32::MAX as i64).contains(&v),
        }
    }
}

/// How the static TLS blocks sit around the thread pointer (Drepper, "ELF Handling For
/// Thread-Local Storage", section 3.4; the arithmetic is in [`crate::tls`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVariant {
    /// The thread pointer points at a thread control block of `TCB_SIZE` bytes, and the blocks
    /// follow it (positive offsets).
    I,
    /// The blocks end at the thread pointer (negative offsets).
    II,
}

/// A function of the runtime object every unit that needs one gets (relink's `link::runtime`):
/// its code and its relocations (offset in the code, type, symbol, addend).
pub struct RuntimeFn {
    pub name: &'static str,
    pub code: &'static [u8],
    pub relocs: &'static [(u32, u32, &'static str, i64)],
}

/// For the architectures' tests: a relocation applied as relink applies it, a dynamic type
/// through [`dynamic`], an object-file type through its `object_reloc` calculation (worked out
/// here as the link stage works it out, from the psABI's variables, GOT and G included) and
/// field.
#[cfg(test)]
pub(crate) mod testing {
    pub use super::Inputs;
    use super::{dynamic, Bad, Calc, Field, InsnSize, Kind, Refused, Value};

    /// Why a relocation was not applied.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Error {
        /// The value does not fit the field.
        Overflow { value: i64 },
        /// The value is not aligned as the field needs.
        Misaligned { value: i64 },
        /// The place is too short, or cannot hold the value.
        Place,
        /// The runtime's own work (a copy, an IFUNC call, a TLS descriptor).
        Runtime,
        /// A type the table does not apply.
        Unsupported,
    }

    /// A machine's tables.
    pub struct Machine<I> {
        pub classify: fn(u32) -> Kind,
        pub object_reloc: fn(u32) -> (Calc, Field<I>),
        /// Its `Field::Insn` encoder, with why a value does not fit.
        pub write: fn(I, &mut [u8], i64, u64) -> Result<(), Bad>,
        /// Bytes of a word.
        pub word: usize,
        pub dtv_offset: u64,
    }

    /// Apply relocation `r_type` at the start of `place`.
    pub fn apply<I: InsnSize>(m: &Machine<I>, r_type: u32, place: &mut [u8], x: &Inputs) -> Result<(), Error> {
        let kind = (m.classify)(r_type);
        if kind != Kind::Unknown {
            let (v, n) = match dynamic(kind, x, m.word, m.dtv_offset) {
                Ok(Value::None) => return Ok(()),
                Ok(Value::Word(v)) => (v, m.word),
                Ok(Value::Word32(v)) => (u64::from(v), 4),
                Ok(Value::Ifunc(_)) | Err(Refused::Runtime) => return Err(Error::Runtime),
                Err(Refused::Range(value)) => return Err(Error::Overflow { value }),
                Err(Refused::Unknown) => return Err(Error::Unsupported),
            };
            place.get_mut(..n).ok_or(Error::Place)?.copy_from_slice(&v.to_le_bytes()[..n]);
            return Ok(());
        }
        let (calc, field) = (m.object_reloc)(r_type);
        let (s, a, p, got) = (x.s as i64, x.a, x.p as i64, x.got as i64);
        let sa = s.wrapping_add(a);
        let entry = got.wrapping_add(x.g as i64).wrapping_add(a).wrapping_sub(p);
        let v = match calc {
            Calc::None | Calc::TlsDescCall => return Ok(()),
            Calc::Abs | Calc::DtpOff => sa,
            Calc::Pc | Calc::CallPc => sa.wrapping_sub(p),
            Calc::GotEntryPc { .. } | Calc::GotTpOff | Calc::TlsGd | Calc::TlsLd | Calc::TlsDesc => entry,
            Calc::GotEntry => (x.g as i64).wrapping_add(a),
            Calc::GotRel | Calc::CallGotRel => sa.wrapping_sub(got),
            Calc::GotBasePc => got.wrapping_add(a).wrapping_sub(p),
            Calc::TpOff => sa.wrapping_add(x.tls_offset),
            Calc::PairedLo => s,
            Calc::Size | Calc::Unknown => return Err(Error::Unsupported),
        };
        match field {
            Field::None => Ok(()),
            Field::Insn(f) => (m.write)(f, place, v, x.p).map_err(|e| match e {
                Bad::Range => Error::Overflow { value: v },
                Bad::Odd => Error::Misaligned { value: v },
                Bad::Place => Error::Place,
            }),
            _ if !field.fits(v) => Err(Error::Overflow { value: v }),
            _ => {
                let n = field.size();
                place.get_mut(..n).ok_or(Error::Place)?.copy_from_slice(&v.to_le_bytes()[..n]);
                Ok(())
            }
        }
    }

    /// The 32-bit instruction `insn` relocated (the relocation must apply).
    pub fn relocated<I: InsnSize>(m: &Machine<I>, r_type: u32, insn: u32, x: Inputs) -> u32 {
        let mut p = insn.to_le_bytes();
        apply(m, r_type, &mut p, &x).unwrap();
        u32::from_le_bytes(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_is_the_running_machine() {
        #[cfg(target_arch = "x86_64")]
        assert_eq!(native::ELF_MACHINE, 62);
        #[cfg(target_arch = "aarch64")]
        assert_eq!(native::ELF_MACHINE, 183);
        // The defaults a machine does not override.
        assert!(!x86_64::is_pair_hi(riscv64::object::R_RISCV_PCREL_HI20));
        assert!(riscv64::is_pair_hi(riscv64::object::R_RISCV_PCREL_HI20));
        assert_eq!((x86_64::BRANCH_REACH, aarch64::BRANCH_REACH), (u64::MAX, 1 << 27));
        assert_eq!((x86_64::TLSDESC_ARGUMENT_FIRST, arm::TLSDESC_ARGUMENT_FIRST), (false, true));
    }

    #[test]
    fn ranges() {
        assert!(fits_signed(2047, 12) && fits_signed(-2048, 12));
        assert!(!fits_signed(2048, 12) && !fits_signed(-2049, 12));
        assert!(fits_unsigned(0xffff, 16) && !fits_unsigned(0x10000, 16) && !fits_unsigned(-1, 16));
        assert!(fits_signed(i64::MIN, 64) && fits_unsigned(-1, 64));
    }

    #[test]
    fn bit_helpers() {
        assert_eq!(sext(0x800, 12), -2048);
        assert_eq!(sext(0x7ff, 12), 2047);
        assert_eq!(sext(0xffff_ffff, 32), -1);
        assert_eq!(bits(0xabcd_1234, 15, 8), 0x12);
        assert_eq!(insert(0xffff_ffff, 4, 8, 0), 0xffff_f00f);
        assert_eq!(insert(0, 28, 4, 0xff), 0xf000_0000);
    }

    #[test]
    fn dynamic_arithmetic() {
        let x = Inputs { s: 0x5000, a: 0x10, p: 0x9000_1000, b: 0x7000_0000, module: 3, tls_offset: -0x40, ..Inputs::default() };
        let v = |kind| dynamic(kind, &x, 8, 0);
        assert_eq!(v(Kind::Relative), Ok(Value::Word(0x7000_0010)));
        assert_eq!(v(Kind::Irelative), Ok(Value::Ifunc(0x7000_0010)));
        assert_eq!(v(Kind::Symbolic), Ok(Value::Word(0x5010)));
        // GOT entries and PLT slots leave the addend out.
        assert_eq!((v(Kind::GotEntry), v(Kind::PltSlot)), (Ok(Value::Word(0x5000)), Ok(Value::Word(0x5000))));
        // 0x5010 − 0x9000_1000 is below −2^31: too far for 32 bits on a 64-bit machine, and
        // wrapping around the address space on a 32-bit one.
        assert_eq!(v(Kind::PcRel32), Err(Refused::Range(0x5010 - 0x9000_1000)));
        assert_eq!(dynamic(Kind::PcRel32, &x, 4, 0), Ok(Value::Word32((0x5010u32).wrapping_sub(0x9000_1000))));
        let near = Inputs { p: 0x6000, ..x };
        assert_eq!(dynamic(Kind::PcRel32, &near, 8, 0), Ok(Value::Word32(-0xff0i32 as u32)));
        let high = Inputs { s: 0xffff_ffff_8000_0000, a: 0, ..x };
        assert_eq!(dynamic(Kind::Abs32Signed, &high, 8, 0), Ok(Value::Word32(0x8000_0000)));
        assert_eq!(dynamic(Kind::Abs32, &high, 8, 0), Err(Refused::Range(-0x8000_0000)));
        assert_eq!(v(Kind::Abs32), Ok(Value::Word32(0x5010)));
        // TLS: a variable 0x5010 into module 3's block, which starts 0x40 below the thread
        // pointer; DTPOFF biased by 0x800 as on RISC-V.
        assert_eq!(v(Kind::DtpMod), Ok(Value::Word(3)));
        assert_eq!(dynamic(Kind::DtpOff, &x, 8, 0x800), Ok(Value::Word(0x4810)));
        assert_eq!(v(Kind::TpOff), Ok(Value::Word(0x4fd0)));
        // i386's TLS_TPOFF32: A − (TP offset of S) = 0x10 − (−0x40 + 0x5000).
        assert_eq!(v(Kind::TpOffNeg), Ok(Value::Word((0x10u64).wrapping_sub(0x4fc0))));
        assert_eq!((v(Kind::Copy), v(Kind::TlsDesc), v(Kind::Unknown)), (Err(Refused::Runtime), Err(Refused::Runtime), Err(Refused::Unknown)));
        assert_eq!(v(Kind::None), Ok(Value::None));
    }

    #[test]
    fn field_ranges() {
        let f = |f: x86_64::Field, v: i64| (f.size(), f.fits(v));
        assert_eq!(f(Field::Bits8, 0xff), (1, true));
        assert_eq!(f(Field::Bits8, -0x81), (1, false));
        assert_eq!(f(Field::U32, -1), (4, false));
        assert_eq!(f(Field::S32, i32::MIN as i64), (4, true));
        assert_eq!(f(Field::W64, i64::MIN), (8, true));
    }
}
