//! i386 (System V psABI, "Intel386 Architecture Processor Supplement", and the TLS and TLS
//! descriptor extensions), ELF32, as i686 Linux runs it.
//!
//! Relocations in shared objects are REL: the addend is the word at the place (the second word
//! of a TLS descriptor). The psABI's table, with S the symbol value, A the addend, B the base
//! (load bias), P the place and TP the thread pointer:
//!
//! | type              | field  | calculation   |
//! |-------------------|--------|---------------|
//! | 1  32             | word32 | S + A         |
//! | 2  PC32           | word32 | S + A - P     |
//! | 5  COPY           |        | (executables) |
//! | 6  GLOB_DAT       | word32 | S             |
//! | 7  JUMP_SLOT      | word32 | S             |
//! | 8  RELATIVE       | word32 | B + A         |
//! | 14 TLS_TPOFF      | word32 | S + A - TP-relative block offset (negative) |
//! | 35 TLS_DTPMOD32   | word32 | module id     |
//! | 36 TLS_DTPOFF32   | word32 | S + A (in its TLS block) |
//! | 37 TLS_TPOFF32    | word32 | A - (TP-relative offset of S) (positive) |
//! | 41 TLS_DESC       | 2×word32 | descriptor  |
//! | 42 IRELATIVE      | word32 | indirect (B + A) |
//!
//! The thread pointer is %gs:0 and the TLS blocks of static modules sit below it (variant II).
//! Functions take their arguments on the stack (cdecl); the PLT pushes the byte offset of its
//! relocation in `.rel.plt`.

use super::{Calc, Field, Kind, RuntimeFn, SearchCaps};
use elf::abi;

pub const ELF_MACHINE: u16 = abi::EM_386;
/// The first symbol version of glibc on this machine.
pub const GLIBC_BASE: &str = "GLIBC_2.0";
/// `e_flags` of the objects relink makes (none are defined on i386).
pub const ELF_FLAGS: u32 = 0;
/// Why a file's `e_flags` keep the system loader from running it here: never on i386.
pub fn flags_mismatch(_e_flags: u32) -> Option<&'static str> {
    None
}

pub const NAME: &str = "i386";

const R_386_NONE: u32 = 0;
const R_386_32: u32 = 1;
const R_386_PC32: u32 = 2;
const R_386_GOT32: u32 = 3;
const R_386_PLT32: u32 = 4;
const R_386_COPY: u32 = 5;
const R_386_GLOB_DAT: u32 = 6;
const R_386_JMP_SLOT: u32 = 7;
const R_386_RELATIVE: u32 = 8;
const R_386_GOTOFF: u32 = 9;
const R_386_GOTPC: u32 = 10;
const R_386_TLS_TPOFF: u32 = 14;
const R_386_TLS_IE: u32 = 15;
const R_386_TLS_GOTIE: u32 = 16;
const R_386_TLS_LE: u32 = 17;
const R_386_TLS_GD: u32 = 18;
const R_386_TLS_LDM: u32 = 19;
const R_386_16: u32 = 20;
const R_386_PC16: u32 = 21;
const R_386_8: u32 = 22;
const R_386_PC8: u32 = 23;
const R_386_TLS_LDO_32: u32 = 32;
const R_386_TLS_IE_32: u32 = 33;
const R_386_TLS_LE_32: u32 = 34;
const R_386_TLS_DTPMOD32: u32 = 35;
const R_386_TLS_DTPOFF32: u32 = 36;
const R_386_TLS_TPOFF32: u32 = 37;
const R_386_SIZE32: u32 = 38;
const R_386_TLS_GOTDESC: u32 = 39;
const R_386_TLS_DESC_CALL: u32 = 40;
const R_386_TLS_DESC: u32 = 41;
const R_386_IRELATIVE: u32 = 42;
const R_386_GOT32X: u32 = 43;

/// The type of a RELATIVE relocation, for the fast path.
pub const RELATIVE: u32 = R_386_RELATIVE;
/// The type of a TPOFF relocation (offset from the thread pointer), for static TLS blocks.
pub const TPOFF: u32 = R_386_TLS_TPOFF;
/// REL tables are what i386 objects have (glibc loads RELA ones too).
pub const ACCEPTS_REL: bool = true;

/// Map a raw relocation type onto its generic kind. `R_386_32` fills a whole word: it is the
/// symbolic word relocation here.
pub fn classify(r_type: u32) -> Kind {
    match r_type {
        R_386_NONE => Kind::None,
        R_386_32 => Kind::Symbolic,
        R_386_PC32 => Kind::PcRel32,
        R_386_GLOB_DAT => Kind::GotEntry,
        R_386_JMP_SLOT => Kind::PltSlot,
        R_386_RELATIVE => Kind::Relative,
        R_386_COPY => Kind::Copy,
        R_386_TLS_DTPMOD32 => Kind::DtpMod,
        R_386_TLS_DTPOFF32 => Kind::DtpOff,
        R_386_TLS_TPOFF => Kind::TpOff,
        R_386_TLS_TPOFF32 => Kind::TpOffNeg,
        R_386_TLS_DESC => Kind::TlsDesc,
        R_386_IRELATIVE => Kind::Irelative,
        _ => Kind::Unknown,
    }
}

/// The psABI name of a relocation type, for messages.
pub fn type_name(r_type: u32) -> &'static str {
    match r_type {
        R_386_NONE => "R_386_NONE",
        R_386_32 => "R_386_32",
        R_386_PC32 => "R_386_PC32",
        R_386_GOT32 => "R_386_GOT32",
        R_386_PLT32 => "R_386_PLT32",
        R_386_COPY => "R_386_COPY",
        R_386_GLOB_DAT => "R_386_GLOB_DAT",
        R_386_JMP_SLOT => "R_386_JMP_SLOT",
        R_386_RELATIVE => "R_386_RELATIVE",
        R_386_GOTOFF => "R_386_GOTOFF",
        R_386_GOTPC => "R_386_GOTPC",
        R_386_TLS_TPOFF => "R_386_TLS_TPOFF",
        R_386_TLS_IE => "R_386_TLS_IE",
        R_386_TLS_GOTIE => "R_386_TLS_GOTIE",
        R_386_TLS_LE => "R_386_TLS_LE",
        R_386_TLS_GD => "R_386_TLS_GD",
        R_386_TLS_LDM => "R_386_TLS_LDM",
        R_386_16 => "R_386_16",
        R_386_PC16 => "R_386_PC16",
        R_386_8 => "R_386_8",
        R_386_PC8 => "R_386_PC8",
        R_386_TLS_LDO_32 => "R_386_TLS_LDO_32",
        R_386_TLS_IE_32 => "R_386_TLS_IE_32",
        R_386_TLS_LE_32 => "R_386_TLS_LE_32",
        R_386_TLS_DTPMOD32 => "R_386_TLS_DTPMOD32",
        R_386_TLS_DTPOFF32 => "R_386_TLS_DTPOFF32",
        R_386_TLS_TPOFF32 => "R_386_TLS_TPOFF32",
        R_386_SIZE32 => "R_386_SIZE32",
        R_386_TLS_GOTDESC => "R_386_TLS_GOTDESC",
        R_386_TLS_DESC_CALL => "R_386_TLS_DESC_CALL",
        R_386_TLS_DESC => "R_386_TLS_DESC",
        R_386_IRELATIVE => "R_386_IRELATIVE",
        R_386_GOT32X => "R_386_GOT32X",
        _ => "an unknown relocation type",
    }
}

/// The thread pointer of the calling thread (%gs:0 holds its own address).
#[inline]
pub fn thread_pointer() -> usize {
    let tp: usize;
    // SAFETY: on i386 Linux %gs:0 always holds the TCB's self pointer; reading it has no effect.
    unsafe { std::arch::asm!("mov {}, gs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    tp
}

/// TLS variant II: the static blocks end at the thread pointer.
pub const TLS_VARIANT: super::TlsVariant = super::TlsVariant::II;
/// No thread control block precedes the blocks (variant II keeps it above the thread pointer).
pub const TCB_SIZE: usize = 0;
/// `DTPOFF` values are plain offsets into the block.
pub const DTV_OFFSET: u64 = 0;

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

/// GOT words reserved for lazy binding: PLT0 pushes GOT[1] (relink's context for the object)
/// and jumps to GOT[2] (the trampoline).
pub const LAZY_GOT_CONTEXT: usize = 1;
pub const LAZY_GOT_ENTRY: usize = 2;
/// The trampoline hands on what the PLT pushed: the byte offset of the relocation.
pub const LAZY_ARG_IS_OFFSET: bool = true;

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

// -------------------------------------------------------------------------------------------
// Relocatable objects: not linked on i386 (`src/link/` is ELF64 only). The items below keep
// the link stage compiling; a `.o` or `.a` input is refused before any of them is used.

/// Relocatable objects are refused on this machine.
pub const OBJECT_LINKING: bool = false;

/// No object relocation is known.
pub fn object_reloc(_r_type: u32) -> (Calc, Field) {
    (Calc::Unknown, Field::None)
}

/// No i386 relocation writes into an instruction's encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InsnField {}

/// Never called: there is no [`InsnField`].
pub fn insn_size(field: InsnField) -> usize {
    match field {}
}

/// Never called: there is no [`InsnField`].
pub fn write_insn(field: InsnField, _place: &mut [u8], _v: i64, _at: u64) -> bool {
    match field {}
}

/// Dynamic relocation types the linker would emit (unused: objects are refused).
pub mod dynrel {
    pub const ABS64: u32 = 0;
    pub const PC32: u32 = 0;
    pub const ABS32: u32 = 0;
    pub const ABS32S: u32 = 0;
    pub const GLOB_DAT: u32 = 0;
    pub const IRELATIVE: u32 = 0;
    pub const DTPMOD64: u32 = 0;
    pub const DTPOFF64: u32 = 0;
    pub const TPOFF64: u32 = 0;
    pub const TLSDESC: u32 = 0;
}

pub const STUB_SIZE: usize = 16;

/// Never called (objects are refused).
pub fn call_stub(_stub: u64, _slot: u64) -> [u8; STUB_SIZE] {
    [0xcc; STUB_SIZE]
}

/// Never called (objects are refused).
pub fn relax_got_load(_code: &mut [u8], _at: usize) -> bool {
    false
}

pub const INIT_PROLOGUE: &[u8] = &[];
pub const INIT_EPILOGUE: &[u8] = &[0xc3];
pub const CODE_FILL: u8 = 0x90;
pub const RUNTIME_FNS: &[RuntimeFn] = &[];
