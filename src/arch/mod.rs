//! Architecture interface. Everything that differs between processors lives in one file per
//! architecture, in two halves: what is pure data and arithmetic (the psABI's relocation
//! tables, the machine's constants, the TLS layout constants, the object-file side of the link
//! stage) in relink-core's `arch/<arch>.rs`, compiled and unit-tested on every host; what
//! touches the running process in `src/arch/<arch>.rs`, selected at compile time, which
//! re-exports its machine's core file. The rest of the crate is written against the items
//! below, through `crate::arch`. [core] marks the items of the core's half.
//!
//! * Machine [core]: `ELF_MACHINE` (e_machine), `ELF_FLAGS` (e_flags of the objects relink
//!   makes, such as the one holding a static TLS block), `flags_mismatch` (e_flags the system
//!   loader refuses), `NAME` (for messages), `GLIBC_BASE` (glibc's first symbol version there,
//!   which names its oldest `dlopen` family).
//! * Dynamic relocations [core]: `classify` maps a raw type onto one of the generic [`Kind`]s
//!   that the single apply loop in `relocate.rs` understands (what each kind writes is the
//!   core's `arch::dynamic` arithmetic, the same on every machine), `type_name` gives the psABI name,
//!   `RELATIVE` and `TPOFF` the raw types used on fast paths and in the static TLS object
//!   (`tls.rs`), `ACCEPTS_REL` whether REL tables (DT_REL, DT_PLTREL = DT_REL; the addend in
//!   place) are loaded, as the machine's glibc does, `TLSDESC_ARGUMENT_FIRST` the order of a
//!   TLS descriptor's words (Arm's argument first).
//! * TLS layout [core]: `TLS_VARIANT` (x86-64 and i386: II, blocks below the thread pointer;
//!   aarch64, arm and riscv64: I, blocks above it after a `TCB_SIZE` control block),
//!   `DTV_OFFSET` (what `DTPOFF` values are biased by: 0, or 0x800 on riscv); the arithmetic is
//!   relink-core's `tls`, and `in_static_tls` below (whether a block offset lies in the system
//!   loader's static TLS area) applies it to this machine. Here: `thread_pointer`.
//! * IFUNC: `call_ifunc` calls a resolver with the arguments glibc passes on that machine.
//! * Lazy binding [core]: the GOT words `LAZY_GOT_ENTRY` (the trampoline) and
//!   `LAZY_GOT_CONTEXT` (the object's context), and `LAZY_ARG_IS_OFFSET` (i386's PLT pushes the
//!   byte offset of the relocation, not its index).
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
//!   `trampolines_supported` and `init` (sizing them: at startup, or on x86_64 the first time
//!   `trampolines_supported` is asked),
//!   and the `entry_asm!` macro (the instructions of a naked export that hands its return
//!   address on, which `with_caller!` below and the interposer put together). A default below
//!   that only i386 overrides: `tls_get_addr_alias` (`___tls_get_addr`, argument in %eax).
//! * Library search: `multiarch!` (Debian's multiarch directory name, for `$LIB` and the system
//!   directories), `CACHE_FLAGS` (the `/etc/ld.so.cache` entry flags this machine's loader
//!   accepts), `CpuInfo`/`cpu_info` and `search_caps` (`$PLATFORM`, legacy hwcap names and the
//!   `glibc-hwcaps` subdirectories that apply).
//! * Relocatable objects (relink-core's `link`) [core]: `OBJECT_LINKING` says whether the machine's
//!   object relocations are implemented; `object_reloc` (onto the generic [`Calc`] and the
//!   machine's `Field`), `dynrel`, `call_stub`/`STUB_SIZE`, `relax_got_load`, the `.init`
//!   prologue and epilogue, `CODE_FILL` and `RUNTIME_FNS` describe them; `InsnField` (sized
//!   by the core's `arch::InsnSize`) and `write_insn` give and write fields of the machine's
//!   own shape (instruction immediates, bytes updated in place; none on x86_64), and `is_pair_hi` the
//!   relocations whose value `Calc::PairedLo` ones reuse (RISC-V's `%pcrel_lo`);
//!   `veneered_branch`, `BRANCH_REACH`, `VENEER_SIZE` and `veneer` the range-extension veneers
//!   of branches that do not reach (none but on AArch64). What most machines share (no
//!   instruction fields, no veneers, no rewritten GOT loads) is the core's `arch::defaults`. Where `OBJECT_LINKING` is false, `.o` and `.a` inputs are refused with
//!   a message saying so.

pub use relink_core::arch::Kind;

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

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "riscv64", target_arch = "x86", target_arch = "arm")))]
compile_error!("relink supports x86_64, aarch64, riscv64, i686 and arm; add src/arch/<arch>.rs for another machine");

/// Other names of `__tls_get_addr` that relink binds to an entry of its own (i386's
/// `___tls_get_addr`): none elsewhere.
#[cfg(not(target_arch = "x86"))]
#[inline(always)]
pub fn tls_get_addr_alias(_name: &[u8]) -> Option<usize> {
    None
}

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

/// Whether a block at `offset` from the thread pointer lies in a static TLS area of `size`
/// bytes (what glibc's `_dl_get_tls_static_info` reports), for this machine's TLS variant.
pub fn in_static_tls(offset: isize, size: usize) -> bool {
    relink_core::tls::in_static_tls(TLS_VARIANT, TCB_SIZE, offset, size)
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
