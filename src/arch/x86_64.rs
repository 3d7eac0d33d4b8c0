//! x86-64 (System V psABI, "AMD64 Architecture Processor Supplement", chapter 4.4).
//!
//! The psABI's relocation tables (dynamic and object-file types), the machine's constants,
//! its TLS layout constants and the object-file side of the link stage are pure data and
//! arithmetic: they are in relink-core's `arch::x86_64`, re-exported here. This file holds
//! what touches the running process.
//!
//! The thread pointer is %fs:0 and the TLS blocks of static modules sit below it (variant II).

use super::SearchCaps;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use relink_core::arch::x86_64::*;

/// The thread pointer of the calling thread (%fs:0 holds its own address).
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on x86-64 Linux %fs:0 always holds the TCB's self pointer; reading it has no effect.
    unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}

// relink's own words of per-thread state (`super::hot_get`), zero in every new thread, reached
// through a TLS descriptor: when librelink.so is loaded at startup its TLS is static and the
// descriptor's function only returns the block's offset from the thread pointer (no
// `__tls_get_addr` call); loaded later with `dlopen`, the descriptor is a dynamic one and
// librelink needs no static TLS.
std::arch::global_asm!(
    ".pushsection .tbss, \"awT\", @nobits",
    ".p2align 3",
    ".globl relink_hot_words",
    ".hidden relink_hot_words",
    ".type relink_hot_words, @object",
    ".size relink_hot_words, {size}",
    "relink_hot_words:",
    ".zero {size}",
    ".popsection",
    size = const 8 * super::HOT_WORDS,
);

/// The address of the calling thread's words of `relink_hot_words`.
#[inline(always)]
pub fn hot_words() -> *mut usize {
    let off: usize;
    // SAFETY: the TLS descriptor call sequence of the x86-64 psABI: the descriptor's function
    // returns the offset in %rax; the stack is aligned for a call here. It should preserve
    // every other register, but glibc's dynamic one clobbered vector registers before 2.40
    // (the first access of a thread allocates its block): the C convention's scratch
    // registers are declared clobbered.
    unsafe {
        std::arch::asm!(
            "lea rax, [rip + relink_hot_words@TLSDESC]",
            "call qword ptr [rax + relink_hot_words@TLSCALL]",
            out("rax") off,
            clobber_abi("C"),
            options(pure, readonly)
        )
    };
    thread_pointer().wrapping_add(off) as *mut usize
}

/// Call an IFUNC resolver the way glibc does on x86-64 (no arguments).
///
/// # Safety
/// `resolver` must be the address of an IFUNC resolver whose object is relocated.
pub unsafe fn call_ifunc(resolver: usize) -> usize {
    // SAFETY: guaranteed by the caller.
    let f: extern "C" fn() -> usize = unsafe { std::mem::transmute(resolver) };
    f()
}

/// CPU features that pick glibc-hwcaps subdirectories and `$PLATFORM` in the library search.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuInfo {
    pub intel: bool,
    pub v2: bool,
    pub v3: bool,
    pub v4: bool,
    pub avx2: bool,
    pub fma: bool,
    pub bmi1: bool,
    pub bmi2: bool,
    pub lzcnt: bool,
    pub movbe: bool,
    pub popcnt: bool,
    pub avx512cd: bool,
    pub avx512er: bool,
    pub avx512pf: bool,
    pub avx512bw: bool,
    pub avx512dq: bool,
    pub avx512vl: bool,
}

/// glibc's `struct cpuid_feature` (<sys/platform/x86.h>): the CPUID words it read at startup.
#[repr(C)]
#[derive(Clone, Copy)]
struct CpuidFeature {
    cpuid: [u32; 4],
    active: [u32; 4],
}

extern "C" {
    /// glibc 2.33+: its cached CPUID leaves, so that relink does not execute CPUID (which traps
    /// to the hypervisor in a virtual machine: microseconds per instruction).
    fn __x86_get_cpuid_feature_leaf(index: u32) -> *const CpuidFeature;
}

/// A CPUID leaf as glibc read it: `index` is glibc's CPUID_INDEX_* (0: leaf 1, 1: leaf 7,
/// 2: leaf 0x80000001). Registers in EAX, EBX, ECX, EDX order; zero when the CPU lacks it.
fn glibc_leaf(index: u32) -> [u32; 4] {
    // SAFETY: the function returns a pointer to static data for any index (a zeroed entry for
    // indices it does not know).
    unsafe { __x86_get_cpuid_feature_leaf(index).as_ref() }.map_or([0; 4], |f| f.cpuid)
}

/// CPUID leaf 0: (highest leaf, whether the vendor is Intel), as glibc found them at startup
/// when its record can be read (see [`glibc_basic`]), else executed once.
fn leaf0() -> (u32, bool) {
    static LEAF0: once_cell::sync::OnceCell<(u32, bool)> = once_cell::sync::OnceCell::new();
    *LEAF0.get_or_init(|| {
        glibc_basic().unwrap_or_else(cpuid_leaf0)
    })
}

/// CPUID leaf 0 executed: (highest leaf, whether the vendor is Intel).
fn cpuid_leaf0() -> (u32, bool) {
    let l0 = std::arch::x86_64::__cpuid(0);
    let intel = &l0.ebx.to_le_bytes() == b"Genu" && &l0.edx.to_le_bytes() == b"ineI" && &l0.ecx.to_le_bytes() == b"ntel";
    (l0.eax, intel)
}

/// glibc's own record of CPUID leaf 0, read rather than executing CPUID again (a trap to the
/// hypervisor in a virtual machine, tens of microseconds on some): (highest leaf, whether the
/// vendor is Intel). In glibc 2.33 and later the leaves [`glibc_leaf`] returns are the array
/// that follows five words in its `struct cpu_features`: the vendor kind (1: Intel, up to 4:
/// others), the highest leaf, and the family, model and stepping it decoded from leaf 1. The
/// record is used only when those agree with leaf 1 as glibc read it; otherwise `None`.
fn glibc_basic() -> Option<(u32, bool)> {
    // SAFETY: as in `glibc_leaf`; a non-null answer points to static data.
    let leaf1 = unsafe { __x86_get_cpuid_feature_leaf(0).as_ref() }?;
    // SAFETY: the address is that of glibc's `features[0]`, inside its static `struct
    // cpu_features`, which (2.33 and later, as `__x86_get_cpuid_feature_leaf` is) begins with
    // the five words read here, 4-byte aligned.
    let basic = unsafe { *(leaf1 as *const CpuidFeature).cast::<[u32; 5]>().sub(1) };
    let [kind, max_leaf, family, model, stepping] = basic;
    // Leaf 1 as glibc decodes it: the extended family counts for family 15, the extended model
    // for families 6 and 15 (and others, depending on the vendor).
    let eax = leaf1.cpuid[0];
    let base_family = (eax >> 8) & 0xf;
    let base_model = (eax >> 4) & 0xf;
    let extended_model = (eax >> 12) & 0xf0;
    let full_family = base_family + if base_family == 0xf { (eax >> 20) & 0xff } else { 0 };
    let sound = eax != 0
        && (1..=4).contains(&kind)
        && max_leaf >= 1
        && family == full_family
        && (model == base_model || model == base_model + extended_model)
        && stepping == eax & 0xf;
    sound.then_some((max_leaf, kind == 1))
}

pub fn cpu_info() -> CpuInfo {
    use core::arch::x86_64::_xgetbv;
    let bit = |reg: u32, n: u32| reg & (1 << n) != 0;

    let intel = leaf0().1;
    let ecx1 = glibc_leaf(0)[2];
    let ebx7 = glibc_leaf(1)[1];
    let ecx81 = glibc_leaf(2)[2];

    let osxsave = bit(ecx1, 27);
    let xcr0 = if osxsave {
        // SAFETY: OSXSAVE is set, so xgetbv is enabled by the OS.
        unsafe { _xgetbv(0) }
    } else {
        0
    };
    let ymm_state = xcr0 & 0b110 == 0b110;
    let zmm_state = ymm_state && xcr0 & 0b1110_0000 == 0b1110_0000;

    let avx = ymm_state && bit(ecx1, 28);
    let avx2 = avx && bit(ebx7, 5);
    let fma = avx && bit(ecx1, 12);
    let f16c = avx && bit(ecx1, 29);
    let avx512f = zmm_state && bit(ebx7, 16);
    let c = CpuInfo {
        intel,
        avx2,
        fma,
        bmi1: bit(ebx7, 3),
        bmi2: bit(ebx7, 8),
        lzcnt: bit(ecx81, 5),
        movbe: bit(ecx1, 22),
        popcnt: bit(ecx1, 23),
        avx512dq: avx512f && bit(ebx7, 17),
        avx512pf: avx512f && bit(ebx7, 26),
        avx512er: avx512f && bit(ebx7, 27),
        avx512cd: avx512f && bit(ebx7, 28),
        avx512bw: avx512f && bit(ebx7, 30),
        avx512vl: avx512f && bit(ebx7, 31),
        ..CpuInfo::default()
    };
    let v2 = bit(ecx1, 13) // cmpxchg16b
        && bit(ecx81, 0) // lahf/sahf in 64-bit mode
        && c.popcnt
        && bit(ecx1, 0) // sse3
        && bit(ecx1, 19) // sse4.1
        && bit(ecx1, 20) // sse4.2
        && bit(ecx1, 9); // ssse3
    let v3 = v2 && avx && avx2 && c.bmi1 && c.bmi2 && f16c && fma && c.lzcnt && c.movbe && osxsave;
    let v4 = v3 && avx512f && c.avx512bw && c.avx512cd && c.avx512dq && c.avx512vl;
    CpuInfo { v2, v3, v4, ..c }
}

/// Debian's multiarch directory name (`$LIB` is `lib/` and this), as a literal for `concat!`.
macro_rules! multiarch {
    () => {
        "x86_64-linux-gnu"
    };
}
pub(crate) use multiarch;

/// `FLAG_ELF_LIBC6 | FLAG_X8664_LIB64`: the only `/etc/ld.so.cache` entry flags the x86_64
/// loader accepts.
pub const CACHE_FLAGS: u32 = 0x0003 | 0x0300;

/// `HWCAP_X86_64` and `HWCAP_X86_AVX512_1` in glibc's x86 numbering, with the subdirectory
/// names they stand for.
const HWCAP_NAMES: [(u64, &str); 2] = [(1 << 1, "x86_64"), (1 << 2, "avx512_1")];

/// The capability parts of the library search for `cpu` (glibc 2.36's x86 rules).
pub fn search_caps(cpu: &CpuInfo, auxv_platform: Option<Vec<u8>>) -> SearchCaps {
    // The loader starts from AT_PLATFORM and, on Intel CPUs only,
    // replaces it with "xeon_phi" or "haswell".
    let mut platform = auxv_platform;
    let mut hwcap = HWCAP_NAMES[0].0;
    if cpu.intel {
        let mut special: Option<&[u8]> = None;
        if cpu.avx512cd {
            if cpu.avx512er {
                if cpu.avx512pf {
                    special = Some(b"xeon_phi");
                }
            } else if cpu.avx512bw && cpu.avx512dq && cpu.avx512vl {
                hwcap |= HWCAP_NAMES[1].0;
            }
        }
        if special.is_none() && cpu.avx2 && cpu.fma && cpu.bmi1 && cpu.bmi2 && cpu.lzcnt && cpu.movbe && cpu.popcnt {
            special = Some(b"haswell");
        }
        if let Some(s) = special {
            platform = Some(s.to_vec());
        }
    }
    let platform_bit = match platform.as_deref() {
        Some(b"haswell") => 1 << (48 + 2),
        Some(b"xeon_phi") => 1 << (48 + 3),
        _ => u64::MAX,
    };

    let mut hwcaps_names = Vec::new();
    if cpu.v2 && cpu.v3 && cpu.v4 {
        hwcaps_names.push("x86-64-v4");
    }
    if cpu.v2 && cpu.v3 {
        hwcaps_names.push("x86-64-v3");
    }
    if cpu.v2 {
        hwcaps_names.push("x86-64-v2");
    }
    let isa_levels = 1 | (cpu.v2 as u32) << 1 | (cpu.v3 as u32) << 2 | (cpu.v4 as u32) << 3;
    SearchCaps { platform, platform_bit, hwcap, hwcap_names: &HWCAP_NAMES, isa_levels, hwcaps_names }
}

// Entry points called by relocated code with conventions Rust functions cannot meet directly,
// written by the macros below, which the modules owning the Rust functions they call invoke
// with them (`tls.rs`, `relocate.rs`).
//
// - `relink_tls_get_addr`: `__tls_get_addr` for relink-relocated code. General-dynamic code
//   sequences may call it with a misaligned stack, so it realigns before calling into Rust.
// - `relink_tlsdesc_static` / `relink_tlsdesc_dynamic`: TLS descriptor functions. They get the
//   descriptor in %rax, return the variable's offset from the thread pointer in %rax, and must
//   preserve every other register.
// - `relink_lazy_entry`: PLT0 jumps here with the object's lazy context and the relocation index
//   pushed; every argument register (vector registers included, and %rax for variadic calls)
//   must reach the bound function unchanged.
//
// The last two save the complete extended register state with XSAVE around their call into Rust
// (the `xstate_save`/`xstate_restore` macros), as glibc's resolvers do.

/// A `global_asm!` block of entry points that save the extended register state with the
/// assembler macros `relink_xstate_save` and `relink_xstate_restore`: the lines in brackets,
/// then the operands they name besides the macros' own. The block defines the macros first
/// and purges them last (the blocks of `tls_entries_asm!` and `lazy_entry_asm!` may end up in
/// one assembly file).
macro_rules! xstate_asm {
    ([$($line:literal),* $(,)?] $($operand:tt)*) => {
        std::arch::global_asm!(
            ".macro relink_xstate_save",
            "    and rsp, -64",
            "    sub rsp, qword ptr [rip + {xsave_size}]",
            // XRSTOR requires the XSAVE header (bytes 512..575) to be zero apart from what XSAVE
            // writes.
            "    xor eax, eax",
            "    mov [rsp + 512], rax",
            "    mov [rsp + 520], rax",
            "    mov [rsp + 528], rax",
            "    mov [rsp + 536], rax",
            "    mov [rsp + 544], rax",
            "    mov [rsp + 552], rax",
            "    mov [rsp + 560], rax",
            "    mov [rsp + 568], rax",
            "    mov eax, {rfbm_lo}",
            "    mov edx, -1",
            // XSAVEC where the CPU has it: components in their initial state (the upper halves of
            // vector registers, usually) are not written, as glibc's resolvers do.
            "    cmp byte ptr [rip + {xsavec}], 0",
            "    je 3f",
            "    xsavec [rsp]",
            "    jmp 4f",
            "3:  xsave [rsp]",
            "4:",
            ".endm",
            ".macro relink_xstate_restore",
            "    mov eax, {rfbm_lo}",
            "    mov edx, -1",
            "    xrstor [rsp]",
            ".endm",
            "",
            $($line,)*
            ".purgem relink_xstate_save",
            ".purgem relink_xstate_restore",
            $($operand)*
            xsave_size = sym $crate::arch::XSAVE_SIZE,
            xsavec = sym $crate::arch::XSAVEC,
            rfbm_lo = const $crate::arch::RFBM_LO,
        );
    };
}
pub(crate) use xstate_asm;

/// The TLS entry points `relink_tls_get_addr`, `relink_tlsdesc_static` and
/// `relink_tlsdesc_dynamic`, calling `get_addr` (the `__tls_get_addr` of relink's TLS) and
/// `desc_offset` (a dynamic descriptor's offset from the thread pointer).
macro_rules! tls_entries_asm {
    (get_addr = $get_addr:path, desc_offset = $desc_offset:path $(,)?) => {
        $crate::arch::xstate_asm!(
            [
                ".pushsection .text.relink_tls_get_addr, \"ax\", @progbits",
                ".p2align 4",
                ".globl relink_tls_get_addr",
                ".hidden relink_tls_get_addr",
                ".type relink_tls_get_addr, @function",
                "relink_tls_get_addr:",
                "    endbr64",
                "    push rbp",
                "    mov rbp, rsp",
                "    and rsp, -16",
                "    call {get_addr}",
                "    mov rsp, rbp",
                "    pop rbp",
                "    ret",
                ".size relink_tls_get_addr, . - relink_tls_get_addr",
                ".popsection",
                "",
                ".pushsection .text.relink_tlsdesc_static, \"ax\", @progbits",
                ".p2align 4",
                ".globl relink_tlsdesc_static",
                ".hidden relink_tlsdesc_static",
                ".type relink_tlsdesc_static, @function",
                "relink_tlsdesc_static:",
                "    endbr64",
                "    mov rax, [rax + 8]",
                "    ret",
                ".size relink_tlsdesc_static, . - relink_tlsdesc_static",
                ".popsection",
                "",
                // Frame: [rbp-8] result, then rdi rsi rdx rcx r8 r9 r10 r11 down to [rbp-72].
                ".pushsection .text.relink_tlsdesc_dynamic, \"ax\", @progbits",
                ".p2align 4",
                ".globl relink_tlsdesc_dynamic",
                ".hidden relink_tlsdesc_dynamic",
                ".type relink_tlsdesc_dynamic, @function",
                "relink_tlsdesc_dynamic:",
                "    endbr64",
                "    push rbp",
                "    mov rbp, rsp",
                "    sub rsp, 8",
                "    push rdi",
                "    push rsi",
                "    push rdx",
                "    push rcx",
                "    push r8",
                "    push r9",
                "    push r10",
                "    push r11",
                "    mov r11, rax",
                "    relink_xstate_save",
                "    mov rdi, [r11 + 8]",
                "    call {desc_offset}",
                "    mov [rbp - 8], rax",
                "    relink_xstate_restore",
                "    lea rsp, [rbp - 72]",
                "    pop r11",
                "    pop r10",
                "    pop r9",
                "    pop r8",
                "    pop rcx",
                "    pop rdx",
                "    pop rsi",
                "    pop rdi",
                "    mov rax, [rbp - 8]",
                "    leave",
                "    ret",
                ".size relink_tlsdesc_dynamic, . - relink_tlsdesc_dynamic",
                ".popsection",
            ]
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
        $crate::arch::xstate_asm!(
            [
                // Entry stack: [rsp] lazy context (GOT[1]), [rsp+8] relocation index, [rsp+16]
                // return address. Frame: [rbp-8] target, then rax rdi rsi rdx rcx r8 r9 r10 down
                // to [rbp-72].
                ".pushsection .text.relink_lazy_entry, \"ax\", @progbits",
                ".p2align 4",
                ".globl relink_lazy_entry",
                ".hidden relink_lazy_entry",
                ".type relink_lazy_entry, @function",
                "relink_lazy_entry:",
                "    endbr64",
                "    push rbp",
                "    mov rbp, rsp",
                "    sub rsp, 8",
                "    push rax",
                "    push rdi",
                "    push rsi",
                "    push rdx",
                "    push rcx",
                "    push r8",
                "    push r9",
                "    push r10",
                "    relink_xstate_save",
                "    mov rdi, [rbp + 8]",
                "    mov rsi, [rbp + 16]",
                "    call {fixup}",
                "    mov [rbp - 8], rax",
                "    relink_xstate_restore",
                "    lea rsp, [rbp - 72]",
                "    pop r10",
                "    pop r9",
                "    pop r8",
                "    pop rcx",
                "    pop rdx",
                "    pop rsi",
                "    pop rdi",
                "    pop rax",
                "    mov r11, [rbp - 8]",
                "    leave",
                "    add rsp, 16",
                "    jmp r11",
                ".size relink_lazy_entry, . - relink_lazy_entry",
                ".popsection",
            ]
            fixup = sym $fixup,
        );
    };
}
pub(crate) use lazy_entry_asm;

/// The state components saved: all but AMX tile configuration and data (17, 18), which glibc
/// leaves out too (argument registers never live there, and they are large).
pub(crate) const RFBM_LO: u32 = !(0b11 << 17);

/// Stack the trampolines reserve for XSAVE, a multiple of 64: what CPUID says the enabled state
/// components need (about 2.7 KiB with AVX-512), set by [`init`]. Until then, a size that covers
/// every component, AMX tile data included.
pub(crate) static XSAVE_SIZE: AtomicUsize = AtomicUsize::new(16384);

/// Whether the trampolines save with XSAVEC (compacted, skipping components in their initial
/// state; XRSTOR reads either form). Its area is never larger than XSAVE's.
pub(crate) static XSAVEC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether the trampolines can run here (XSAVE enabled by the OS).
static XSAVE_OK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Nothing to do before the first object is relocated: the trampolines' XSAVE area is sized the
/// first time [`trampolines_supported`] is asked (which may execute CPUID, which an open that
/// uses no trampoline does not need).
pub fn init() {}

/// Size the XSAVE area for this CPU. Keeping it small matters: the lazy-binding trampoline runs
/// on the caller's stack, which may be a small thread stack.
fn size_xsave() {
    use std::arch::x86_64::{__cpuid_count, _xgetbv};
    let osxsave = glibc_leaf(0)[2] & (1 << 27) != 0;
    if leaf0().0 < 0xd || !osxsave {
        return;
    }
    // SAFETY: OSXSAVE is set, so XGETBV is enabled.
    let all = unsafe { _xgetbv(0) };
    let xcr0 = all & RFBM_LO as u64;
    // Leaf 0xD, subleaf 1 as glibc read it (its index 3): EAX bit 1 is XSAVEC, EBX the size of
    // the compacted area of every component XCR0 (and IA32_XSS) enables, which a subset of them
    // never exceeds.
    let [eax_d1, ebx_d1, ..] = glibc_leaf(3);
    let xsavec = eax_d1 & 2 != 0;
    let size = if all != xcr0 {
        // Components left out (AMX) are enabled: the size is worked out component by component
        // (standard offsets, which the compacted form never exceeds either).
        let mut size = 576;
        for i in 2..32 {
            if xcr0 & (1 << i) != 0 {
                let c = __cpuid_count(0xd, i);
                size = size.max(c.ebx as usize + c.eax as usize);
            }
        }
        size
    } else if xsavec && ebx_d1 >= 576 {
        ebx_d1 as usize
    } else {
        // EBX of subleaf 0: the standard area of every component XCR0 enables.
        __cpuid_count(0xd, 0).ebx as usize
    };
    if size <= 16384 {
        XSAVEC.store(xsavec, Ordering::Relaxed);
        XSAVE_SIZE.store((size + 63) & !63, Ordering::Relaxed);
        XSAVE_OK.store(true, Ordering::Relaxed);
    }
}

/// Whether lazy binding and dynamic TLS descriptors, whose trampolines save the extended
/// register state with XSAVE, are available on this machine.
pub fn trampolines_supported() -> bool {
    // Sizing gives the same answer every time: threads that race here all do it, and no lock
    // is held that a fork could leave taken.
    static SIZED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !SIZED.load(Ordering::Acquire) {
        size_xsave();
        SIZED.store(true, Ordering::Release);
    }
    XSAVE_OK.load(Ordering::Relaxed)
}

extern "C" {
    fn relink_tls_get_addr();
}

/// Address of relink's `__tls_get_addr`, bound for relink-relocated code: the entry point of
/// `tls_entries_asm!`.
pub fn tls_get_addr_entry() -> Option<usize> {
    Some(relink_tls_get_addr as *const () as usize)
}

/// Whether a PLT call to a symbol with this `st_other` must be bound at load: never (the
/// trampoline preserves the whole extended state).
pub fn binds_at_load(_st_other: u8) -> bool {
    false
}

/// The pieces of an exported entry point that hands its return address on (`with_caller!`,
/// and the interposer's in `preload/`): `entry_asm!(pad)` the landing pad,
/// `entry_asm!(caller N)` the copy of the return address into integer argument register N (0
/// for none), `entry_asm!(jump)` the tail jump to operand `{t}`, and
/// `entry_asm!(version "GLIBC_x")` the symbol version glibc gives this machine for a function
/// that came with `GLIBC_x`.
#[doc(hidden)]
#[macro_export]
macro_rules! entry_asm {
    (pad) => { "endbr64" };
    (caller 0) => { "" };
    (caller 2) => { "mov rdx, [rsp]" };
    (caller 3) => { "mov rcx, [rsp]" };
    (caller 5) => { "mov r9, [rsp]" };
    (jump) => { "jmp {t}" };
    (version "GLIBC_2.1") => { "GLIBC_2.2.5" };
    (version "GLIBC_2.2.4") => { "GLIBC_2.2.5" };
    (version $v:literal) => { $v };
}

#[cfg(test)]
mod tests {
    /// glibc's record of leaf 0 is found and says what the CPU says.
    #[test]
    fn glibc_cpu_record_is_read() {
        assert_eq!(super::glibc_basic(), Some(super::cpuid_leaf0()));
    }

    /// The trampolines' area, sized from glibc's cached leaves, holds what XSAVEC (or XSAVE)
    /// writes for the components they save, as CPUID tells component by component.
    #[test]
    fn xsave_area_is_large_enough() {
        use super::*;
        use std::arch::x86_64::{__cpuid_count, _xgetbv};
        assert!(trampolines_supported(), "this machine has XSAVE");
        let size = XSAVE_SIZE.load(Ordering::Relaxed);
        // SAFETY: XSAVE is in use (above), so XGETBV is enabled.
        let rfbm = unsafe { _xgetbv(0) } & RFBM_LO as u64;
        let (mut compacted, mut standard) = (576, 576);
        for i in 2..32 {
            if rfbm & (1 << i) != 0 {
                let c = __cpuid_count(0xd, i);
                if c.ecx & 2 != 0 {
                    compacted = (compacted + 63) & !63;
                }
                compacted += c.eax as usize;
                standard = standard.max(c.ebx as usize + c.eax as usize);
            }
        }
        let needed = if XSAVEC.load(Ordering::Relaxed) { compacted } else { standard };
        assert!(size >= needed, "{size} bytes for {needed}");
    }
}
