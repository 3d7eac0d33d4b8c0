//! Per-architecture relocation tables, one file per architecture, compiled on every host (they
//! are data and arithmetic: each is unit-tested wherever the tests run). Each file starts with a
//! short note on its psABI and reads like the psABI's tables.
//!
//! Two descriptions of a relocation live side by side:
//!
//! - [`Howto`](crate::reloc::Howto) rows (riscv32, loongarch64, and x86_64's `howto`, derived
//!   from its object table): relocation number, name, calculation ([`reloc::Calc`]), field
//!   ([`reloc::Field`]) and range ([`Check`]); [`Howto::apply`] does the arithmetic. The
//!   core's own object linker ([`crate::object`]) uses them.
//! - relink's runtime vocabulary (x86_64, x86, aarch64, arm, riscv64): what the dynamic
//!   relocations of a shared object mean to the single apply loop of relink's relocate stage
//!   ([`Kind`], through each file's `classify`), what the object-file relocations of its
//!   in-process linker compute ([`Calc`], [`Field`], through `object_reloc`), and the machine's
//!   constants around them: `ELF_MACHINE`, `ELF_FLAGS`, `flags_mismatch`, `NAME`,
//!   `GLIBC_BASE`, `RELATIVE`, `TPOFF`, `ACCEPTS_REL`, the lazy-binding GOT words, the TLS
//!   layout (`TLS_VARIANT`, `TCB_SIZE`, `DTV_OFFSET`, see [`crate::tls`]), and the object side
//!   (`OBJECT_LINKING`, `InsnField` (its size by [`InsnSize`]), `write_insn`, `is_pair_hi`, `dynrel`,
//!   `call_stub`/`STUB_SIZE`, `relax_got_load`, `INIT_PROLOGUE`/`INIT_EPILOGUE`, `CODE_FILL`,
//!   `RUNTIME_FNS`, and the branch veneers `veneered_branch`, `BRANCH_REACH`, `VENEER_SIZE`,
//!   `veneer`). What touches the running process (the thread pointer, IFUNC calls, CPU
//!   features, assembly entry points) stays in relink's `src/arch/<arch>.rs`, which re-exports
//!   its machine's file from here.
//!
//! [`native`] is the file of the machine the crate is compiled for.
//!
//! [`reloc::Calc`]: crate::reloc::Calc
//! [`reloc::Field`]: crate::reloc::Field
//! [`Check`]: crate::reloc::Check
//! [`Howto::apply`]: crate::reloc::Howto::apply

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
    /// (x86-64, and the machines whose objects are not linked).
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
    /// Whether the relocation fills a word of the GOT (an aligned word, or two for a TLS
    /// descriptor).
    pub fn is_got_word(self) -> bool {
        matches!(self, Kind::GotEntry | Kind::PltSlot | Kind::DtpMod | Kind::DtpOff | Kind::TpOff | Kind::TpOffNeg | Kind::TlsDesc)
    }
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
    fn field_ranges() {
        let f = |f: x86_64::Field, v: i64| (f.size(), f.fits(v));
        assert_eq!(f(Field::Bits8, 0xff), (1, true));
        assert_eq!(f(Field::Bits8, -0x81), (1, false));
        assert_eq!(f(Field::U32, -1), (4, false));
        assert_eq!(f(Field::S32, i32::MIN as i64), (4, true));
        assert_eq!(f(Field::W64, i64::MIN), (8, true));
    }
}
