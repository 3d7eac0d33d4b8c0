//! AArch64 ("ELF for the Arm 64-bit Architecture (AArch64)", AAELF64, section 5.7).
//!
//! The psABI's relocation tables (dynamic and object-file types), the machine's constants,
//! its TLS layout constants and the object-file side of the link stage are pure data and
//! arithmetic: they are in relink-core's `arch::aarch64`, re-exported here. This file holds
//! what touches the running process.
//!
//! The thread pointer is `tpidr_el0`. TLS is variant I: TP points at a 16-byte thread control
//! block and the static blocks follow it (positive offsets).
//!
//! PLT: PLT0 saves `x16` (&GOT[n] of the entry that was called) and `x30` on the stack, loads
//! GOT[2] into x17 and &GOT[2] into x16, and branches to x17. GOT[1] is the dynamic linker's
//! word for the object. The trampoline must preserve the argument registers x0–x7, the
//! indirect-result register x8 and q0–q7 (the psABI's "AAPCS64" procedure call standard), and
//! return to the caller with x30 as PLT0 found it. The relocation index of entry n is n - 3
//! (the JUMP_SLOT relocations are in GOT order), as glibc computes it.
//!
//! IFUNC resolvers get `(AT_HWCAP | _IFUNC_ARG_HWCAP, &__ifunc_arg_t)` (glibc's
//! `<sys/ifunc.h>`). TLS descriptor functions get the descriptor in x0, return the variable's
//! offset from TP in x0, and preserve every other register but x30 (the call's return address).

use super::SearchCaps;

pub use relink_core::arch::aarch64::*;

/// The thread pointer of the calling thread.
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reading tpidr_el0 (the thread pointer register, readable at EL0) has no effect.
    unsafe { std::arch::asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    tp
}

/// glibc's `__ifunc_arg_t` (`<sys/ifunc.h>`).
#[repr(C)]
struct IfuncArg {
    size: u64,
    hwcap: u64,
    hwcap2: u64,
}

/// Set in the first argument of an IFUNC resolver when the second points to an [`IfuncArg`].
const IFUNC_ARG_HWCAP: u64 = 1 << 62;

/// Call an IFUNC resolver the way glibc does on AArch64: with the hwcap words.
///
/// # Safety
/// `resolver` must be the address of an IFUNC resolver whose object is relocated.
pub unsafe fn call_ifunc(resolver: usize) -> usize {
    let hwcap = crate::os::auxv(libc::AT_HWCAP) as u64;
    let hwcap2 = crate::os::auxv(libc::AT_HWCAP2) as u64;
    let arg = IfuncArg { size: std::mem::size_of::<IfuncArg>() as u64, hwcap, hwcap2 };
    // SAFETY: guaranteed by the caller; resolvers that take no arguments ignore them.
    let f: extern "C" fn(u64, *const IfuncArg) -> usize = unsafe { std::mem::transmute(resolver) };
    f(hwcap | IFUNC_ARG_HWCAP, &arg)
}

/// Debian's multiarch directory name (`$LIB` is `lib/` and this), as a literal for `concat!`.
macro_rules! multiarch {
    () => {
        "aarch64-linux-gnu"
    };
}
pub(crate) use multiarch;

/// `FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64`: the only `/etc/ld.so.cache` entry flags the AArch64
/// loader accepts.
pub const CACHE_FLAGS: u32 = 0x0003 | 0x0a00;

/// `HWCAP_ATOMICS`, the one AArch64 hwcap bit glibc 2.36 searches a legacy subdirectory for.
const HWCAP_ATOMICS: u64 = 1 << 8;
const HWCAP_NAMES: [(u64, &str); 1] = [(HWCAP_ATOMICS, "atomics")];

/// CPU features that pick library search subdirectories: the AT_HWCAP word (glibc 2.36 has no
/// `glibc-hwcaps` names for AArch64).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuInfo {
    pub hwcap: u64,
}

pub fn cpu_info() -> CpuInfo {
    CpuInfo { hwcap: crate::os::auxv(libc::AT_HWCAP) as u64 }
}

/// The capability parts of the library search: `$PLATFORM` (AT_PLATFORM) and the `atomics`
/// legacy subdirectory (`tls/aarch64/atomics/` ... `atomics/`, as glibc 2.36 searches them).
pub fn search_caps(cpu: &CpuInfo, auxv_platform: Option<Vec<u8>>) -> SearchCaps {
    SearchCaps {
        platform: auxv_platform,
        platform_bit: u64::MAX,
        hwcap: cpu.hwcap & HWCAP_ATOMICS,
        hwcap_names: &HWCAP_NAMES,
        isa_levels: 1,
        hwcaps_names: Vec::new(),
    }
}

/// Nothing to size: the trampolines save fixed register sets.
pub fn init() {}

/// Lazy binding and dynamic TLS descriptors are always available.
pub fn trampolines_supported() -> bool {
    true
}

// Entry points called by relocated code with conventions Rust functions cannot meet directly,
// written by the macros below, which the modules owning the Rust functions they call invoke
// with them (`tls.rs`, `relocate.rs`).
// Each starts with `bti c` (a no-op without branch target identification).
//
// - `relink_tlsdesc_static` / `relink_tlsdesc_dynamic`: TLS descriptor functions (see the top of
//   the file). The dynamic one saves x1–x18 and q0–q31 around its call into Rust.
// - `relink_lazy_entry`: PLT0 branches here (see the top of the file); x0–x8 and q0–q7 reach
//   the bound function unchanged.

/// The TLS descriptor functions `relink_tlsdesc_static` and `relink_tlsdesc_dynamic`, calling
/// `desc_offset` (a dynamic descriptor's offset from the thread pointer). `get_addr` needs no
/// entry point here (see `tls_get_addr_entry`).
macro_rules! tls_entries_asm {
    (get_addr = $get_addr:path, desc_offset = $desc_offset:path $(,)?) => {
        std::arch::global_asm!(
            ".globl relink_tlsdesc_static",
            ".hidden relink_tlsdesc_static",
            ".type relink_tlsdesc_static, %function",
            "relink_tlsdesc_static:",
            "    hint #34",
            "    ldr x0, [x0, #8]",
            "    ret",
            ".size relink_tlsdesc_static, . - relink_tlsdesc_static",
            "",
            // Frame (672 bytes): x29 x30, x1..x18 at 16..160, q0..q31 at 160..672.
            ".globl relink_tlsdesc_dynamic",
            ".hidden relink_tlsdesc_dynamic",
            ".type relink_tlsdesc_dynamic, %function",
            "relink_tlsdesc_dynamic:",
            "    hint #34",
            "    sub sp, sp, #672",
            "    stp x29, x30, [sp]",
            "    mov x29, sp",
            "    stp x1, x2, [sp, #16]",
            "    stp x3, x4, [sp, #32]",
            "    stp x5, x6, [sp, #48]",
            "    stp x7, x8, [sp, #64]",
            "    stp x9, x10, [sp, #80]",
            "    stp x11, x12, [sp, #96]",
            "    stp x13, x14, [sp, #112]",
            "    stp x15, x16, [sp, #128]",
            "    stp x17, x18, [sp, #144]",
            "    stp q0, q1, [sp, #160]",
            "    stp q2, q3, [sp, #192]",
            "    stp q4, q5, [sp, #224]",
            "    stp q6, q7, [sp, #256]",
            "    stp q8, q9, [sp, #288]",
            "    stp q10, q11, [sp, #320]",
            "    stp q12, q13, [sp, #352]",
            "    stp q14, q15, [sp, #384]",
            "    stp q16, q17, [sp, #416]",
            "    stp q18, q19, [sp, #448]",
            "    stp q20, q21, [sp, #480]",
            "    stp q22, q23, [sp, #512]",
            "    stp q24, q25, [sp, #544]",
            "    stp q26, q27, [sp, #576]",
            "    stp q28, q29, [sp, #608]",
            "    stp q30, q31, [sp, #640]",
            "    ldr x0, [x0, #8]",
            "    bl {desc_offset}",
            "    ldp q0, q1, [sp, #160]",
            "    ldp q2, q3, [sp, #192]",
            "    ldp q4, q5, [sp, #224]",
            "    ldp q6, q7, [sp, #256]",
            "    ldp q8, q9, [sp, #288]",
            "    ldp q10, q11, [sp, #320]",
            "    ldp q12, q13, [sp, #352]",
            "    ldp q14, q15, [sp, #384]",
            "    ldp q16, q17, [sp, #416]",
            "    ldp q18, q19, [sp, #448]",
            "    ldp q20, q21, [sp, #480]",
            "    ldp q22, q23, [sp, #512]",
            "    ldp q24, q25, [sp, #544]",
            "    ldp q26, q27, [sp, #576]",
            "    ldp q28, q29, [sp, #608]",
            "    ldp q30, q31, [sp, #640]",
            "    ldp x1, x2, [sp, #16]",
            "    ldp x3, x4, [sp, #32]",
            "    ldp x5, x6, [sp, #48]",
            "    ldp x7, x8, [sp, #64]",
            "    ldp x9, x10, [sp, #80]",
            "    ldp x11, x12, [sp, #96]",
            "    ldp x13, x14, [sp, #112]",
            "    ldp x15, x16, [sp, #128]",
            "    ldp x17, x18, [sp, #144]",
            "    ldp x29, x30, [sp]",
            "    add sp, sp, #672",
            "    ret",
            ".size relink_tlsdesc_dynamic, . - relink_tlsdesc_dynamic",
            desc_offset = sym $desc_offset,
        );
    };
}
pub(crate) use tls_entries_asm;

/// The lazy-binding trampoline `relink_lazy_entry`, calling `fixup` (which binds the slot and
/// returns its target).
macro_rules! lazy_entry_asm {
    (fixup = $fixup:path $(,)?) => {
        std::arch::global_asm!(
            // Entry: x16 = &GOT[2], [sp] = &GOT[n], [sp + 8] = the caller's x30.
            // Frame (224 bytes): x29 x30, x0..x8 at 16..88, q0..q7 at 96..224.
            ".globl relink_lazy_entry",
            ".hidden relink_lazy_entry",
            ".type relink_lazy_entry, %function",
            "relink_lazy_entry:",
            "    hint #34",
            "    stp x29, x30, [sp, #-224]!",
            "    mov x29, sp",
            "    stp x0, x1, [sp, #16]",
            "    stp x2, x3, [sp, #32]",
            "    stp x4, x5, [sp, #48]",
            "    stp x6, x7, [sp, #64]",
            "    str x8, [sp, #80]",
            "    stp q0, q1, [sp, #96]",
            "    stp q2, q3, [sp, #128]",
            "    stp q4, q5, [sp, #160]",
            "    stp q6, q7, [sp, #192]",
            "    ldr x0, [x16, #-8]",
            "    ldr x1, [sp, #224]",
            "    sub x1, x1, x16",
            "    lsr x1, x1, #3",
            "    sub x1, x1, #1",
            "    bl {fixup}",
            "    mov x16, x0",
            "    ldp q0, q1, [sp, #96]",
            "    ldp q2, q3, [sp, #128]",
            "    ldp q4, q5, [sp, #160]",
            "    ldp q6, q7, [sp, #192]",
            "    ldp x0, x1, [sp, #16]",
            "    ldp x2, x3, [sp, #32]",
            "    ldp x4, x5, [sp, #48]",
            "    ldp x6, x7, [sp, #64]",
            "    ldr x8, [sp, #80]",
            "    ldp x29, x30, [sp], #224",
            "    ldp x17, x30, [sp], #16",
            "    br x16",
            ".size relink_lazy_entry, . - relink_lazy_entry",
            fixup = sym $fixup,
        );
    };
}
pub(crate) use lazy_entry_asm;

/// Address of relink's `__tls_get_addr` entry point for relink-relocated code: none, the Rust
/// function is bound itself (AArch64 code calls it with the standard convention).
pub fn tls_get_addr_entry() -> Option<usize> {
    None
}

/// `STO_AARCH64_VARIANT_PCS`: the function takes or returns values in registers the base
/// procedure call standard does not use for arguments (SVE z/p registers, or the vector PCS),
/// which the trampoline does not preserve.
const STO_AARCH64_VARIANT_PCS: u8 = 0x80;

/// Whether a PLT call to a symbol with this `st_other` must be bound at load (as glibc does for
/// variant PCS symbols).
pub fn binds_at_load(st_other: u8) -> bool {
    st_other & STO_AARCH64_VARIANT_PCS != 0
}

/// The pieces of an exported entry point written with `global_asm!` (see the x86_64 file).
/// Versions older than glibc's first on AArch64 are that one.
#[doc(hidden)]
#[macro_export]
macro_rules! entry_asm {
    (pad) => { "hint #34" };
    (caller 0) => { "" };
    (caller 2) => { "mov x2, x30" };
    (caller 3) => { "mov x3, x30" };
    (caller 5) => { "mov x5, x30" };
    (jump) => { "b {t}" };
    (version "GLIBC_2.1") => { "GLIBC_2.17" };
    (version "GLIBC_2.2.4") => { "GLIBC_2.17" };
    (version "GLIBC_2.2.5") => { "GLIBC_2.17" };
    (version "GLIBC_2.3.3") => { "GLIBC_2.17" };
    (version "GLIBC_2.3.4") => { "GLIBC_2.17" };
    (version $v:literal) => { $v };
}
