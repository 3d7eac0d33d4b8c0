//! Architecture interface. Everything that differs between processors lives in one file per
//! architecture, `src/arch/<arch>.rs`, selected at compile time; the rest of the crate is
//! written against the items below, which every architecture file defines:
//!
//! * Machine: `ELF_MACHINE` (e_machine), `ELF_FLAGS` (e_flags of the objects relink makes, such
//!   as the one holding a static TLS block), `flags_mismatch` (e_flags the system loader
//!   refuses), `NAME` (for messages), `GLIBC_BASE` (glibc's first symbol version there, which
//!   names its oldest `dlopen` family).
//! * Dynamic relocations: `classify` maps a raw type onto one of the generic [`Kind`]s that the
//!   single apply loop in `relocate.rs` understands, `type_name` gives the psABI name, `RELATIVE`
//!   and `TPOFF` the raw types used on fast paths and in the static TLS object (`tls.rs`),
//!   `ACCEPTS_REL` whether REL tables (DT_REL, DT_PLTREL = DT_REL; the addend in place) are
//!   loaded, as the machine's glibc does.
//! * Thread pointer and TLS layout: `thread_pointer`, `TLS_VARIANT` (x86-64: II, blocks below
//!   the thread pointer; aarch64 and riscv64: I, blocks above it after a `TCB_SIZE` control
//!   block), `DTV_OFFSET` (what `DTPOFF` values are biased by: 0, or 0x800 on riscv), and
//!   `in_static_tls` (whether a block offset lies in the system loader's static TLS area).
//! * IFUNC: `call_ifunc` calls a resolver with the arguments glibc passes on that machine.
//! * Entry points in assembly. The blocks that call Rust functions of higher modules are
//!   macros those modules invoke with them, so that `arch` names no module above it:
//!   `tls_entries_asm!(get_addr = .., desc_offset = ..)`, invoked in `tls.rs`, defines the TLS
//!   descriptor functions `relink_tlsdesc_static` and `relink_tlsdesc_dynamic` (given out by
//!   `tlsdesc_entries` below) and, where the machine needs one, an entry point for
//!   `__tls_get_addr` (`tls_get_addr_entry`; `None` where relocated code calls the Rust
//!   function itself); `lazy_entry_asm!(fixup = ..)`, invoked in `relocate.rs`, defines
//!   `relink_lazy_entry` (the trampoline PLT0 jumps to, `lazy_entry` below, through GOT word
//!   `LAZY_GOT_ENTRY`, with the object's context in GOT word `LAZY_GOT_CONTEXT`). With them:
//!   `binds_at_load` (PLT calls the trampoline cannot carry: bound eagerly),
//!   `trampolines_supported` and `init` (sizing them at startup),
//!   and the `entry_asm!` macro (the instructions of a naked export that hands its return
//!   address on, which `with_caller!` below and the interposer put together). Defaults below
//!   that only i386 overrides: `tls_get_addr_alias` (`___tls_get_addr`, argument in %eax) and
//!   `LAZY_ARG_IS_OFFSET` (its PLT pushes the byte offset of the relocation, not its index).
//! * Library search: `multiarch!` (Debian's multiarch directory name, for `$LIB` and the system
//!   directories), `CACHE_FLAGS` (the `/etc/ld.so.cache` entry flags this machine's loader
//!   accepts), `CpuInfo`/`cpu_info` and `search_caps` (`$PLATFORM`, legacy hwcap names and the
//!   `glibc-hwcaps` subdirectories that apply).
//! * Relocatable objects (`src/link/`): `OBJECT_LINKING` says whether the machine's object
//!   relocations are implemented; `object_reloc`, `dynrel`, `call_stub`, `relax_got_load`, the
//!   `.init` prologue and epilogue and `RUNTIME_FNS` describe them; `InsnField`, `insn_size` and
//!   `write_insn` give and write fields of the machine's own shape (instruction immediates,
//!   bytes updated in place; none on x86_64), and `is_pair_hi` the relocations whose value
//!   `Calc::PairedLo` ones reuse (RISC-V's `%pcrel_lo`); `veneered_branch`, `BRANCH_REACH`,
//!   `VENEER_SIZE` and `veneer` the range-extension veneers of branches that do not reach
//!   (defaults below: none but on AArch64). Where `OBJECT_LINKING` is
//!   false, `.o` and `.a` inputs are refused with a message saying so.

/// Instruction words as the little-endian bytes of a `&'static [u8]` (the runtime functions
/// of machines with 4-byte instruction words).
#[allow(unused_macros)]
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

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use self::x86_64::*;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use self::aarch64::*;

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use self::riscv64::*;

#[cfg(target_arch = "arm")]
mod arm;
#[cfg(target_arch = "arm")]
pub use self::arm::*;
#[cfg(target_arch = "x86")]
mod x86;
#[cfg(target_arch = "x86")]
pub use self::x86::*;

// The RV64 object relocation arithmetic is pure: its unit tests run on every host.
#[cfg(all(test, not(target_arch = "riscv64")))]
#[path = "riscv64/object.rs"]
#[allow(dead_code)]
mod riscv64_object;

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64", target_arch = "x86", target_arch = "arm")))]
compile_error!("relink supports x86_64, aarch64, riscv64, i686 and arm; add src/arch/<arch>.rs for another machine");

/// Other names of `__tls_get_addr` that relink binds to an entry of its own (i386's
/// `___tls_get_addr`): none elsewhere.
#[cfg(not(target_arch = "x86"))]
#[inline(always)]
pub fn tls_get_addr_alias(_name: &[u8]) -> Option<usize> {
    None
}

/// Whether the lazy-binding trampoline hands `relocate::lazy_fixup` the byte offset of the PLT
/// relocation (what i386's PLT pushes) rather than its index.
#[cfg(not(target_arch = "x86"))]
pub const LAZY_ARG_IS_OFFSET: bool = false;

/// How many words of per-thread state [`hot_get`] and [`hot_set`] give.
pub const HOT_WORDS: usize = 2;
/// The calling thread's record of the lock-free lookup tables (`symcache.rs`).
pub const HOT_RECORD: usize = 0;
/// The calling thread's `rl_error` state, once it has been reached (`ffi.rs`).
pub const HOT_ERROR: usize = 1;

/// Word `i` of the calling thread's per-thread state: zero until set. Where the architecture
/// file has a `hot_words`, the words are in librelink's static TLS block (initial-exec, read
/// without calling `__tls_get_addr`: librelink then needs a few bytes of static TLS, which
/// glibc keeps in reserve for libraries loaded with `dlopen`); elsewhere in a `thread_local!`.
#[inline(always)]
pub fn hot_get(i: usize) -> usize {
    assert!(i < HOT_WORDS);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `hot_words` is the calling thread's block of HOT_WORDS words, and `i` is in it.
    return unsafe { hot_words().add(i).read() };
    #[cfg(not(target_arch = "x86_64"))]
    return HOT.try_with(|w| w[i].get()).unwrap_or(0);
}

/// Set word `i` of the calling thread's per-thread state (see [`hot_get`]).
#[inline(always)]
pub fn hot_set(i: usize, value: usize) {
    assert!(i < HOT_WORDS);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as in `hot_get`; only the calling thread reads or writes its block.
    unsafe { hot_words().add(i).write(value) };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = HOT.try_with(|w| w[i].set(value));
}

#[cfg(not(target_arch = "x86_64"))]
thread_local! {
    static HOT: [std::cell::Cell<usize>; HOT_WORDS] = const { [const { std::cell::Cell::new(0) }; HOT_WORDS] };
}

/// The body of an exported function that needs to know who called it (as glibc's dlsym and
/// dlopen take their caller from the return address): used as the only statement of a naked
/// function taking `$args` integer arguments, it loads the function's own return address into
/// the next argument register and jumps to `$target`, which takes the same arguments and
/// that address last, and returns straight to the caller.
macro_rules! with_caller {
    ($target:path, $args:tt) => {
        core::arch::naked_asm!(
            $crate::entry_asm!(pad),
            $crate::entry_asm!(caller $args),
            $crate::entry_asm!(jump),
            t = sym $target
        )
    };
}
pub(crate) use with_caller;

/// How the static TLS blocks sit around the thread pointer (Drepper, "ELF Handling For
/// Thread-Local Storage", section 3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVariant {
    /// The thread pointer points at a thread control block of `TCB_SIZE` bytes, and the blocks
    /// follow it (positive offsets).
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), allow(dead_code))]
    I,
    /// The blocks end at the thread pointer (negative offsets).
    #[cfg_attr(not(any(target_arch = "x86_64", target_arch = "x86")), allow(dead_code))]
    II,
}

/// Whether a block at `offset` from the thread pointer lies in a static TLS area of `size`
/// bytes (what glibc's `_dl_get_tls_static_info` reports), for this machine's TLS variant.
pub fn in_static_tls(offset: isize, size: usize) -> bool {
    match TLS_VARIANT {
        TlsVariant::II => offset < 0 && offset.unsigned_abs() <= size,
        TlsVariant::I => usize::try_from(offset).is_ok_and(|o| (TCB_SIZE..size).contains(&o)),
    }
}

/// The glibc-hwcaps and legacy capability parts of the library search, as the machine's loader
/// works them out from the CPU and `AT_PLATFORM` (see `search.rs`).
#[derive(Debug, Clone)]
pub struct SearchCaps {
    /// The value of `$PLATFORM`.
    pub platform: Option<Vec<u8>>,
    /// The platform bit legacy cache entries must carry (all ones when the platform has no
    /// number).
    pub platform_bit: u64,
    /// The loader's hwcap word, limited to the bits that pick directories.
    pub hwcap: u64,
    /// Legacy hwcap bits with the subdirectory names they stand for, in bit order.
    pub hwcap_names: &'static [(u64, &'static str)],
    /// Supported ISA levels (bit 0 is the baseline), matched against cache entries' levels.
    pub isa_levels: u32,
    /// Active `glibc-hwcaps` subdirectory names, most preferred first.
    pub hwcaps_names: Vec<&'static str>,
}

// Every arch file's `lazy_entry_asm!` and `tls_entries_asm!` define these entry points.
extern "C" {
    fn relink_lazy_entry();
    fn relink_tlsdesc_static();
    fn relink_tlsdesc_dynamic();
}

/// The lazy-binding trampoline PLT0 jumps to (the GOT word `LAZY_GOT_ENTRY`).
pub fn lazy_entry() -> usize {
    relink_lazy_entry as *const () as usize
}

/// TLS descriptor functions: (static, dynamic).
pub fn tlsdesc_entries() -> (usize, usize) {
    (relink_tlsdesc_static as *const () as usize, relink_tlsdesc_dynamic as *const () as usize)
}

/// Whether a TLS descriptor holds its argument word before its function (Arm's
/// `{argument, function}`; elsewhere `{function, argument}`).
pub const TLSDESC_ARGUMENT_FIRST: bool = cfg!(target_arch = "arm");

/// What a relocation computes, independent of the architecture.
/// `S` is the symbol's value, `A` the addend, `B` the object's load bias, `P` the place.
// Machines whose files do not use every kind yet.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
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
    #[cfg_attr(not(target_arch = "x86"), allow(dead_code))]
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

// -------------------------------------------------------------------------------------------
// Relocatable objects: what the arch files' `object_reloc` tables map raw types onto.

/// What an object relocation computes (see the table in the arch file).
// Machines whose files do not use every kind yet.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
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

/// The field a relocation writes.
// Machines whose files do not use every kind yet.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
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
    /// place), which the arch file's `InsnField` names, `insn_size` sizes and `write_insn`
    /// encodes, checking its range (x86-64 has none).
    #[cfg_attr(any(target_arch = "x86_64", target_arch = "x86"), allow(dead_code))]
    Insn(InsnField),
}

impl Field {
    /// Bytes written.
    pub fn size(self) -> usize {
        match self {
            Field::None => 0,
            Field::Bits8 => 1,
            Field::Bits16 => 2,
            Field::U32 | Field::S32 => 4,
            Field::W64 => 8,
            Field::Insn(f) => insn_size(f),
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


/// Whether other relocations take their value from one of this type at their symbol
/// (`Calc::PairedLo`): none outside RISC-V.
#[cfg(not(target_arch = "riscv64"))]
#[inline(always)]
pub fn is_pair_hi(_r_type: u32) -> bool {
    false
}

/// Branches a veneer carries farther (see `link::layout`): none outside AArch64.
#[cfg(not(target_arch = "aarch64"))]
pub const BRANCH_REACH: u64 = u64::MAX;
#[cfg(not(target_arch = "aarch64"))]
pub const VENEER_SIZE: usize = 0;
#[cfg(not(target_arch = "aarch64"))]
#[inline(always)]
pub fn veneered_branch(_r_type: u32) -> bool {
    false
}
#[cfg(not(target_arch = "aarch64"))]
pub fn veneer(_at: u64, _target: u64) -> [u8; VENEER_SIZE] {
    []
}

/// A function of the runtime object every unit that needs one gets (see `link::runtime`):
/// its code and its relocations (offset in the code, type, symbol, addend).
pub struct RuntimeFn {
    pub name: &'static str,
    pub code: &'static [u8],
    pub relocs: &'static [(u32, u32, &'static str, i64)],
}
