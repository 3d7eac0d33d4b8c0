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
use elf::abi;

pub const ELF_MACHINE: u16 = abi::EM_X86_64;
pub const NAME: &str = "x86_64";
/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = abi::R_X86_64_RELATIVE;

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
pub fn type_name(r_type: u32) -> String {
    let n = match r_type {
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
        _ => return format!("relocation type {r_type}"),
    };
    n.to_string()
}

/// The thread pointer of the calling thread (%fs:0 holds its own address).
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on x86-64 Linux %fs:0 always holds the TCB's self pointer; reading it has no effect.
    unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
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

#[allow(unused_unsafe)]
pub fn cpu_info() -> CpuInfo {
    use core::arch::x86_64::{__cpuid, __cpuid_count, _xgetbv};
    let bit = |reg: u32, n: u32| reg & (1 << n) != 0;

    // SAFETY: cpuid is available on every x86_64 CPU.
    let l0 = unsafe { __cpuid(0) };
    let intel = &l0.ebx.to_le_bytes() == b"Genu"
        && &l0.edx.to_le_bytes() == b"ineI"
        && &l0.ecx.to_le_bytes() == b"ntel";
    // SAFETY: as above.
    let ecx1 = unsafe { __cpuid(1) }.ecx;
    let ebx7 = if l0.eax >= 7 {
        // SAFETY: as above; leaf 7 exists.
        unsafe { __cpuid_count(7, 0) }.ebx
    } else {
        0
    };
    // SAFETY: as above.
    let ext_max = unsafe { __cpuid(0x8000_0000) }.eax;
    let ecx81 = if ext_max >= 0x8000_0001 {
        // SAFETY: as above; the extended leaf exists.
        unsafe { __cpuid(0x8000_0001) }.ecx
    } else {
        0
    };

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
