//! x86-64 (System V psABI, "AMD64 Architecture Processor Supplement", chapter 4.4).
//!
//! Relocations in shared objects are RELA. The psABI's table, with S the symbol value, A the
//! addend, B the base (load bias) and P the place:
//!
//! | type            | field  | calculation   |
//! |-----------------|--------|---------------|
//! | 1  64           | word64 | S + A         |
//! | 2  PC32         | word32 | S + A - P     |
//! | 6  GLOB_DAT     | word64 | S             |
//! | 7  JUMP_SLOT    | word64 | S             |
//! | 8  RELATIVE     | word64 | B + A         |
//! | 10 32           | word32 | S + A         |
//! | 11 32S          | word32 | S + A         |
//! | 16 DTPMOD64     | word64 | module id     |
//! | 17 DTPOFF64     | word64 | S + A (in its TLS block) |
//! | 18 TPOFF64      | word64 | S + A - TP-relative block offset |
//! | 36 TLSDESC      | 2×word64 | descriptor  |
//! | 37 IRELATIVE    | word64 | indirect (B + A) |
//!
//! The thread pointer is %fs:0 and the TLS blocks of static modules sit below it (variant II).

use super::Kind;
use std::sync::atomic::{AtomicUsize, Ordering};
use elf::abi;

pub const ELF_MACHINE: u16 = abi::EM_X86_64;
pub const NAME: &str = "x86_64";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = abi::R_X86_64_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = abi::R_X86_64_TPOFF64;

/// Map a raw relocation type onto its generic kind.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        abi::R_X86_64_NONE => Kind::None,
        abi::R_X86_64_64 => Kind::Symbolic,
        abi::R_X86_64_PC32 => Kind::PcRel32,
        abi::R_X86_64_GLOB_DAT => Kind::GotEntry,
        abi::R_X86_64_JUMP_SLOT => Kind::PltSlot,
        abi::R_X86_64_RELATIVE => Kind::Relative,
        abi::R_X86_64_32 => Kind::Abs32,
        abi::R_X86_64_32S => Kind::Abs32Signed,
        abi::R_X86_64_COPY => Kind::Copy,
        abi::R_X86_64_DTPMOD64 => Kind::DtpMod,
        abi::R_X86_64_DTPOFF64 => Kind::DtpOff,
        abi::R_X86_64_TPOFF64 => Kind::TpOff,
        abi::R_X86_64_TLSDESC => Kind::TlsDesc,
        abi::R_X86_64_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        abi::R_X86_64_NONE => "R_X86_64_NONE",
        abi::R_X86_64_64 => "R_X86_64_64",
        abi::R_X86_64_PC32 => "R_X86_64_PC32",
        abi::R_X86_64_GOT32 => "R_X86_64_GOT32",
        abi::R_X86_64_PLT32 => "R_X86_64_PLT32",
        abi::R_X86_64_COPY => "R_X86_64_COPY",
        abi::R_X86_64_GLOB_DAT => "R_X86_64_GLOB_DAT",
        abi::R_X86_64_JUMP_SLOT => "R_X86_64_JUMP_SLOT",
        abi::R_X86_64_RELATIVE => "R_X86_64_RELATIVE",
        abi::R_X86_64_32 => "R_X86_64_32",
        abi::R_X86_64_32S => "R_X86_64_32S",
        abi::R_X86_64_DTPMOD64 => "R_X86_64_DTPMOD64",
        abi::R_X86_64_DTPOFF64 => "R_X86_64_DTPOFF64",
        abi::R_X86_64_TPOFF64 => "R_X86_64_TPOFF64",
        abi::R_X86_64_TLSDESC => "R_X86_64_TLSDESC",
        abi::R_X86_64_IRELATIVE => "R_X86_64_IRELATIVE",
        _ => "an unknown relocation type",
    }
}

/// The thread pointer of the calling thread (%fs:0 holds its own address).
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on x86-64 Linux %fs:0 always holds the TCB's self pointer; reading it has no effect.
    unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}

/// Whether a TLS block at `offset` from the thread pointer lies in a static TLS area of `size`
/// bytes. TLS variant II: the area is just below the thread pointer.
pub fn in_static_tls(offset: isize, size: usize) -> bool {
    offset < 0 && offset.unsigned_abs() <= size
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

/// CPUID leaf 0: (highest leaf, whether the vendor is Intel). Executed once.
fn leaf0() -> (u32, bool) {
    static LEAF0: once_cell::sync::OnceCell<(u32, bool)> = once_cell::sync::OnceCell::new();
    *LEAF0.get_or_init(|| {
        let l0 = std::arch::x86_64::__cpuid(0);
        let intel = &l0.ebx.to_le_bytes() == b"Genu" && &l0.edx.to_le_bytes() == b"ineI" && &l0.ecx.to_le_bytes() == b"ntel";
        (l0.eax, intel)
    })
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

// Entry points called by relocated code with conventions Rust functions cannot meet directly.
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
std::arch::global_asm!(
    ".macro relink_xstate_save",
    "    and rsp, -64",
    "    sub rsp, qword ptr [rip + {xsave_size}]",
    // XRSTOR requires the XSAVE header (bytes 512..575) to be zero apart from what XSAVE writes.
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
    "    xsave [rsp]",
    ".endm",
    ".macro relink_xstate_restore",
    "    mov eax, {rfbm_lo}",
    "    mov edx, -1",
    "    xrstor [rsp]",
    ".endm",
    "",
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
    "",
    ".globl relink_tlsdesc_static",
    ".hidden relink_tlsdesc_static",
    ".type relink_tlsdesc_static, @function",
    "relink_tlsdesc_static:",
    "    endbr64",
    "    mov rax, [rax + 8]",
    "    ret",
    ".size relink_tlsdesc_static, . - relink_tlsdesc_static",
    "",
    // Frame: [rbp-8] result, then rdi rsi rdx rcx r8 r9 r10 r11 down to [rbp-72].
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
    "",
    // Entry stack: [rsp] lazy context (GOT[1]), [rsp+8] relocation index, [rsp+16] return
    // address. Frame: [rbp-8] target, then rax rdi rsi rdx rcx r8 r9 r10 down to [rbp-72].
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
    get_addr = sym crate::tls::tls_get_addr,
    desc_offset = sym crate::tls::tlsdesc_offset,
    fixup = sym crate::relocate::lazy_fixup,
    xsave_size = sym XSAVE_SIZE,
    rfbm_lo = const RFBM_LO,
);

/// The state components saved: all but AMX tile configuration and data (17, 18), which glibc
/// leaves out too (argument registers never live there, and they are large).
const RFBM_LO: u32 = !(0b11 << 17);

/// Stack the trampolines reserve for XSAVE, a multiple of 64: what CPUID says the enabled state
/// components need (about 2.7 KiB with AVX-512), set by [`init`]. Until then, a size that covers
/// every component, AMX tile data included.
static XSAVE_SIZE: AtomicUsize = AtomicUsize::new(16384);

/// Whether the trampolines can run here (XSAVE enabled by the OS).
static XSAVE_OK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Size the XSAVE area for this CPU (before any object is relocated). Keeping it small matters:
/// the lazy-binding trampoline runs on the caller's stack, which may be a small thread stack.
pub fn init() {
    use std::arch::x86_64::{__cpuid_count, _xgetbv};
    let osxsave = glibc_leaf(0)[2] & (1 << 27) != 0;
    if leaf0().0 < 0xd || !osxsave {
        return;
    }
    // SAFETY: OSXSAVE is set, so XGETBV is enabled.
    let all = unsafe { _xgetbv(0) };
    let xcr0 = all & RFBM_LO as u64;
    // EBX of leaf 0xD is the size for every component XCR0 enables; only when that includes the
    // components left out (AMX) is the size worked out component by component.
    let mut size = __cpuid_count(0xd, 0).ebx as usize;
    if all != xcr0 {
        size = 576;
        for i in 2..32 {
            if xcr0 & (1 << i) != 0 {
                let c = __cpuid_count(0xd, i);
                size = size.max(c.ebx as usize + c.eax as usize);
            }
        }
    }
    if size <= 16384 {
        XSAVE_SIZE.store((size + 63) & !63, Ordering::Relaxed);
        XSAVE_OK.store(true, Ordering::Relaxed);
    }
}

/// Whether lazy binding and dynamic TLS descriptors, whose trampolines save the extended
/// register state with XSAVE, are available on this machine.
pub fn trampolines_supported() -> bool {
    XSAVE_OK.load(Ordering::Relaxed)
}

extern "C" {
    fn relink_lazy_entry();
    fn relink_tls_get_addr();
    fn relink_tlsdesc_static();
    fn relink_tlsdesc_dynamic();
}

/// Address of relink's `__tls_get_addr`, bound for relink-relocated code.
pub fn tls_get_addr_entry() -> usize {
    relink_tls_get_addr as *const () as usize
}

/// TLS descriptor functions: (static, dynamic).
pub fn tlsdesc_entries() -> (usize, usize) {
    (relink_tlsdesc_static as *const () as usize, relink_tlsdesc_dynamic as *const () as usize)
}

/// GOT words reserved for lazy binding: PLT0 pushes GOT[1] (relink's context for the object)
/// and jumps to GOT[2] (the trampoline).
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 2;

/// The lazy-binding trampoline PLT0 jumps to (GOT[2]).
pub fn lazy_entry() -> usize {
    relink_lazy_entry as *const () as usize
}

/// The body of an exported function that needs to know who called it (as glibc's dlsym and
/// dlopen take their caller from the return address): used as the only statement of a naked
/// function taking `$args` integer arguments, it loads the function's own return address into
/// the next argument register and tail-jumps to `$target`, which takes the same arguments and
/// that address last, and returns straight to the caller.
macro_rules! with_caller {
    ($target:path, 2) => {
        core::arch::naked_asm!("endbr64", "mov rdx, [rsp]", "jmp {t}", t = sym $target)
    };
    ($target:path, 3) => {
        core::arch::naked_asm!("endbr64", "mov rcx, [rsp]", "jmp {t}", t = sym $target)
    };
    ($target:path, 5) => {
        core::arch::naked_asm!("endbr64", "mov r9, [rsp]", "jmp {t}", t = sym $target)
    };
}
pub(crate) use with_caller;
