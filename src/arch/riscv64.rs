//! RISC-V 64 (RV64GC, lp64d: "RISC-V ELF psABI", chapter "ELF Object Files", and the Linux
//! calling convention).
//!
//! The psABI's relocation tables (dynamic and object-file types), the machine's constants,
//! its TLS layout constants and the object-file side of the link stage are pure data and
//! arithmetic: they are in relink-core's `arch::riscv64`, re-exported here. This file holds
//! what touches the running process.
//!
//! TLS is variant I: `tp` points just past the thread control block, and the first static
//! block starts at `tp` itself (glibc's TCB sits below the thread pointer, so the offset of
//! the first block is 0). `tls_index` offsets and DTPREL values are biased by -0x800 (the DTV
//! offset) so that a 12-bit signed immediate reaches more of a block; `__tls_get_addr` adds
//! it back.
//!
//! Lazy binding: PLT entry n loads its `.got.plt` slot and jumps with `jalr t1, t3`, so t1 is
//! the address after that jump; the slot first holds the address of PLT0, which computes from
//! t1 the byte offset of the slot from the first one (`8 n`) into t1, loads `.got.plt[1]`
//! (the loader's word for the object) into t0 and jumps to `.got.plt[0]`. The trampoline must
//! keep a0–a7, fa0–fa7 and ra for the bound function; t0–t2 are free.

use super::SearchCaps;

pub use relink_core::arch::riscv64::*;

/// The thread pointer of the calling thread (the `tp` register).
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: reading the tp register has no effect.
    unsafe { std::arch::asm!("mv {}, tp", out(reg) tp, options(nomem, nostack, preserves_flags)) };
    tp
}

/// Call an IFUNC resolver the way glibc does on RISC-V: with the `AT_HWCAP` word first. Later
/// glibc versions pass a pointer to `__riscv_hwprobe` second and a reserved null third; relink
/// passes nulls for both (resolvers must check the pointer before use).
///
/// # Safety
/// `resolver` must be the address of an IFUNC resolver whose object is relocated.
pub unsafe fn call_ifunc(resolver: usize) -> usize {
    // SAFETY: guaranteed by the caller.
    let f: extern "C" fn(u64, usize, usize) -> usize = unsafe { std::mem::transmute(resolver) };
    f(crate::os::auxv(libc::AT_HWCAP) as u64, 0, 0)
}

/// CPU features that pick library directories: none on RISC-V (glibc 2.36 defines neither
/// `glibc-hwcaps` subdirectories nor legacy hwcap names for it).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuInfo {}

pub fn cpu_info() -> CpuInfo {
    CpuInfo {}
}

/// Debian's multiarch directory name (`$LIB` is `lib/` and this), as a literal for `concat!`.
macro_rules! multiarch {
    () => {
        "riscv64-linux-gnu"
    };
}
pub(crate) use multiarch;

/// `FLAG_ELF_LIBC6 | FLAG_RISCV_FLOAT_ABI_DOUBLE`: the only `/etc/ld.so.cache` entry flags the
/// lp64d loader accepts.
pub const CACHE_FLAGS: u32 = 0x0003 | 0x1000;

/// The capability parts of the library search: only `$PLATFORM`, when the kernel gives one.
pub fn search_caps(_cpu: &CpuInfo, auxv_platform: Option<Vec<u8>>) -> SearchCaps {
    SearchCaps {
        platform: auxv_platform,
        platform_bit: u64::MAX,
        hwcap: 0,
        hwcap_names: &[],
        isa_levels: 1,
        hwcaps_names: Vec::new(),
    }
}

// Entry points called by relocated code with conventions Rust functions cannot meet directly,
// written by the macros below, which the modules owning the Rust functions they call invoke
// with them (`tls.rs`, `relocate.rs`).
//
// - `relink_tlsdesc_static` / `relink_tlsdesc_dynamic`: TLS descriptor functions. The caller
//   (`jalr t0, 0(a1)`) passes the descriptor in a0 and its return address in t0; they return
//   the variable's offset from the thread pointer in a0 and must preserve every other
//   register, ra and the floating-point registers included.
// - `relink_lazy_entry`: PLT0 jumps here with the object's lazy context in t0 and the byte
//   offset of the PLT slot (8 × the relocation index) in t1; a0–a7, fa0–fa7 and ra must reach
//   the bound function unchanged.
//
// The vector registers are not saved: the standard calling convention passes no arguments in
// them (functions that do are marked with DT_RISCV_VARIANT_CC and must be bound at load).
//
// Module-level assembly is assembled without the target's extensions, hence `.option arch`.

/// The TLS descriptor functions `relink_tlsdesc_static` and `relink_tlsdesc_dynamic`, calling
/// `desc_offset` (a dynamic descriptor's offset from the thread pointer). `get_addr` needs no
/// entry point here (see `tls_get_addr_entry`).
macro_rules! tls_entries_asm {
    (get_addr = $get_addr:path, desc_offset = $desc_offset:path $(,)?) => {
        std::arch::global_asm!(
            ".option push",
            ".option arch, +d",
            ".globl relink_tlsdesc_static",
            ".hidden relink_tlsdesc_static",
            ".type relink_tlsdesc_static, @function",
            "relink_tlsdesc_static:",
            "    ld a0, 8(a0)",
            "    jr t0",
            ".size relink_tlsdesc_static, . - relink_tlsdesc_static",
            "",
            // Frame (272 bytes): ra, t1-t6, a1-a7 at 0..112, ft0-ft11 and fa0-fa7 at 112..272.
            ".globl relink_tlsdesc_dynamic",
            ".hidden relink_tlsdesc_dynamic",
            ".type relink_tlsdesc_dynamic, @function",
            "relink_tlsdesc_dynamic:",
            "    addi sp, sp, -272",
            "    sd ra, 0(sp)",
            "    sd t1, 8(sp)",
            "    sd t2, 16(sp)",
            "    sd t3, 24(sp)",
            "    sd t4, 32(sp)",
            "    sd t5, 40(sp)",
            "    sd t6, 48(sp)",
            "    sd a1, 56(sp)",
            "    sd a2, 64(sp)",
            "    sd a3, 72(sp)",
            "    sd a4, 80(sp)",
            "    sd a5, 88(sp)",
            "    sd a6, 96(sp)",
            "    sd a7, 104(sp)",
            "    fsd ft0, 112(sp)",
            "    fsd ft1, 120(sp)",
            "    fsd ft2, 128(sp)",
            "    fsd ft3, 136(sp)",
            "    fsd ft4, 144(sp)",
            "    fsd ft5, 152(sp)",
            "    fsd ft6, 160(sp)",
            "    fsd ft7, 168(sp)",
            "    fsd ft8, 176(sp)",
            "    fsd ft9, 184(sp)",
            "    fsd ft10, 192(sp)",
            "    fsd ft11, 200(sp)",
            "    fsd fa0, 208(sp)",
            "    fsd fa1, 216(sp)",
            "    fsd fa2, 224(sp)",
            "    fsd fa3, 232(sp)",
            "    fsd fa4, 240(sp)",
            "    fsd fa5, 248(sp)",
            "    fsd fa6, 256(sp)",
            "    fsd fa7, 264(sp)",
            "    ld a0, 8(a0)",
            "    call {desc_offset}",
            "    ld ra, 0(sp)",
            "    ld t1, 8(sp)",
            "    ld t2, 16(sp)",
            "    ld t3, 24(sp)",
            "    ld t4, 32(sp)",
            "    ld t5, 40(sp)",
            "    ld t6, 48(sp)",
            "    ld a1, 56(sp)",
            "    ld a2, 64(sp)",
            "    ld a3, 72(sp)",
            "    ld a4, 80(sp)",
            "    ld a5, 88(sp)",
            "    ld a6, 96(sp)",
            "    ld a7, 104(sp)",
            "    fld ft0, 112(sp)",
            "    fld ft1, 120(sp)",
            "    fld ft2, 128(sp)",
            "    fld ft3, 136(sp)",
            "    fld ft4, 144(sp)",
            "    fld ft5, 152(sp)",
            "    fld ft6, 160(sp)",
            "    fld ft7, 168(sp)",
            "    fld ft8, 176(sp)",
            "    fld ft9, 184(sp)",
            "    fld ft10, 192(sp)",
            "    fld ft11, 200(sp)",
            "    fld fa0, 208(sp)",
            "    fld fa1, 216(sp)",
            "    fld fa2, 224(sp)",
            "    fld fa3, 232(sp)",
            "    fld fa4, 240(sp)",
            "    fld fa5, 248(sp)",
            "    fld fa6, 256(sp)",
            "    fld fa7, 264(sp)",
            "    addi sp, sp, 272",
            "    jr t0",
            ".size relink_tlsdesc_dynamic, . - relink_tlsdesc_dynamic",
            ".option pop",
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
            ".option push",
            ".option arch, +d",
            // Frame (144 bytes): ra, a0-a7 at 0..72, fa0-fa7 at 72..136.
            ".globl relink_lazy_entry",
            ".hidden relink_lazy_entry",
            ".type relink_lazy_entry, @function",
            "relink_lazy_entry:",
            "    addi sp, sp, -144",
            "    sd ra, 0(sp)",
            "    sd a0, 8(sp)",
            "    sd a1, 16(sp)",
            "    sd a2, 24(sp)",
            "    sd a3, 32(sp)",
            "    sd a4, 40(sp)",
            "    sd a5, 48(sp)",
            "    sd a6, 56(sp)",
            "    sd a7, 64(sp)",
            "    fsd fa0, 72(sp)",
            "    fsd fa1, 80(sp)",
            "    fsd fa2, 88(sp)",
            "    fsd fa3, 96(sp)",
            "    fsd fa4, 104(sp)",
            "    fsd fa5, 112(sp)",
            "    fsd fa6, 120(sp)",
            "    fsd fa7, 128(sp)",
            "    mv a0, t0",
            "    srli a1, t1, 3",
            "    call {fixup}",
            "    mv t1, a0",
            "    ld ra, 0(sp)",
            "    ld a0, 8(sp)",
            "    ld a1, 16(sp)",
            "    ld a2, 24(sp)",
            "    ld a3, 32(sp)",
            "    ld a4, 40(sp)",
            "    ld a5, 48(sp)",
            "    ld a6, 56(sp)",
            "    ld a7, 64(sp)",
            "    fld fa0, 72(sp)",
            "    fld fa1, 80(sp)",
            "    fld fa2, 88(sp)",
            "    fld fa3, 96(sp)",
            "    fld fa4, 104(sp)",
            "    fld fa5, 112(sp)",
            "    fld fa6, 120(sp)",
            "    fld fa7, 128(sp)",
            "    addi sp, sp, 144",
            "    jr t1",
            ".size relink_lazy_entry, . - relink_lazy_entry",
            ".option pop",
            fixup = sym $fixup,
        );
    };
}
pub(crate) use lazy_entry_asm;

/// Nothing to size at startup: the trampolines save a fixed set of registers.
pub fn init() {}

/// Lazy binding and dynamic TLS descriptors are always available.
pub fn trampolines_supported() -> bool {
    true
}

/// Address of relink's `__tls_get_addr` entry point for relink-relocated code: none. The
/// RISC-V calling convention keeps the stack aligned at calls, so the Rust function is bound
/// itself.
pub fn tls_get_addr_entry() -> Option<usize> {
    None
}

/// `STO_RISCV_VARIANT_CC`: the function takes arguments in vector registers (the vector calling
/// convention; its object has `DT_RISCV_VARIANT_CC`), which the trampoline does not preserve.
const STO_RISCV_VARIANT_CC: u8 = 0x80;

/// Whether a PLT call to a symbol with this `st_other` must be bound at load (as glibc does for
/// variant calling convention symbols).
pub fn binds_at_load(st_other: u8) -> bool {
    st_other & STO_RISCV_VARIANT_CC != 0
}

/// The pieces of an exported entry point that hands its return address on (see the x86_64
/// file): no landing pad, the return address is in ra, and the tail call may be out of `jal`
/// range. Versions older than glibc's first on RISC-V are that one.
#[doc(hidden)]
#[macro_export]
macro_rules! entry_asm {
    (pad) => { "" };
    (caller 0) => { "" };
    (caller 2) => { "mv a2, ra" };
    (caller 3) => { "mv a3, ra" };
    (caller 5) => { "mv a5, ra" };
    (jump) => { "tail {t}" };
    (version "GLIBC_2.1") => { "GLIBC_2.27" };
    (version "GLIBC_2.2.4") => { "GLIBC_2.27" };
    (version "GLIBC_2.2.5") => { "GLIBC_2.27" };
    (version "GLIBC_2.3.3") => { "GLIBC_2.27" };
    (version "GLIBC_2.3.4") => { "GLIBC_2.27" };
    (version $v:literal) => { $v };
}
