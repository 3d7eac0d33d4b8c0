//! Architecture interface. Each architecture file maps its raw relocation types onto the few
//! generic [`Kind`]s that the one apply loop in `relocate.rs` understands, and names its machine.

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

// The RV64 object relocation arithmetic is pure: its unit tests run on every host.
#[cfg(all(test, not(target_arch = "riscv64")))]
#[path = "riscv64/object.rs"]
#[allow(dead_code)]
mod riscv64_object;

#[cfg(not(target_arch = "x86_64"))]
compile_error!("relink supports x86_64 only for now; aarch64 and riscv64 are planned");

/// What a relocation computes, independent of the architecture.
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
    /// two words: a TLS descriptor
    TlsDesc,
    /// A type relink does not know.
    Unknown,
}

impl Kind {
    /// Whether the relocation fills a word of the GOT (an aligned 8-byte slot, or two for a
    /// TLS descriptor).
    pub fn is_got_word(self) -> bool {
        matches!(self, Kind::GotEntry | Kind::PltSlot | Kind::DtpMod | Kind::DtpOff | Kind::TpOff | Kind::TlsDesc)
    }
}
