//! 32-bit Arm, hard-float EABI ("armhf": "ELF for the Arm Architecture", AAELF32, section 5.6,
//! and the "Procedure Call Standard for the Arm Architecture", AAPCS, with its VFP variant).
//!
//! The psABI's relocation tables (dynamic and object-file types), the machine's constants,
//! its TLS layout constants and the object-file side of the link stage are pure data and
//! arithmetic: they are in relink-core's `arch::arm`, re-exported here. This file holds
//! what touches the running process.
//!
//! A TLS descriptor is laid out the other way round from other machines': the argument word
//! first, the function second. The function is called (through a linker-made veneer that loads
//! the second word) with the descriptor's address in r0, returns the variable's offset from the
//! thread pointer in r0, and preserves every other register.
//!
//! The thread pointer is TPIDRURO (`mrc p15, 0, rN, c13, c0, 3`; the kernel's `__aeabi_read_tp`
//! helper reads the same register). TLS is variant I: TP points at an 8-byte thread control
//! block (the DTV pointer and a reserved word) and the static blocks follow it.
//!
//! PLT (GNU ld's): PLT0 pushes lr, sets lr to &GOT[2] and loads pc from GOT[2]; entry n sets ip
//! to &GOT[n + 3] and jumps through it, and that slot first holds the address of PLT0. So the
//! trampoline is entered with the caller's lr at [sp], lr = &GOT[2] and ip = &GOT[n + 3]; GOT[1]
//! is the dynamic linker's word for the object, and the relocation index of entry n is n (the
//! JUMP_SLOT relocations are in GOT order). It must preserve the argument registers r0-r3 and,
//! with the hard-float calling convention, d0-d7, and return to the caller with the lr PLT0
//! saved.
//!
//! IFUNC resolvers get `AT_HWCAP` as their one argument.
//!
//! relink itself is A32 code (what rustc emits for armv7-unknown-linux-gnueabihf); its entry
//! points below are A32 too, and reached from Thumb code through interworking branches.

use super::SearchCaps;
use std::sync::atomic::{AtomicU32, Ordering};

pub use relink_core::arch::arm::*;

/// The thread pointer of the calling thread.
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reading TPIDRURO (the user read-only thread ID register, which the kernel sets to
    // the thread pointer) has no effect.
    unsafe { std::arch::asm!("mrc p15, 0, {}, c13, c0, 3", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    tp
}

/// Call an IFUNC resolver the way glibc does on Arm: with the `AT_HWCAP` word.
///
/// # Safety
/// `resolver` must be the address of an IFUNC resolver whose object is relocated.
pub unsafe fn call_ifunc(resolver: usize) -> usize {
    // SAFETY: guaranteed by the caller; resolvers that take no argument ignore it.
    let f: extern "C" fn(usize) -> usize = unsafe { std::mem::transmute(resolver) };
    f(crate::os::auxv(libc::AT_HWCAP) as usize)
}

/// Debian's multiarch directory name (`$LIB` is `lib/` and this), as a literal for `concat!`.
macro_rules! multiarch {
    () => {
        "arm-linux-gnueabihf"
    };
}
pub(crate) use multiarch;

/// `FLAG_ELF_LIBC6 | FLAG_ARM_LIBHF`: the only `/etc/ld.so.cache` entry flags the hard-float
/// loader accepts.
pub const CACHE_FLAGS: u32 = 0x0003 | 0x0900;

/// `HWCAP_ARM_VFP` and `HWCAP_ARM_NEON`, the hwcap bits glibc 2.36 searches legacy
/// subdirectories for on Arm (its `HWCAP_IMPORTANT`).
const HWCAP_VFP: u64 = 1 << 6;
const HWCAP_NEON: u64 = 1 << 12;
const HWCAP_NAMES: [(u64, &str); 2] = [(HWCAP_VFP, "vfp"), (HWCAP_NEON, "neon")];
/// `HWCAP_ARM_VFPD32`: the VFP register file has 32 double registers (d16-d31 exist).
const HWCAP_VFPD32: u64 = 1 << 19;

/// CPU features that pick library search subdirectories: the AT_HWCAP word (glibc 2.36 has no
/// `glibc-hwcaps` names for Arm).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuInfo {
    pub hwcap: u64,
}

pub fn cpu_info() -> CpuInfo {
    CpuInfo { hwcap: crate::os::auxv(libc::AT_HWCAP) as u64 }
}

/// The capability parts of the library search: `$PLATFORM` (AT_PLATFORM, such as `v7l`) and
/// the `vfp` and `neon` legacy subdirectories, as glibc 2.36 searches them.
pub fn search_caps(cpu: &CpuInfo, auxv_platform: Option<Vec<u8>>) -> SearchCaps {
    SearchCaps {
        platform: auxv_platform.filter(|p| !p.is_empty()),
        platform_bit: u64::MAX,
        hwcap: cpu.hwcap & (HWCAP_VFP | HWCAP_NEON),
        hwcap_names: &HWCAP_NAMES,
        isa_levels: 1,
        hwcaps_names: Vec::new(),
    }
}

/// Nonzero when the CPU has d16-d31, which the trampolines then save too (they are
/// caller-saved, and the C library's string functions may use them). Read by the assembly
/// below; set once by [`init`] before any object is relocated.
pub(crate) static VFP_D32: AtomicU32 = AtomicU32::new(0);

/// Find out whether the trampolines must save d16-d31.
pub fn init() {
    if crate::os::auxv(libc::AT_HWCAP) as u64 & HWCAP_VFPD32 != 0 {
        VFP_D32.store(1, Ordering::Relaxed);
    }
}

/// Lazy binding and dynamic TLS descriptors are always available.
pub fn trampolines_supported() -> bool {
    true
}

// Entry points called by relocated code with conventions Rust functions cannot meet directly
// (A32 code; `.fpu vfpv3` lets the assembler accept d16-d31, which are only touched when
// `VFP_D32` says they exist), written by the macros below, which the modules owning the Rust
// functions they call invoke with them (`tls.rs`, `relocate.rs`).
//
// - `relink_tlsdesc_static` / `relink_tlsdesc_dynamic`: TLS descriptor functions (see the top
//   of the file). The dynamic one saves r1-r3, ip, lr and the caller-saved VFP registers around
//   its call into Rust, on a stack it realigns to 8 bytes (the call site need not keep it so).
// - `relink_lazy_entry`: PLT0 jumps here (see the top of the file); r0-r3 and d0-d7 reach the
//   bound function unchanged.
//
// Both save the caller-saved VFP registers around their call into Rust with the macros below.

/// Keep the caller's sp in r4, realign the stack to 8 bytes, load `VFP_D32` PC-relatively (from
/// the word `vfp_flag!` places after the function) into r5, and push d0-d7, then d16-d31 when
/// the flag is set. r4 and r5 are callee-saved: they survive the call.
macro_rules! vfp_save {
    () => {
        "    mov r4, sp\n\
             bic sp, sp, #7\n\
             ldr r5, 2f\n\
         1:  add r5, pc, r5\n\
             ldr r5, [r5]\n\
             vpush {{d0-d7}}\n\
             cmp r5, #0\n\
             vpushne {{d16-d31}}"
    };
}
pub(crate) use vfp_save;

/// Undo `vfp_save!`.
macro_rules! vfp_restore {
    () => {
        "    cmp r5, #0\n\
             vpopne {{d16-d31}}\n\
             vpop {{d0-d7}}\n\
             mov sp, r4"
    };
}
pub(crate) use vfp_restore;

/// The PC-relative offset of `VFP_D32` that `vfp_save!` loads.
macro_rules! vfp_flag {
    () => {
        "2:  .word {d32} - (1b + 8)"
    };
}
pub(crate) use vfp_flag;

/// The TLS descriptor functions `relink_tlsdesc_static` and `relink_tlsdesc_dynamic`, calling
/// `desc_offset` (a dynamic descriptor's offset from the thread pointer). `get_addr` needs no
/// entry point here (see `tls_get_addr_entry`).
macro_rules! tls_entries_asm {
    (get_addr = $get_addr:path, desc_offset = $desc_offset:path $(,)?) => {
        std::arch::global_asm!(
            ".arm",
            ".fpu vfpv3",
            ".globl relink_tlsdesc_static",
            ".hidden relink_tlsdesc_static",
            ".type relink_tlsdesc_static, %function",
            "relink_tlsdesc_static:",
            "    ldr r0, [r0]",
            "    bx lr",
            ".size relink_tlsdesc_static, . - relink_tlsdesc_static",
            "",
            ".globl relink_tlsdesc_dynamic",
            ".hidden relink_tlsdesc_dynamic",
            ".type relink_tlsdesc_dynamic, %function",
            "relink_tlsdesc_dynamic:",
            "    push {{r1, r2, r3, r4, r5, ip, lr}}",
            $crate::arch::vfp_save!(),
            "    ldr r0, [r0]",
            "    bl {desc_offset}",
            $crate::arch::vfp_restore!(),
            "    pop {{r1, r2, r3, r4, r5, ip, lr}}",
            "    bx lr",
            $crate::arch::vfp_flag!(),
            ".size relink_tlsdesc_dynamic, . - relink_tlsdesc_dynamic",
            desc_offset = sym $desc_offset,
            d32 = sym $crate::arch::VFP_D32,
        );
    };
}
pub(crate) use tls_entries_asm;

/// The lazy-binding trampoline `relink_lazy_entry`, calling `fixup` (which binds the slot and
/// returns its target).
macro_rules! lazy_entry_asm {
    (fixup = $fixup:path $(,)?) => {
        std::arch::global_asm!(
            ".arm",
            ".fpu vfpv3",
            // Entry: ip = &GOT[n + 3], lr = &GOT[2], [sp] = the caller's lr.
            ".globl relink_lazy_entry",
            ".hidden relink_lazy_entry",
            ".type relink_lazy_entry, %function",
            "relink_lazy_entry:",
            "    push {{r0, r1, r2, r3, r4, r5}}",
            $crate::arch::vfp_save!(),
            "    ldr r0, [lr, #-4]",
            "    sub r1, ip, lr",
            "    lsr r1, r1, #2",
            "    sub r1, r1, #1",
            "    bl {fixup}",
            "    mov ip, r0",
            $crate::arch::vfp_restore!(),
            "    pop {{r0, r1, r2, r3, r4, r5, lr}}",
            "    bx ip",
            $crate::arch::vfp_flag!(),
            ".size relink_lazy_entry, . - relink_lazy_entry",
            fixup = sym $fixup,
            d32 = sym $crate::arch::VFP_D32,
        );
    };
}
pub(crate) use lazy_entry_asm;

/// Address of relink's `__tls_get_addr` entry point for relink-relocated code: none, the Rust
/// function is bound itself (Arm code calls it with the standard convention).
pub fn tls_get_addr_entry() -> Option<usize> {
    None
}

/// Whether a PLT call to a symbol with this `st_other` must be bound at load: never (Arm
/// defines no variant calling convention marks).
pub fn binds_at_load(_st_other: u8) -> bool {
    false
}

/// The pieces of an exported entry point that hands its return address on (see the x86_64
/// file): no landing pad, the return address is in lr. A fifth argument is the first on the
/// stack: the sixth (the return address) would go past what the caller pushed, so that entry
/// point calls its target with a frame of its own instead of jumping (its `jump` piece is never
/// reached). Versions older than glibc's first on Arm are that one.
#[doc(hidden)]
#[macro_export]
macro_rules! entry_asm {
    (pad) => { "" };
    (caller 0) => { "" };
    (caller 2) => { "mov r2, lr" };
    (caller 3) => { "mov r3, lr" };
    (caller 5) => {
        "push {{r4, lr}}\n\
         sub sp, sp, #8\n\
         ldr ip, [sp, #16]\n\
         str ip, [sp]\n\
         str lr, [sp, #4]\n\
         bl {t}\n\
         add sp, sp, #8\n\
         pop {{r4, pc}}"
    };
    (jump) => { "b {t}" };
    (version "GLIBC_2.1") => { "GLIBC_2.4" };
    (version "GLIBC_2.2.4") => { "GLIBC_2.4" };
    (version "GLIBC_2.2.5") => { "GLIBC_2.4" };
    (version "GLIBC_2.3.3") => { "GLIBC_2.4" };
    (version "GLIBC_2.3.4") => { "GLIBC_2.4" };
    (version $v:literal) => { $v };
}
