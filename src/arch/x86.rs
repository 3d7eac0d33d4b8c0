//! i386 (System V psABI, "Intel386 Architecture Processor Supplement", and the TLS and TLS
//! descriptor extensions), ELF32, as i686 Linux runs it.
//!
//! The psABI's relocation tables (dynamic and object-file types), the machine's constants,
//! its TLS layout constants and the object-file side of the link stage are pure data and
//! arithmetic: they are in relink-core's `arch::x86`, re-exported here. This file holds
//! what touches the running process.
//!
//! The thread pointer is %gs:0 and the TLS blocks of static modules sit below it (variant II).
//! Functions take their arguments on the stack (cdecl); the PLT pushes the byte offset of its
//! relocation in `.rel.plt`.

use super::SearchCaps;

pub use relink_core::arch::x86::*;

/// The thread pointer of the calling thread (%gs:0 holds its own address).
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on i386 Linux %gs:0 always holds the TCB's self pointer; reading it has no effect.
    unsafe { std::arch::asm!("mov {}, gs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}

/// Call an IFUNC resolver the way glibc does on i386 (no arguments).
///
/// # Safety
/// `resolver` must be the address of an IFUNC resolver whose object is relocated.
pub unsafe fn call_ifunc(resolver: usize) -> usize {
    // SAFETY: guaranteed by the caller.
    let f: extern "C" fn() -> usize = unsafe { std::mem::transmute(resolver) };
    f()
}

/// CPU features that pick `$PLATFORM` and the legacy capability subdirectory in the library
/// search.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuInfo {
    pub sse2: bool,
    /// CMPXCHG8B: glibc's "i586".
    pub cx8: bool,
    /// CMOV: glibc's "i686".
    pub cmov: bool,
}

pub fn cpu_info() -> CpuInfo {
    // CPUID leaf 1 exists on every CPU that runs i686 code.
    let edx = std::arch::x86::__cpuid(1).edx;
    let bit = |n: u32| edx & (1 << n) != 0;
    CpuInfo { cx8: bit(8), cmov: bit(15), sse2: bit(26) }
}

/// Debian's multiarch directory name (`$LIB` is `lib/` and this), as a literal for `concat!`.
macro_rules! multiarch {
    () => {
        "i386-linux-gnu"
    };
}
pub(crate) use multiarch;

/// `FLAG_ELF_LIBC6`: the `/etc/ld.so.cache` entry flags the i386 loader accepts (entries of
/// x86-64 libraries, 0x0303, are passed over).
pub const CACHE_FLAGS: u32 = 0x0003;

/// `HWCAP_X86_SSE2` in glibc's x86 numbering, the one legacy capability the i386 loader searches
/// a subdirectory for.
const HWCAP_NAMES: [(u64, &str); 1] = [(1 << 0, "sse2")];

/// The capability parts of the library search for `cpu` (glibc 2.36's i386 rules): the
/// platform is "i686" (CMOV) or "i586" (CMPXCHG8B) as the CPU allows, else the kernel's
/// `AT_PLATFORM`; `sse2/` is the legacy hwcap subdirectory; there are no `glibc-hwcaps`
/// subdirectories.
pub fn search_caps(cpu: &CpuInfo, auxv_platform: Option<Vec<u8>>) -> SearchCaps {
    let platform = if cpu.cmov {
        Some(b"i686".to_vec())
    } else if cpu.cx8 {
        Some(b"i586".to_vec())
    } else {
        auxv_platform
    };
    // glibc's x86 platform names, numbered from bit 48: i586, i686, haswell, xeon_phi.
    let platform_bit = match platform.as_deref() {
        Some(b"i586") => 1 << 48,
        Some(b"i686") => 1 << (48 + 1),
        _ => u64::MAX,
    };
    let hwcap = if cpu.sse2 { HWCAP_NAMES[0].0 } else { 0 };
    SearchCaps { platform, platform_bit, hwcap, hwcap_names: &HWCAP_NAMES, isa_levels: 1, hwcaps_names: Vec::new() }
}

// Entry points called by relocated code with conventions Rust functions cannot meet directly,
// written by the macros below, which the modules owning the Rust functions they call invoke
// with them (`tls.rs`, `relocate.rs`).
//
// - `relink_tls_get_addr`: `__tls_get_addr` (argument on the stack) and
//   `relink_tls_get_addr_eax`: `___tls_get_addr` (GNU's, argument in %eax), for relink-relocated
//   code; both realign the stack before calling into Rust.
// - `relink_tlsdesc_static` / `relink_tlsdesc_dynamic`: TLS descriptor functions. They get the
//   descriptor in %eax, return the variable's offset from the thread pointer in %eax, and must
//   preserve every other register: the dynamic one saves the x87 and SSE state with FXSAVE
//   around its call into Rust.
// - `relink_lazy_entry`: PLT0 jumps here with the object's lazy context (GOT[1]) and the byte
//   offset of the PLT relocation pushed; %eax, %ecx and %edx (regparm arguments) must reach the
//   bound function unchanged.

/// The TLS entry points `relink_tls_get_addr`, `relink_tls_get_addr_eax`, `relink_tlsdesc_static`
/// and `relink_tlsdesc_dynamic`, calling `get_addr` (the `__tls_get_addr` of relink's TLS) and
/// `desc_offset` (a dynamic descriptor's offset from the thread pointer).
macro_rules! tls_entries_asm {
    (get_addr = $get_addr:path, desc_offset = $desc_offset:path $(,)?) => {
        std::arch::global_asm!(
            ".globl relink_tls_get_addr",
            ".hidden relink_tls_get_addr",
            ".type relink_tls_get_addr, @function",
            "relink_tls_get_addr:",
            "    mov eax, [esp + 4]",
            "    jmp relink_tls_get_addr_eax",
            ".size relink_tls_get_addr, . - relink_tls_get_addr",
            "",
            ".globl relink_tls_get_addr_eax",
            ".hidden relink_tls_get_addr_eax",
            ".type relink_tls_get_addr_eax, @function",
            "relink_tls_get_addr_eax:",
            "    push ebp",
            "    mov ebp, esp",
            "    and esp, -16",
            "    sub esp, 12",
            "    push eax",
            "    call {get_addr}",
            "    leave",
            "    ret",
            ".size relink_tls_get_addr_eax, . - relink_tls_get_addr_eax",
            "",
            ".globl relink_tlsdesc_static",
            ".hidden relink_tlsdesc_static",
            ".type relink_tlsdesc_static, @function",
            "relink_tlsdesc_static:",
            "    mov eax, [eax + 4]",
            "    ret",
            ".size relink_tlsdesc_static, . - relink_tlsdesc_static",
            "",
            // Frame: [ebp-4] ecx, [ebp-8] edx, [ebp-12] the descriptor, then the FXSAVE area.
            ".globl relink_tlsdesc_dynamic",
            ".hidden relink_tlsdesc_dynamic",
            ".type relink_tlsdesc_dynamic, @function",
            "relink_tlsdesc_dynamic:",
            "    push ebp",
            "    mov ebp, esp",
            "    push ecx",
            "    push edx",
            "    push eax",
            "    and esp, -16",
            "    sub esp, 512",
            "    fxsave [esp]",
            "    sub esp, 12",
            "    push dword ptr [eax + 4]",
            "    call {desc_offset}",
            "    add esp, 16",
            "    fxrstor [esp]",
            "    lea esp, [ebp - 8]",
            "    pop edx",
            "    pop ecx",
            "    pop ebp",
            "    ret",
            ".size relink_tlsdesc_dynamic, . - relink_tlsdesc_dynamic",
            get_addr = sym $get_addr,
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
            // Entry stack: [esp] lazy context (GOT[1]), [esp+4] relocation offset, [esp+8] return
            // address. After the pushes: [ebp+16] context, [ebp+20] offset. The target replaces the
            // offset, and `ret` jumps to it with the caller's return address on top of the stack.
            ".globl relink_lazy_entry",
            ".hidden relink_lazy_entry",
            ".type relink_lazy_entry, @function",
            "relink_lazy_entry:",
            "    push eax",
            "    push ecx",
            "    push edx",
            "    push ebp",
            "    mov ebp, esp",
            "    and esp, -16",
            "    sub esp, 8",
            "    push dword ptr [ebp + 20]",
            "    push dword ptr [ebp + 16]",
            "    call {fixup}",
            "    mov [ebp + 20], eax",
            "    mov esp, ebp",
            "    pop ebp",
            "    pop edx",
            "    pop ecx",
            "    pop eax",
            "    add esp, 4",
            "    ret",
            ".size relink_lazy_entry, . - relink_lazy_entry",
            fixup = sym $fixup,
        );
    };
}
pub(crate) use lazy_entry_asm;

/// Nothing to size at startup.
pub fn init() {}

/// Lazy binding and dynamic TLS descriptors are available (FXSAVE, which the dynamic descriptor
/// function uses, is part of every CPU with SSE2, which i686 code for Rust requires).
pub fn trampolines_supported() -> bool {
    true
}

extern "C" {
    fn relink_tls_get_addr();
    fn relink_tls_get_addr_eax();
}

/// Address of relink's `__tls_get_addr`, bound for relink-relocated code: the entry point of
/// `tls_entries_asm!`.
pub fn tls_get_addr_entry() -> Option<usize> {
    Some(relink_tls_get_addr as *const () as usize)
}

/// The entry relink binds for `name` when it is another name of `__tls_get_addr`: GNU's
/// `___tls_get_addr`, which takes its argument in %eax.
pub fn tls_get_addr_alias(name: &[u8]) -> Option<usize> {
    (name == b"___tls_get_addr").then_some(relink_tls_get_addr_eax as *const () as usize)
}

/// Whether a PLT call to a symbol with this `st_other` must be bound at load: never.
pub fn binds_at_load(_st_other: u8) -> bool {
    false
}

/// The pieces of an exported entry point that hands its return address on (`with_caller!`,
/// and the interposer's in `preload/`): `entry_asm!(pad)` the landing pad (none),
/// `entry_asm!(caller N)`, and `entry_asm!(jump)` the tail jump to operand `{t}`;
/// `entry_asm!(version "GLIBC_x")` the symbol version glibc gives this machine for a function
/// that came with `GLIBC_x` on x86-64.
///
/// Arguments are on the stack (cdecl): for N arguments, `caller N` copies them into a frame of
/// its own, 16-byte aligned, with the return address as argument N + 1, calls `{t}` and
/// returns its result (so the `jump` after it is never reached). `caller 0` passes nothing and
/// leaves the tail jump to `jump`.
#[doc(hidden)]
#[macro_export]
macro_rules! entry_asm {
    (pad) => { "" };
    (caller 0) => { "" };
    (caller 2) => {
        "push ebp\nmov ebp, esp\nand esp, -16\nsub esp, 4\npush dword ptr [ebp + 4]\n\
         push dword ptr [ebp + 12]\npush dword ptr [ebp + 8]\ncall {t}\nleave\nret"
    };
    (caller 3) => {
        "push ebp\nmov ebp, esp\nand esp, -16\npush dword ptr [ebp + 4]\npush dword ptr [ebp + 16]\n\
         push dword ptr [ebp + 12]\npush dword ptr [ebp + 8]\ncall {t}\nleave\nret"
    };
    (caller 5) => {
        "push ebp\nmov ebp, esp\nand esp, -16\nsub esp, 8\npush dword ptr [ebp + 4]\n\
         push dword ptr [ebp + 24]\npush dword ptr [ebp + 20]\npush dword ptr [ebp + 16]\n\
         push dword ptr [ebp + 12]\npush dword ptr [ebp + 8]\ncall {t}\nleave\nret"
    };
    (jump) => { "jmp {t}" };
    (version "GLIBC_2.2.5") => { "GLIBC_2.0" };
    (version $v:literal) => { $v };
}
