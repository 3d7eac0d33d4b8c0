//! relink-core: the part of relink that does not touch the operating system.
//!
//! Everything here is plain computation over bytes the caller hands in: no system calls, no
//! libc, no `std` (only `core` and `alloc`), so that the same code serves relink's runtime on
//! Linux, a kernel loading modules, firmware, and tests that load into a buffer. The `relink`
//! crate (std + libc) keeps the seam to the operating system (files, `mmap`/`mprotect`, the
//! auxiliary vector, threads), the view of the host's objects, the registry, the TLS runtime,
//! hooks and the C ABI, and is built on this crate.
//!
//! What belongs here — anything that is a function of an ELF image and the caller's answers:
//!
//! | module | contents | state |
//! |---|---|---|
//! | [`mem`] | the [`Memory`](mem::Memory) trait (reserve a span, map or copy image bytes into it, protect ranges), the [`Resolver`](mem::Resolver) trait (symbols by name and version), and [`mem::Buffer`], a span inside caller-provided bytes | here |
//! | [`arch`] | one model of a relocation for every machine: a dynamic relocation's generic kind ([`arch::Kind`]) and its arithmetic ([`arch::dynamic`]: S + A, B + A, S + A − P and the range of a 32-bit field, the TLS words), an object relocation's calculation and field ([`arch::Calc`], [`arch::Field`]), range and bit helpers; and one file per architecture, compiled on every host: its psABI tables onto that model (`classify`, `type_name`, `object_reloc`, the machine's instruction fields), its constants, its TLS layout constants and the object-file side of relink's link stage (call stubs, veneers, runtime functions); [`arch::native`] is the running machine's | here: x86_64, x86, aarch64, arm and riscv64 (from `src/arch/`, which keeps the thread pointer, IFUNC calls, CPU features and the assembly entry points); riscv32 and loongarch64, the tables only (no runtime runs them) |
//! | [`raw`] | the ELF records of the machine's own class read in place (ELF64 ones defined there, ELF32 ones [`elf32`]'s), version records, [`Span`](raw::Span) (an object's readable ranges, every read checked against them) and [`StrTab`](raw::StrTab): all the core's byte-casting | here |
//! | [`elf32`] | ELF32 records (ELFCLASS32 targets: riscv32, arm, i686), decoded from bytes; laid out as the gABI does, they are [`raw`]'s records on 32-bit machines | here |
//! | [`load`] | placing PT_LOAD segments into a [`Memory`](mem::Memory) and protecting them | here (`src/map.rs` comes onto it) |
//! | [`parse`] | header and program-header validation for the machine the caller names ([`parse::Machine`]), the dynamic section ([`parse::DynInfo`]) | here |
//! | [`symbols`] | [`SymTab`](symbols::SymTab): GNU (with its Bloom filter) and SysV hash tables, versym/verdef/verneed, lookups of a [`Query`](symbols::Query) | here |
//! | [`link`] | the link stage: relocatable objects (`.o`) and archives (`.a`) read, symbols resolved (archive members, COMDAT, COMMON), relocations scanned (GOT, stubs, TLS entries, dynamic relocations), sections laid out and the ET_DYN image written for its base; the scope's answers, the page size, the span's address and a static TLS block come from the caller ([`link::Scope`], [`link::StaticTls`]) | here (`src/link/` keeps the span's reservation and mapping, the static TLS reservation and the map stage) |
//! | [`object`] | loading for a caller with a [`Memory`](mem::Memory) and a [`Resolver`](mem::Resolver): one `.o` linked by [`link`] ([`object::link`]), or a shared object ([`object::load_shared`]: [`parse`], [`load`], [`symbols`]), placed, relocated (the running machine's `classify`, then [`arch::dynamic`]) and protected in the caller's memory | here (static TLS and IFUNCs, which need a runtime, are refused; `src/map.rs` keeps relink's own loading) |
//! | [`tls`] | TLS layout computations (block offsets, variant I and II, whether an offset lies in the static area) | here (`src/tls.rs` keeps the runtime) |
//!
//! The dependency graph is one-directional: `arch` and `elf32` depend on nothing, `raw` on
//! `elf32`, `parse` on `raw` and `arch`, `symbols` on `parse`, `mem`, `tls` and `link` on `arch`, `load` on `mem`, `object` on `link`, `load`, `parse` and `symbols`, and the later stages on
//! those; nothing here depends on the `relink` crate. Outside the core, only the `elf` crate (constants, hashes,
//! header parsers), `once_cell`'s `race` module and `hashbrown` (the link stage's tables) are
//! used, all without `std`.
#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod arch;
pub mod elf32;
pub mod link;
pub mod load;
pub mod mem;
pub mod object;
pub mod parse;
pub mod raw;
pub mod symbols;
pub mod tls;
