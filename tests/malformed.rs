//! Malformed images never crash the host. A generator derives several hundred distinct broken
//! copies of real libraries (libz, libsqlite3) and of fixtures that have the structures worth
//! breaking (RELR, TLS, symbol versions, SysV hash, initializers, C++ unwind tables): truncations;
//! bad ELF headers and program headers; dynamic tags pointing anywhere; hash tables, relocations,
//! RELR bitmaps, version tables, TLS segments, init arrays, symbols and unwind tables with
//! out-of-range values. c-tests/malformed_run.c gives each to rl_open_mem (RL_NOW and RL_LAZY)
//! and rl_open, each in a child process, and fails on any crash, hang, or failure without a
//! message. `make check-valgrind` runs the same cases in one process under valgrind.

mod common;

use common::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;
const PT_TLS: u32 = 7;
const PT_GNU_EH_FRAME: u32 = 0x6474_e550;
const PT_GNU_STACK: u32 = 0x6474_e551;
const PT_GNU_RELRO: u32 = 0x6474_e552;

const DT_NULL: i64 = 0;
const DT_NEEDED: i64 = 1;
const DT_PLTRELSZ: i64 = 2;
const DT_PLTGOT: i64 = 3;
const DT_HASH: i64 = 4;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_RELA: i64 = 7;
const DT_RELASZ: i64 = 8;
const DT_RELAENT: i64 = 9;
const DT_STRSZ: i64 = 10;
const DT_SYMENT: i64 = 11;
const DT_INIT: i64 = 12;
const DT_FINI: i64 = 13;
const DT_SONAME: i64 = 14;
const DT_REL: i64 = 17;
const DT_PLTREL: i64 = 20;
const DT_DEBUG: i64 = 21;
const DT_TEXTREL: i64 = 22;
const DT_JMPREL: i64 = 23;
const DT_INIT_ARRAY: i64 = 25;
const DT_FINI_ARRAY: i64 = 26;
const DT_INIT_ARRAYSZ: i64 = 27;
const DT_FINI_ARRAYSZ: i64 = 28;
const DT_FLAGS: i64 = 30;
const DT_RELRSZ: i64 = 35;
const DT_RELR: i64 = 36;
const DT_RELRENT: i64 = 37;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const DT_VERSYM: i64 = 0x6fff_fff0;
const DT_FLAGS_1: i64 = 0x6fff_fffb;
const DT_VERDEF: i64 = 0x6fff_fffc;
const DT_VERDEFNUM: i64 = 0x6fff_fffd;
const DT_VERNEED: i64 = 0x6fff_fffe;
const DT_VERNEEDNUM: i64 = 0x6fff_ffff;

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}
fn put16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

#[derive(Clone, Copy)]
struct Phdr {
    /// File offset of the program header itself.
    at: usize,
    p_type: u32,
    vaddr: u64,
    offset: u64,
    filesz: u64,
    memsz: u64,
}

#[derive(Clone)]
struct Section {
    name: String,
    offset: usize,
    size: usize,
}

/// What the generator knows of an image: headers, sections and dynamic entries by file offset.
struct Elf {
    data: Vec<u8>,
    phoff: usize,
    phnum: usize,
    phdrs: Vec<Phdr>,
    sections: Vec<Section>,
    /// (file offset of the entry, tag, value)
    dyns: Vec<(usize, i64, u64)>,
}

impl Elf {
    fn parse(data: Vec<u8>) -> Elf {
        let phoff = u64_at(&data, 0x20) as usize;
        let phnum = u16_at(&data, 0x38) as usize;
        let phdrs: Vec<Phdr> = (0..phnum)
            .map(|i| {
                let at = phoff + 56 * i;
                Phdr {
                    at,
                    p_type: u32_at(&data, at),
                    offset: u64_at(&data, at + 8),
                    vaddr: u64_at(&data, at + 16),
                    filesz: u64_at(&data, at + 32),
                    memsz: u64_at(&data, at + 40),
                }
            })
            .collect();
        let shoff = u64_at(&data, 0x28) as usize;
        let shnum = u16_at(&data, 0x3c) as usize;
        let shstrndx = u16_at(&data, 0x3e) as usize;
        let sh = |i: usize| shoff + 64 * i;
        let names_off = u64_at(&data, sh(shstrndx) + 24) as usize;
        let sections = (0..shnum)
            .map(|i| {
                let name_at = names_off + u32_at(&data, sh(i)) as usize;
                let end = data[name_at..].iter().position(|&b| b == 0).unwrap();
                Section {
                    name: String::from_utf8_lossy(&data[name_at..name_at + end]).into_owned(),
                    offset: u64_at(&data, sh(i) + 24) as usize,
                    size: u64_at(&data, sh(i) + 32) as usize,
                }
            })
            .collect();
        let mut dyns = Vec::new();
        if let Some(d) = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC) {
            for i in 0..d.filesz as usize / 16 {
                let at = d.offset as usize + 16 * i;
                let tag = u64_at(&data, at) as i64;
                dyns.push((at, tag, u64_at(&data, at + 8)));
                if tag == DT_NULL {
                    break;
                }
            }
        }
        Elf { data, phoff, phnum, phdrs, sections, dyns }
    }

    fn section(&self, name: &str) -> Option<Section> {
        self.sections.iter().find(|s| s.name == name).cloned()
    }

    fn dyn_at(&self, tag: i64) -> Option<(usize, u64)> {
        self.dyns.iter().find(|d| d.1 == tag).map(|d| (d.0, d.2))
    }

    /// The file offset of link-time address `vaddr`, if a load segment holds it in the file.
    fn off_of(&self, vaddr: u64) -> Option<usize> {
        self.phdrs
            .iter()
            .find(|p| p.p_type == PT_LOAD && vaddr >= p.vaddr && vaddr < p.vaddr + p.filesz)
            .map(|p| (p.offset + vaddr - p.vaddr) as usize)
    }

    fn phdr(&self, ty: u32) -> Vec<Phdr> {
        self.phdrs.iter().filter(|p| p.p_type == ty).copied().collect()
    }
}

/// Collects distinct broken copies of one base image.
struct Gen<'a> {
    base: &'a Elf,
    prefix: String,
    cases: &'a mut Vec<(String, Vec<u8>)>,
    seen: &'a mut HashSet<Vec<u8>>,
}

impl Gen<'_> {
    /// A copy of the base with `f` applied; kept if no earlier case has the same bytes.
    fn add(&mut self, name: &str, f: impl FnOnce(&mut Vec<u8>)) {
        let mut d = self.base.data.clone();
        f(&mut d);
        if d == self.base.data {
            return;
        }
        // Distinctness by content (a digest would do; the images are small enough to keep).
        let key: Vec<u8> = {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for &b in &d {
                h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
            }
            [h.to_le_bytes().as_slice(), &(d.len() as u64).to_le_bytes()].concat()
        };
        if self.seen.insert(key) {
            self.cases.push((format!("{}-{:03}-{name}", self.prefix, self.cases.len()), d));
        }
    }

    fn set_dyn(&mut self, tag: i64, v: u64, name: &str) {
        if let Some((at, _)) = self.base.dyn_at(tag) {
            self.add(name, |d| put64(d, at + 8, v));
        }
    }
}

/// Deterministic pseudo-random numbers (xorshift), so that every run generates the same cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn truncations(g: &mut Gen) {
    let e = g.base;
    let len = e.data.len();
    let ph_end = e.phoff + 56 * e.phnum;
    let mut cuts = vec![0, 1, 4, 16, 52, 63, 64, ph_end - 1, ph_end, len / 2, len - 1];
    for p in e.phdr(PT_LOAD).iter().chain(&e.phdr(PT_DYNAMIC)) {
        cuts.push((p.offset + p.filesz) as usize - 1);
        cuts.push(p.offset as usize + 1);
    }
    for c in cuts {
        if c > 0 && c < len {
            g.add(&format!("truncated-{c}"), |d| d.truncate(c));
        }
    }
}

fn header(g: &mut Gen) {
    let len = g.base.data.len() as u64;
    for (name, at, v) in [
        ("magic", 1usize, b'X'),
        ("class32", 4, 1),
        ("class3", 4, 3),
        ("bigendian", 5, 2),
        ("data0", 5, 0),
        ("identversion0", 6, 0),
        ("osabi255", 7, 0xff),
        ("osabi9", 7, 9),
        ("abiversion5", 8, 5),
        ("padding", 12, 1),
    ] {
        g.add(&format!("ident-{name}"), |d| d[at] = v);
    }
    for (name, v) in [("rel", 1u16), ("exec", 2), ("core", 4), ("ffff", 0xffff)] {
        g.add(&format!("type-{name}"), |d| put16(d, 16, v));
    }
    for (name, v) in [("i386", 3u16), ("aarch64", 183), ("none", 0)] {
        g.add(&format!("machine-{name}"), |d| put16(d, 18, v));
    }
    g.add("version0", |d| put32(d, 20, 0));
    for (name, v) in [("len", len), ("len-8", len - 8), ("max", u64::MAX), ("max-55", u64::MAX - 55), ("one", 1)] {
        g.add(&format!("phoff-{name}"), |d| put64(d, 0x20, v));
    }
    for (name, v) in [("0", 0u16), ("32", 32), ("64", 64)] {
        g.add(&format!("phentsize-{name}"), |d| put16(d, 0x36, v));
    }
    let phnum = g.base.phnum as u16;
    for (name, v) in [("0", 0u16), ("ffff", 0xffff), ("plus1", phnum + 1), ("1", 1)] {
        g.add(&format!("phnum-{name}"), |d| put16(d, 0x38, v));
    }
}

fn program_headers(g: &mut Gen) {
    let e = g.base;
    let len = e.data.len() as u64;
    for (i, p) in e.phdrs.clone().iter().enumerate() {
        let at = p.at;
        let kind = match p.p_type {
            PT_LOAD => "load",
            PT_DYNAMIC => "dynamic",
            PT_TLS => "tls",
            PT_GNU_RELRO => "relro",
            PT_GNU_EH_FRAME => "ehframehdr",
            PT_GNU_STACK => "stack",
            PT_NOTE => "note",
            _ => continue,
        };
        let n = |what: &str| format!("ph{i}-{kind}-{what}");
        if p.p_type == PT_LOAD {
            g.add(&n("offset-len"), |d| put64(d, at + 8, len));
            g.add(&n("offset-huge"), |d| put64(d, at + 8, u64::MAX - 0xfff));
            g.add(&n("offset-misaligned"), |d| put64(d, at + 8, p.offset + 1));
            g.add(&n("filesz-2len"), |d| put64(d, at + 32, len * 2));
            g.add(&n("filesz-max"), |d| put64(d, at + 32, u64::MAX));
            g.add(&n("memsz-0"), |d| put64(d, at + 40, 0));
            g.add(&n("memsz-small"), |d| put64(d, at + 40, p.filesz.saturating_sub(1)));
            g.add(&n("memsz-max"), |d| put64(d, at + 40, u64::MAX));
            g.add(&n("memsz-2tb"), |d| put64(d, at + 40, 1 << 41));
            g.add(&n("vaddr-top"), |d| {
                put64(d, at + 16, 0xffff_ffff_ffff_f000 | (p.offset & 0xfff));
            });
            g.add(&n("vaddr-overlap"), |d| put64(d, at + 16, p.offset & 0xfff));
            g.add(&n("align-3"), |d| put64(d, at + 48, 3));
            g.add(&n("align-huge"), |d| put64(d, at + 48, 1 << 40));
            g.add(&n("flags-rwx"), |d| put32(d, at + 4, 7));
            g.add(&n("flags-none"), |d| put32(d, at + 4, 0));
            g.add(&n("flags-x"), |d| put32(d, at + 4, 1));
        } else {
            g.add(&n("vaddr-far"), |d| put64(d, at + 16, 0xffff_ffff_0000));
            g.add(&n("vaddr-max"), |d| put64(d, at + 16, u64::MAX - 7));
            g.add(&n("memsz-max"), |d| put64(d, at + 40, u64::MAX));
            g.add(&n("memsz-0"), |d| put64(d, at + 40, 0));
            if p.p_type == PT_TLS {
                g.add(&n("align-huge"), |d| put64(d, at + 48, 1 << 30));
                g.add(&n("align-3"), |d| put64(d, at + 48, 3));
                g.add(&n("filesz-huge"), |d| put64(d, at + 32, p.memsz + 0x100000));
                g.add(&n("memsz-2g"), |d| put64(d, at + 40, 1 << 31));
            }
            if p.p_type == PT_GNU_RELRO {
                // Over the code segment: making it read-only there would be fatal.
                let text = e.phdr(PT_LOAD).get(1).map_or(0, |t| t.vaddr);
                g.add(&n("over-text"), |d| put64(d, at + 16, text));
            }
            if p.p_type == PT_GNU_STACK {
                g.add(&n("exec"), |d| put32(d, at + 4, 7));
            }
            if p.p_type == PT_NOTE {
                g.add(&n("interp"), |d| put32(d, at, PT_INTERP));
                g.add(&n("second-dynamic"), |d| put32(d, at, PT_DYNAMIC));
            }
            g.add(&n("type-load"), |d| put32(d, at, PT_LOAD));
        }
    }
}

fn dynamic_tags(g: &mut Gen) {
    let e = g.base;
    let text = e.phdr(PT_LOAD).get(1).map_or(0x1000, |t| t.vaddr);
    let pointers = [
        DT_STRTAB, DT_SYMTAB, DT_HASH, DT_GNU_HASH, DT_VERSYM, DT_VERDEF, DT_VERNEED, DT_RELA, DT_JMPREL, DT_RELR, DT_INIT,
        DT_FINI, DT_INIT_ARRAY, DT_FINI_ARRAY, DT_PLTGOT,
    ];
    for tag in pointers {
        let Some((_, v)) = e.dyn_at(tag) else { continue };
        for (what, nv) in [
            ("zero", 0),
            ("top", 0xffff_ffff_ffff_f000),
            ("max", u64::MAX),
            ("misaligned", v + 1),
            ("far", v + 0x1000_0000),
            ("text", text),
        ] {
            // DT_INIT and DT_FINI one byte into the code they point at are still code: only
            // running it can tell (as with any loader).
            if what == "misaligned" && (tag == DT_INIT || tag == DT_FINI) {
                continue;
            }
            g.set_dyn(tag, nv, &format!("dyn{tag:x}-{what}"));
        }
    }
    let sizes = [DT_STRSZ, DT_RELASZ, DT_PLTRELSZ, DT_RELRSZ, DT_INIT_ARRAYSZ, DT_FINI_ARRAYSZ, DT_VERDEFNUM, DT_VERNEEDNUM];
    for tag in sizes {
        let Some((_, v)) = e.dyn_at(tag) else { continue };
        for (what, nv) in [("zero", 0), ("plus8", v + 8), ("huge", 0x7fff_ffff_ffff), ("max", u64::MAX)] {
            // An empty relocation table is valid: the code then finds its pointers unrelocated
            // and crashes, as it would under any loader.
            if what == "zero" && matches!(tag, DT_RELASZ | DT_PLTRELSZ | DT_RELRSZ) {
                continue;
            }
            g.set_dyn(tag, nv, &format!("dyn{tag:x}-{what}"));
        }
    }
    g.set_dyn(DT_SYMENT, 16, "syment16");
    g.set_dyn(DT_RELAENT, 16, "relaent16");
    g.set_dyn(DT_RELRENT, 4, "relrent4");
    g.set_dyn(DT_PLTREL, DT_REL as u64, "pltrel-rel");
    g.set_dyn(DT_FLAGS, 0x4 | 0x10, "flags-textrel-static-tls");
    g.set_dyn(DT_FLAGS_1, u64::MAX, "flags1-all");
    for (i, &(at, tag, v)) in e.dyns.clone().iter().enumerate() {
        if tag == DT_NEEDED {
            g.add(&format!("needed{i}-huge"), |d| put64(d, at + 8, 0xffff_ffff));
            g.add(&format!("needed{i}-strsz"), |d| put64(d, at + 8, e.dyn_at(DT_STRSZ).map_or(0, |s| s.1)));
            g.add(&format!("needed{i}-middle"), |d| put64(d, at + 8, v + 2));
            g.add(&format!("needed{i}-slash"), |d| {
                // A DT_NEEDED naming a path that does not exist.
                let s = e.dyn_at(DT_STRTAB).and_then(|(_, a)| e.off_of(a)).unwrap() + v as usize;
                d[s] = b'/';
            });
            // The SONAME made equal to a DT_NEEDED name (libc.so.6 for the real libraries).
            g.set_dyn(DT_SONAME, v, &format!("soname-is-needed{i}"));
        }
        if tag == DT_DEBUG || tag == DT_SONAME {
            g.add(&format!("dyn{i}-textrel"), |d| put64(d, at, DT_TEXTREL as u64));
            g.add(&format!("dyn{i}-rel"), |d| put64(d, at, DT_REL as u64));
        }
        if tag == DT_NULL {
            // No terminator: the table runs on into whatever follows.
            g.add("dyn-no-null", |d| put64(d, at, DT_DEBUG as u64));
        }
    }
    if let Some((at, _)) = e.dyn_at(DT_SONAME) {
        g.add("soname-huge", |d| put64(d, at + 8, 0xffff_fff0));
    }
}

fn hash_tables(g: &mut Gen) {
    let e = g.base;
    if let Some(h) = e.section(".gnu.hash") {
        let o = h.offset;
        let nbuckets = u32_at(&e.data, o) as usize;
        let bloom = u32_at(&e.data, o + 8) as usize;
        g.add("gnuhash-nbuckets-0", |d| put32(d, o, 0));
        g.add("gnuhash-nbuckets-huge", |d| put32(d, o, 0x7fff_ffff));
        g.add("gnuhash-symoffset-0", |d| put32(d, o + 4, 0));
        g.add("gnuhash-symoffset-huge", |d| put32(d, o + 4, 0xffff_fff0));
        g.add("gnuhash-bloom-3", |d| put32(d, o + 8, 3));
        g.add("gnuhash-bloom-0", |d| put32(d, o + 8, 0));
        g.add("gnuhash-bloom-huge", |d| put32(d, o + 8, 1 << 30));
        g.add("gnuhash-shift-huge", |d| put32(d, o + 12, 0xffff_ffff));
        let buckets = o + 16 + 8 * bloom;
        g.add("gnuhash-bucket-huge", |d| put32(d, buckets, 0xffff_fff0));
        g.add("gnuhash-buckets-max", |d| {
            for b in 0..nbuckets {
                put32(d, buckets + 4 * b, u32::MAX);
            }
        });
        let chain = buckets + 4 * nbuckets;
        g.add("gnuhash-chain-unterminated", |d| {
            for w in (chain..h.offset + h.size).step_by(4) {
                let v = u32_at(d, w);
                put32(d, w, v & !1);
            }
        });
    }
    if let Some(h) = e.section(".hash") {
        let o = h.offset;
        let nbucket = u32_at(&e.data, o) as usize;
        g.add("sysv-nbucket-huge", |d| put32(d, o, 0x7fff_ffff));
        g.add("sysv-nchain-huge", |d| put32(d, o + 4, 0x7fff_ffff));
        g.add("sysv-nchain-0", |d| put32(d, o + 4, 0));
        g.add("sysv-bucket-huge", |d| put32(d, o + 8, 0xffff_fff0));
        let chains = o + 8 + 4 * nbucket;
        g.add("sysv-chain-loop", |d| {
            for i in 1..(h.size - 8 - 4 * nbucket) / 4 {
                put32(d, chains + 4 * i, i as u32);
            }
        });
    }
}

fn symbols(g: &mut Gen) {
    let e = g.base;
    let Some(ds) = e.section(".dynsym") else { return };
    let strsz = e.dyn_at(DT_STRSZ).map_or(0, |s| s.1);
    let count = ds.size / 24;
    // A few defined symbols spread over the table.
    let defined: Vec<usize> = (1..count).filter(|&i| u16_at(&e.data, ds.offset + 24 * i + 6) != 0).collect();
    for (k, &i) in defined.iter().step_by((defined.len() / 3).max(1)).take(3).enumerate() {
        let at = ds.offset + 24 * i;
        g.add(&format!("sym{k}-name-huge"), |d| put32(d, at, 0xffff_fff0));
        g.add(&format!("sym{k}-name-strsz"), |d| put32(d, at, strsz as u32));
        g.add(&format!("sym{k}-value-max"), |d| put64(d, at + 8, u64::MAX - 0xf));
        g.add(&format!("sym{k}-size-max"), |d| put64(d, at + 16, u64::MAX));
        g.add(&format!("sym{k}-abs"), |d| put16(d, at + 6, 0xfff1));
        g.add(&format!("sym{k}-shndx-undef"), |d| put16(d, at + 6, 0));
        g.add(&format!("sym{k}-tls"), |d| d[at + 4] = (d[at + 4] & 0xf0) | 6);
        g.add(&format!("sym{k}-unique"), |d| d[at + 4] = (d[at + 4] & 0x0f) | (10 << 4));
    }
    // An IFUNC whose resolver is data.
    if let Some(&i) = defined.iter().find(|&&i| e.data[ds.offset + 24 * i + 4] & 0xf == 1) {
        let at = ds.offset + 24 * i;
        g.add("sym-object-ifunc", |d| d[at + 4] = (d[at + 4] & 0xf0) | 10);
    }
}

fn relocations(g: &mut Gen) {
    let e = g.base;
    for sec in [".rela.dyn", ".rela.plt"] {
        let Some(r) = e.section(sec) else { continue };
        let n = r.size / 24;
        let tag = if sec == ".rela.dyn" { "dyn" } else { "plt" };
        for (k, i) in [0, n / 2, n - 1].into_iter().enumerate() {
            if n == 0 || (k > 0 && i == 0) {
                continue;
            }
            let at = r.offset + 24 * i;
            let info = u64_at(&e.data, at + 8);
            let sym = info >> 32;
            let ty = |t: u64| (sym << 32) | t;
            let name = |what: &str| format!("rela{tag}{k}-{what}");
            g.add(&name("offset-top"), |d| put64(d, at, u64::MAX - 3));
            g.add(&name("offset-zero"), |d| put64(d, at, 0));
            g.add(&name("offset-text"), |d| put64(d, at, e.phdr(PT_LOAD).get(1).map_or(0, |t| t.vaddr)));
            g.add(&name("offset-misaligned"), |d| {
                let v = u64_at(d, at);
                put64(d, at, v + 1)
            });
            // The symbol of the table's first relocation, bound by then: the place is still
            // checked when the binding is reused.
            if k > 0 {
                let first = u64_at(&e.data, r.offset + 8);
                g.add(&name("seen-offset-top"), |d| {
                    put64(d, at, u64::MAX - 3);
                    put64(d, at + 8, first);
                });
                // (A PLT slot must be aligned; a misaligned data word is loaded, and may break
                // the image's own data.)
                if tag == "plt" {
                    g.add(&name("seen-offset-misaligned"), |d| {
                        let v = u64_at(d, at);
                        put64(d, at, v + 1);
                        put64(d, at + 8, first);
                    });
                }
                g.add(&name("seen-offset-text"), |d| {
                    put64(d, at, e.phdr(PT_LOAD).get(1).map_or(0, |t| t.vaddr));
                    put64(d, at + 8, first);
                });
            }
            g.add(&name("type-50"), |d| put64(d, at + 8, ty(50)));
            g.add(&name("type-copy"), |d| put64(d, at + 8, ty(5)));
            g.add(&name("type-tpoff"), |d| put64(d, at + 8, ty(18)));
            g.add(&name("type-dtpmod"), |d| put64(d, at + 8, ty(16)));
            g.add(&name("type-tlsdesc"), |d| put64(d, at + 8, ty(36)));
            g.add(&name("irelative-data"), |d| {
                put64(d, at + 8, 37);
                put64(d, at + 16, e.dyn_at(DT_STRTAB).map_or(0, |s| s.1));
            });
            g.add(&name("sym-huge"), |d| put64(d, at + 8, (0xffff_fff0u64 << 32) | (info & 0xffff_ffff)));
            g.add(&name("pc32-far"), |d| {
                put64(d, at + 8, ty(2));
                put64(d, at + 16, 0x7fff_ffff_0000);
            });
        }
    }
}

fn relr(g: &mut Gen) {
    let Some(r) = g.base.section(".relr.dyn") else { return };
    let o = r.offset;
    let n = r.size / 8;
    g.add("relr-bitmap-first", |d| put64(d, o, u64::MAX));
    g.add("relr-address-top", |d| put64(d, o, u64::MAX - 7));
    g.add("relr-address-text", |d| put64(d, o, 0x1000));
    g.add("relr-address-odd-zero", |d| put64(d, o, 0));
    g.add("relr-bitmaps-all-ones", |d| {
        for i in 1..n {
            put64(d, o + 8 * i, u64::MAX);
        }
    });
    g.add("relr-last-address-top", |d| put64(d, o + 8 * (n - 1), 0xffff_ffff_ffff_fff0));
}

fn versions(g: &mut Gen) {
    let e = g.base;
    if let Some(v) = e.section(".gnu.version") {
        let count = v.size / 2;
        g.add("versym-7fff", |d| put16(d, v.offset + 2 * (count / 2), 0x7fff));
        g.add("versym-all-ffff", |d| {
            for i in 1..count {
                put16(d, v.offset + 2 * i, 0xffff);
            }
        });
    }
    if let Some(v) = e.section(".gnu.version_d") {
        let o = v.offset;
        g.add("verdef-next-loop", |d| put32(d, o + 16, 0));
        g.add("verdef-next-self", |d| {
            put32(d, o + 16, 0);
            put64(d, e.dyn_at(DT_VERDEFNUM).map_or(0, |x| x.0) + 8, 0xffff);
        });
        g.add("verdef-next-huge", |d| put32(d, o + 16, 0xffff_fff0));
        g.add("verdef-aux-huge", |d| put32(d, o + 12, 0xffff_fff0));
        g.add("verdef-ndx-7fff", |d| put16(d, o + 4, 0x7fff));
        g.add("verdef-cnt-huge", |d| put16(d, o + 6, 0xffff));
        let aux = o + u32_at(&e.data, o + 12) as usize;
        g.add("verdaux-name-huge", |d| put32(d, aux, 0xffff_fff0));
    }
    if let Some(v) = e.section(".gnu.version_r") {
        let o = v.offset;
        g.add("verneed-cnt-huge", |d| put16(d, o + 2, 0xffff));
        g.add("verneed-file-huge", |d| put32(d, o + 4, 0xffff_fff0));
        g.add("verneed-aux-huge", |d| put32(d, o + 8, 0xffff_fff0));
        g.add("verneed-next-huge", |d| put32(d, o + 12, 0xffff_fff0));
        let aux = o + u32_at(&e.data, o + 8) as usize;
        g.add("vernaux-other-7fff", |d| put16(d, aux + 6, 0x7fff));
        g.add("vernaux-name-huge", |d| put32(d, aux + 8, 0xffff_fff0));
        g.add("vernaux-next-loop", |d| {
            put32(d, aux + 12, 0);
            put16(d, o + 2, 0xffff);
        });
        g.add("vernaux-hash-wrong", |d| {
            let h = u32_at(d, aux);
            put32(d, aux, h ^ 0x5555);
        });
    }
}

fn init_arrays(g: &mut Gen) {
    let e = g.base;
    for (tag, what) in [(DT_INIT_ARRAY, "init"), (DT_FINI_ARRAY, "fini")] {
        let Some(off) = e.dyn_at(tag).and_then(|(_, a)| e.off_of(a)) else { continue };
        // The entries are relocated (RELATIVE or RELR): their addends are what counts, so point
        // the array at other data instead.
        let data = e.phdr(PT_LOAD).last().map_or(0, |l| l.vaddr);
        g.set_dyn(tag, data, &format!("{what}-array-at-data"));
        let strtab = e.dyn_at(DT_STRTAB).map_or(0, |s| s.1);
        g.set_dyn(tag, strtab, &format!("{what}-array-at-strtab"));
        g.add(&format!("{what}-array-entry-one"), |d| put64(d, off, 1));
    }
    if let Some((at, _)) = e.dyn_at(DT_INIT) {
        let strtab = e.dyn_at(DT_STRTAB).map_or(0, |s| s.1);
        g.add("init-at-strtab", |d| put64(d, at + 8, strtab));
    }
}

fn unwind_tables(g: &mut Gen) {
    let e = g.base;
    let (Some(eh), Some(hdr)) = (e.section(".eh_frame"), e.section(".eh_frame_hdr")) else { return };
    let o = eh.offset;
    let cie_len = u32_at(&e.data, o) as usize;
    let fde = o + 4 + cie_len;
    g.add("eh-cie-length-huge", |d| put32(d, o, 0x7fff_fff0));
    g.add("eh-cie-length-small", |d| put32(d, o, 2));
    g.add("eh-cie-length-64bit", |d| put32(d, o, u32::MAX));
    g.add("eh-cie-garbage", |d| d[o + 8..o + 4 + cie_len].fill(0xa5));
    g.add("eh-cie-version-4", |d| d[o + 8] = 4);
    g.add("eh-cie-augmentation-unknown", |d| d[o + 9] = b'q');
    g.add("eh-cie-augmentation-unterminated", |d| d[o + 9..o + 4 + cie_len].fill(b'z'));
    g.add("eh-fde-length-huge", |d| put32(d, fde, 0x7fff_fff0));
    g.add("eh-fde-length-odd", |d| {
        let v = u32_at(d, fde);
        put32(d, fde, v + 1)
    });
    g.add("eh-fde-cie-forward", |d| put32(d, fde + 4, (-16i32) as u32));
    g.add("eh-fde-cie-middle", |d| {
        let v = u32_at(d, fde + 4);
        put32(d, fde + 4, v - 4)
    });
    g.add("eh-fde-range-far", |d| {
        let v = u32_at(d, fde + 8);
        put32(d, fde + 8, v.wrapping_add(0x4000_0000))
    });
    g.add("eh-fde-range-huge", |d| put32(d, fde + 12, 0x7fff_ffff));
    g.add("eh-no-terminator", |d| {
        let end = eh.offset + eh.size;
        d[end - 4..end].fill(0x44);
    });
    // Every byte of the first CIE's augmentation data, in turn, set to values the encodings
    // treat specially.
    let aug = o + 9;
    let aug_end = aug + e.data[aug..].iter().position(|&b| b == 0).unwrap();
    for (k, pos) in (aug_end + 1..o + 4 + cie_len).take(10).enumerate() {
        for v in [0x07u8, 0x50, 0x80, 0xff] {
            g.add(&format!("eh-cie-byte{k}-{v:02x}"), |d| d[pos] = v);
        }
    }
    let h = hdr.offset;
    g.add("ehhdr-version-2", |d| d[h] = 2);
    g.add("ehhdr-ptr-omit", |d| d[h + 1] = 0xff);
    g.add("ehhdr-ptr-indirect", |d| d[h + 1] = 0x9b);
    g.add("ehhdr-ptr-far", |d| put32(d, h + 4, 0x7000_0000));
    g.add("ehhdr-count-huge", |d| put32(d, h + 8, 0x7fff_ffff));
    g.add("ehhdr-table-enc", |d| d[h + 3] = 0x1b);
    g.add("ehhdr-entry-fde-off", |d| {
        let v = u32_at(d, h + 16);
        put32(d, h + 16, v + 1)
    });
    g.add("ehhdr-entry-pc", |d| {
        let v = u32_at(d, h + 12);
        put32(d, h + 12, v + 0x100)
    });
}

/// Random bytes written over the structural parts (headers, dynamic section, hash and version
/// tables, relocations), a few at a time.
fn scribbles(g: &mut Gen, count: usize, seed: u64) {
    let e = g.base;
    let mut ranges = vec![(0, e.phoff + 56 * e.phnum)];
    for name in [".dynamic", ".gnu.hash", ".hash", ".dynsym", ".gnu.version", ".gnu.version_d", ".gnu.version_r", ".rela.dyn", ".relr.dyn", ".eh_frame_hdr", ".eh_frame"] {
        if let Some(s) = e.section(name) {
            ranges.push((s.offset, s.offset + s.size));
        }
    }
    let total: usize = ranges.iter().map(|r| r.1 - r.0).sum();
    let mut rng = Rng(seed);
    for i in 0..count {
        let k = 1 + rng.next() as usize % 6;
        let picks: Vec<(usize, u8)> = (0..k)
            .map(|_| {
                let mut at = rng.next() as usize % total;
                let r = ranges.iter().find(|r| {
                    let n = r.1 - r.0;
                    if at < n {
                        true
                    } else {
                        at -= n;
                        false
                    }
                });
                (r.unwrap().0 + at, rng.next() as u8)
            })
            .collect();
        g.add(&format!("scribble{i}"), |d| {
            for (at, v) in picks {
                d[at] = v;
            }
        });
    }
}

/// Every case for one base image.
fn generate(base: &Path, prefix: &str, scribble_count: usize, cases: &mut Vec<(String, Vec<u8>)>, seen: &mut HashSet<Vec<u8>>) {
    let data = std::fs::read(base).unwrap_or_else(|e| panic!("read {}: {e}", base.display()));
    let e = Elf::parse(data);
    let before = cases.len();
    let mut g = Gen { base: &e, prefix: prefix.to_string(), cases, seen };
    truncations(&mut g);
    header(&mut g);
    program_headers(&mut g);
    dynamic_tags(&mut g);
    hash_tables(&mut g);
    symbols(&mut g);
    relocations(&mut g);
    relr(&mut g);
    versions(&mut g);
    init_arrays(&mut g);
    unwind_tables(&mut g);
    scribbles(&mut g, scribble_count, 0x9e37_79b9_7f4a_7c15 ^ prefix.len() as u64);
    eprintln!("{prefix}: {} cases from {}", g.cases.len() - before, base.display());
}

/// The base images: two real libraries and fixtures with the structures worth breaking.
fn bases(s: &Scratch) -> Vec<(PathBuf, &'static str, usize)> {
    s.lib("libsimple.so", &["simple.c"], &[]);
    s.lib("librelr.so", &["relr.c"], &["-Wl,-z,pack-relative-relocs"]);
    s.lib("libtls.so", &["tls.c"], &[]);
    s.lib("libver.so", &["ver_two.c"], &[format!("-Wl,--version-script={}", fixtures_dir().join("ver_two.map").display()).as_str()]);
    s.lib("libconsumer.so", &["ver_consumer.c"], &["-L.", "-lver", "-Wl,-rpath,$ORIGIN"]);
    s.lib("libsysv.so", &["hash_syms.c"], &["-Wl,--hash-style=sysv"]);
    s.lib("libctor.so", &["ctor_lib.c"], &["-DCTOR_NAME=\"malformed\"", "-Wl,-init=ctor_dt_init", "-Wl,-fini=ctor_dt_fini"]);
    vec![
        (system_lib("libz.so.1"), "z", 40),
        (system_lib("libsqlite3.so.0"), "sqlite", 10),
        (s.path("libsimple.so"), "simple", 30),
        (s.path("librelr.so"), "relr", 10),
        (s.path("libtls.so"), "tls", 10),
        (s.path("libver.so"), "ver", 10),
        (s.path("libconsumer.so"), "consumer", 10),
        (s.path("libsysv.so"), "sysv", 10),
        (s.path("libctor.so"), "ctor", 10),
    ]
}

/// Generate every case into `<scratch>/cases` and build the runner.
fn prepare(s: &Scratch) -> (PathBuf, PathBuf) {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for (base, prefix, scribbles) in bases(s) {
        generate(&base, prefix, scribbles, &mut cases, &mut seen);
    }
    assert!(cases.len() >= 300, "only {} distinct malformed images", cases.len());
    let dir = s.mkdir("cases");
    for (name, data) in &cases {
        std::fs::write(dir.join(format!("{name}.so")), data).unwrap();
    }
    (dir, s.program("malformed_run.c", &["-ldl"]))
}

fn check_run(s: &Scratch, prog: &Path, args: &[&str], limit: std::time::Duration) {
    // Dependencies of the fixtures (libver.so for libconsumer.so) are found next to them.
    let out = s.run_with_timeout(prog, args, &[("LD_LIBRARY_PATH", &s.dir_arg())], limit);
    let ok = out.status.success() && out.stdout.lines().last().is_some_and(|l| l.ends_with(" checks passed"));
    assert!(ok, "malformed images: {}\n--- stdout ---\n{}\n--- stderr ---\n{}", describe_status(&out.status), out.stdout, out.stderr);
    eprint!("{}", out.stdout);
}

#[test]
fn malformed_images_never_crash() {
    let s = Scratch::new("malformed");
    let (dir, prog) = prepare(&s);
    check_run(&s, &prog, &[dir.to_str().unwrap()], std::time::Duration::from_secs(900));
    // The cases take room; they are kept only when something failed.
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same cases in one process under valgrind: no invalid access, no definite leak (`make
/// check-valgrind`; slow, so not part of `make test`).
#[test]
#[ignore = "slow: run by make check-valgrind"]
fn malformed_images_under_valgrind() {
    let s = Scratch::new("malformed_valgrind");
    let (dir, prog) = prepare(&s);
    let valgrind = std::process::Command::new("valgrind").arg("--version").output();
    assert!(valgrind.is_ok_and(|o| o.status.success()), "valgrind is not installed (Debian package: valgrind)");
    let prog_s = prog.to_string_lossy().into_owned();
    let args = [
        "--quiet",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        "--error-exitcode=99",
        prog_s.as_str(),
        "--single",
        dir.to_str().unwrap(),
    ];
    check_run(&s, Path::new("valgrind"), &args, std::time::Duration::from_secs(3600));
    let _ = std::fs::remove_dir_all(&dir);
}
