//! Load a small x86-64 shared object into memory the caller provides, through relink-core's
//! `Memory` and `Resolver` traits: the core maps, relocates and protects without a system
//! call. The caller's side is the example's, as a kernel's would be, in two forms:
//!
//! - `Buffer`, bytes the caller owns, with the object linked to run at an address the caller
//!   picks (`RUN_BASE`): what a kernel copying a module into place, or a test checking
//!   relocated bytes, needs;
//! - `Executable`, an anonymous mapping of the process whose run address is its own, the
//!   protections the core asks for applied with `mprotect` by the caller: the object runs.
//!
//! ```text
//! cargo run -p relink-core --example caller_memory -- [--run FUNCTION] libplugin.so [name=0xADDRESS ...]
//! ```
//!
//! prints where each of the object's global symbols runs; with `--run`, loads into executable
//! memory and calls `int FUNCTION(void)`.
//! Undefined symbols are bound through the `name=address` pairs, then to what the example
//! exports: `int host_add(int, int)` and `int host_value`.
//!
//! The core does the loading ([`object::load_shared`] for a shared object, [`object::link`]
//! for a relocatable one): headers, segments, the dynamic section and symbols read by the core,
//! relocations applied with the core's tables and arithmetic. TLS, IFUNC and copies are the
//! runtime's, which this example does not have; constructors are not run.

use elf::abi;
use relink_core::link;
use relink_core::mem::{Buffer, BufferError, Definition, Image, Memory, Prot, Request, Resolver, Span};
use relink_core::object::{self, Linked};

/// The address the buffer's first byte will run at.
const RUN_BASE: u64 = 0x7000_0000;
const PAGE: usize = 4096;

/// Load the shared object `image` into `mem`, binding its undefined symbols through
/// `resolver`; its own definitions bind inside it.
fn load_into<M: Memory<[u8]>>(image: &[u8], mem: &mut M, resolver: &mut dyn Resolver) -> Result<Linked, String>
where
    M::Error: std::fmt::Debug,
{
    object::load_shared(mem, image, resolver).map_err(describe)
}

/// An anonymous mapping of the process, inaccessible until the core maps into it.
struct Arena {
    addr: *mut u8,
    len: usize,
}

impl Arena {
    /// An arena within 1 GiB of `target`, as a kernel keeps modules near its own code: in
    /// reach of the 32-bit displacements of code that refers to it.
    fn near(target: u64, len: usize) -> Arena {
        const STEP: u64 = 128 << 20;
        let base = target & !(PAGE as u64 - 1);
        for k in 1..8u64 {
            for hint in [base.wrapping_add(k * STEP), base.wrapping_sub(k * STEP)] {
                let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE;
                // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping: the call
                // fails when the range is in use.
                let addr = unsafe { libc::mmap(hint as *mut libc::c_void, len, libc::PROT_NONE, flags, -1, 0) };
                if addr != libc::MAP_FAILED {
                    let arena = Arena { addr: addr.cast(), len };
                    // A kernel that does not know the flag takes the address as a hint.
                    if (addr as u64).abs_diff(target) < 1 << 30 {
                        return arena;
                    }
                }
            }
        }
        panic!("no room within 1 GiB of {target:#x}");
    }
}

impl Drop for Arena {
    fn drop(&mut self) {
        // SAFETY: the mapping is the arena's own, and nothing borrows it any more (an
        // `Executable` borrows its arena).
        unsafe { libc::munmap(self.addr.cast(), self.len) };
    }
}

/// Why [`Executable`] refused a request.
#[derive(Debug)]
#[allow(dead_code)] // Read through `Debug`.
enum ExecError {
    Buffer(BufferError),
    Protect(std::io::Error),
}

/// Memory the process can run: the core's `Buffer` over an [`Arena`] keeps the spans and the
/// protection of each page, at the arena's own address as run address, and every change is
/// applied to the pages with `mprotect`, so that what the core asked for is what the hardware
/// enforces. Pages are opened read-write only while the core writes into them; no page is
/// ever writable and executable at once.
struct Executable<'a> {
    buffer: Buffer<'a>,
    base: u64,
    len: usize,
}

impl<'a> Executable<'a> {
    fn new(arena: &'a mut Arena) -> Executable<'a> {
        // SAFETY: the mapping holds `arena.len` bytes and lives as long as the borrow of
        // `arena`; its bytes are reached only through the `Buffer`, which gives out only the
        // pages it records readable (or writable), and `sync` makes the pages so.
        let bytes = unsafe { std::slice::from_raw_parts_mut(arena.addr, arena.len) };
        let base = arena.addr as u64;
        Executable { buffer: Buffer::new(bytes, base, PAGE), base, len: arena.len }
    }

    /// The address of `at .. at + len` in `span`: whole pages inside the arena.
    fn pages(&self, span: &Span, at: usize, len: usize) -> Result<u64, ExecError> {
        let addr = span.base.checked_add(at as u64).ok_or(ExecError::Buffer(BufferError::Range))?;
        let inside = addr >= self.base && addr.checked_add(len as u64).is_some_and(|end| end <= self.base + self.len as u64);
        if !inside || at.checked_add(len).is_none_or(|end| end > span.len) || !addr.is_multiple_of(PAGE as u64) || !len.is_multiple_of(PAGE) {
            return Err(ExecError::Buffer(BufferError::Range));
        }
        Ok(addr)
    }

    fn mprotect(addr: u64, len: usize, prot: Prot) -> Result<(), ExecError> {
        let bits = [(prot.read, libc::PROT_READ), (prot.write, libc::PROT_WRITE), (prot.exec, libc::PROT_EXEC)];
        let flags = bits.iter().filter(|b| b.0).fold(libc::PROT_NONE, |f, b| f | b.1);
        // SAFETY: `addr .. addr + len` are whole pages of the arena (`pages` checked), which
        // only the buffer reaches, by the protections recorded for them.
        if unsafe { libc::mprotect(addr as *mut libc::c_void, len, flags) } != 0 {
            return Err(ExecError::Protect(std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Give the pages of `addr .. addr + len` the protections the buffer records for them.
    fn sync(&self, addr: u64, len: usize) -> Result<(), ExecError> {
        for page in (addr..addr + len as u64).step_by(PAGE) {
            Self::mprotect(page, PAGE, self.buffer.prot_at(page).unwrap_or(Prot::NONE))?;
        }
        Ok(())
    }

    /// Run `op` with the pages of `at .. at + len` in `span` writable, then apply the
    /// protections it recorded.
    fn writing(&mut self, span: &Span, at: usize, len: usize, op: impl FnOnce(&mut Buffer<'a>) -> Result<(), BufferError>) -> Result<(), ExecError> {
        let addr = self.pages(span, at, len)?;
        Self::mprotect(addr, len, Prot::RW)?;
        let done = op(&mut self.buffer).map_err(ExecError::Buffer);
        self.sync(addr, len)?;
        done
    }
}

impl<I: Image + ?Sized> Memory<I> for Executable<'_> {
    type Error = ExecError;

    fn page_size(&self) -> usize {
        PAGE
    }

    fn reserve(&mut self, len: usize, align: usize) -> Result<Span, ExecError> {
        Memory::<I>::reserve(&mut self.buffer, len, align).map_err(ExecError::Buffer)
    }

    fn map(&mut self, span: &Span, at: usize, len: usize, image: &I, offset: u64, prot: Prot) -> Result<(), ExecError> {
        self.writing(span, at, len, |b| b.map(span, at, len, image, offset, prot))
    }

    fn zero(&mut self, span: &Span, at: usize, len: usize, prot: Prot) -> Result<(), ExecError> {
        self.writing(span, at, len, |b| Memory::<I>::zero(b, span, at, len, prot))
    }

    fn protect(&mut self, span: &Span, at: usize, len: usize, prot: Prot) -> Result<(), ExecError> {
        let addr = self.pages(span, at, len)?;
        Memory::<I>::protect(&mut self.buffer, span, at, len, prot).map_err(ExecError::Buffer)?;
        self.sync(addr, len)
    }

    fn bytes(&self, span: &Span, at: usize, len: usize) -> Option<&[u8]> {
        Memory::<I>::bytes(&self.buffer, span, at, len)
    }

    fn bytes_mut(&mut self, span: &Span, at: usize, len: usize) -> Option<&mut [u8]> {
        Memory::<I>::bytes_mut(&mut self.buffer, span, at, len)
    }

    fn release(&mut self, span: Span) {
        Memory::<I>::release(&mut self.buffer, span);
        if let Ok(addr) = self.pages(&span, 0, span.len) {
            // Inaccessible again; a failure leaves pages the buffer no longer gives out.
            let _ = self.sync(addr, span.len);
        }
    }
}

/// What the example exports to the objects it loads, as a kernel exports symbols to modules.
extern "C" fn host_add(a: i32, b: i32) -> i32 {
    a * 100 + b
}

static HOST_VALUE: i32 = 37;

fn exports() -> [(&'static str, u64); 2] {
    [("host_add", host_add as extern "C" fn(i32, i32) -> i32 as usize as u64), ("host_value", &raw const HOST_VALUE as u64)]
}

/// A resolver binding names through `defined`, then to the example's exports.
fn resolver(defined: &[(String, u64)]) -> impl FnMut(&Request<'_>) -> Option<Definition> + '_ {
    move |r: &Request<'_>| {
        let exported = exports().into_iter().map(|(n, v)| (n.to_string(), v));
        let value = defined.iter().cloned().chain(exported).find(|(n, _)| n.as_bytes() == r.name)?.1;
        Some(Definition::Address { value, size: 0 })
    }
}

/// Link the relocatable object `image` into `mem` through the core's link stage.
fn link_object<M: Memory<[u8]>>(image: &[u8], mem: &mut M, resolver: &mut dyn Resolver) -> Result<Linked, String>
where
    M::Error: std::fmt::Debug,
{
    object::link(mem, image, resolver).map_err(describe)
}

/// A message for what the core refused.
fn describe<E: std::fmt::Debug>(e: object::Error<E>) -> String {
    match e {
        object::Error::Undefined(name) => format!("undefined symbol {}", String::from_utf8_lossy(&name)),
        object::Error::Link(link::Error::Undefined { symbol, .. }) => format!("undefined symbol {symbol}"),
        object::Error::Link(link::Error::Link { reason, .. } | link::Error::Malformed { reason, .. }) => reason,
        object::Error::Invalid(reason) => reason,
        object::Error::Relocation { name, symbol, offset, error } => {
            format!("{name} against {} at offset {offset:#x}: {error:?}", String::from_utf8_lossy(&symbol))
        }
        e => format!("{e:?}"),
    }
}

/// Call `int f(void)` at `addr`.
///
/// `addr` must be the run address of a function of that type, of an object placed, relocated
/// and protected executable in memory the process runs.
fn call(addr: u64) -> i32 {
    // SAFETY: as the function's contract requires of its caller.
    let f = unsafe { std::mem::transmute::<usize, extern "C" fn() -> i32>(addr as usize) };
    f()
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let run = (args.first().map(String::as_str) == Some("--run") && args.len() > 1).then(|| {
        let name = args.remove(1);
        args.remove(0);
        name
    });
    if args.is_empty() {
        eprintln!("usage: caller_memory [--run FUNCTION] OBJECT [name=0xADDRESS ...]");
        std::process::exit(2);
    }
    let path = args.remove(0);
    let defined: Vec<(String, u64)> = args
        .iter()
        .filter_map(|a| {
            let (name, value) = a.split_once('=')?;
            Some((name.to_string(), u64::from_str_radix(value.trim_start_matches("0x"), 16).ok()?))
        })
        .collect();
    let image = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("caller_memory: {path}: {e}");
        std::process::exit(1);
    });
    let fail = |e: String| -> ! {
        eprintln!("caller_memory: {path}: {e}");
        std::process::exit(1);
    };
    let relocatable = image.get(16..18) == Some(&abi::ET_REL.to_le_bytes()[..]);
    if let Some(name) = run {
        // Near the example's code, which the object's 32-bit displacements may refer to.
        let mut arena = Arena::near(exports()[0].1, 1 << 20);
        let mut mem = Executable::new(&mut arena);
        let loaded = match relocatable {
            true => link_object(&image, &mut mem, &mut resolver(&defined)),
            false => load_into(&image, &mut mem, &mut resolver(&defined)),
        };
        let loaded = loaded.unwrap_or_else(|e| fail(e));
        println!("{path}: {:#x} bytes at {:#x}", loaded.span.len, loaded.span.base);
        let addr = loaded.symbol(name.as_bytes()).unwrap_or_else(|| fail(format!("no function {name}")));
        // The object's function of that name, which the command line says is an `int (void)`.
        println!("{name}() = {}", call(addr));
        return;
    }
    let mut storage = vec![0u8; 1 << 20];
    let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
    let loaded = match relocatable {
        true => link_object(&image, &mut mem, &mut resolver(&defined)),
        false => load_into(&image, &mut mem, &mut resolver(&defined)),
    };
    let loaded = loaded.unwrap_or_else(|e| fail(e));
    println!("{path}: {:#x} bytes at {:#x}", loaded.span.len, loaded.span.base);
    for (name, run) in &loaded.symbols {
        println!("  {} at {run:#x}", String::from_utf8_lossy(name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared object with a pointer to its own data (R_X86_64_RELATIVE), a pointer and a
    /// GOT entry for a symbol of the caller's (R_X86_64_64, R_X86_64_GLOB_DAT), a call to a
    /// function of the caller's (R_X86_64_JUMP_SLOT), a pointer in RELRO, and code; built
    /// without the C runtime.
    const SOURCE: &str = r#"
        int counter = 5;
        int *counter_ptr = &counter;
        extern int host_value;
        int *host_ptr = &host_value;
        const char *const greeting = "hello";
        extern int host_add(int, int);
        int get(void) { return *counter_ptr + host_value; }
        int bump(void) { return host_add(++counter, *greeting); }
    "#;

    /// Compile `source` with `flags` into `output` in a fresh directory; the file's bytes.
    fn cc(dir: &str, source: &str, flags: &[&str], output: &str) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("relink-core-{}-{dir}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (src, out) = (dir.join("source.c"), dir.join(output));
        std::fs::write(&src, source).unwrap();
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = std::process::Command::new(cc).args(flags).arg("-o").arg(&out).arg(&src).status().expect("a C compiler");
        assert!(status.success());
        let image = std::fs::read(out).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        image
    }

    fn build(dir: &str) -> Vec<u8> {
        let flags = ["-shared", "-fPIC", "-nostdlib", "-O1", "-Wl,-z,now", "-Wl,-z,relro", "-Wl,-Bsymbolic"];
        cc(dir, SOURCE, &flags, "libplugin.so")
    }

    /// The run address of the object's definition `name`.
    fn symbol(loaded: &Linked, name: &str) -> u64 {
        loaded.symbol(name.as_bytes()).unwrap_or_else(|| panic!("{name} not defined"))
    }

    #[test]
    fn loads_into_a_buffer() {
        let image = build("caller_memory_loads");
        let mut storage = vec![0u8; 1 << 20];
        let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
        let mut asked = Vec::new();
        let mut resolver = |r: &Request<'_>| {
            asked.push(String::from_utf8_lossy(r.name).into_owned());
            let value = match r.name {
                b"host_value" => 0x5555_0000,
                b"host_add" => 0x5555_1000,
                _ => return None,
            };
            Some(Definition::Address { value, size: 0 })
        };
        let loaded = load_into(&image, &mut mem, &mut resolver).unwrap();
        assert_eq!(loaded.span.base, RUN_BASE);
        asked.sort();
        asked.dedup();
        assert_eq!(asked, ["host_add", "host_value"], "only the imports are asked for");

        let bytes = |mem: &Buffer, run: u64, n: usize| Memory::<[u8]>::bytes(mem, &loaded.span, (run - RUN_BASE) as usize, n).unwrap().to_vec();
        let word = |mem: &Buffer, name: &str| u64::from_le_bytes(bytes(mem, symbol(&loaded, name), 8).try_into().unwrap());
        // Pointers to the object's own data hold their run addresses.
        assert_eq!(word(&mem, "counter_ptr"), symbol(&loaded, "counter"));
        assert!((RUN_BASE..RUN_BASE + loaded.span.len as u64).contains(&symbol(&loaded, "counter")));
        // The caller's symbol.
        assert_eq!(word(&mem, "host_ptr"), 0x5555_0000);
        // The RELRO pointer reaches the string, in the buffer at its run address's offset.
        assert_eq!(bytes(&mem, word(&mem, "greeting"), 6), b"hello\0");
        // Protections: code executable, RELRO read-only, data writable.
        assert_eq!(mem.prot_at(symbol(&loaded, "get")), Some(Prot::RX));
        assert_eq!(mem.prot_at(symbol(&loaded, "greeting")), Some(Prot::R));
        assert_eq!(mem.prot_at(symbol(&loaded, "counter")), Some(Prot::RW));
    }

    /// Relative relocations packed as RELR (`-z pack-relative-relocs`) are applied as RELA ones.
    #[test]
    fn loads_relr_relocations() {
        let flags = ["-shared", "-fPIC", "-nostdlib", "-O1", "-Wl,-z,now", "-Wl,-Bsymbolic", "-Wl,-z,pack-relative-relocs"];
        let source = format!("{SOURCE} int *more[] = {{ &counter, &counter, 0, &counter }};");
        let image = cc("caller_memory_relr", &source, &flags, "librelr.so");
        let file = elf::ElfBytes::<elf::endian::LittleEndian>::minimal_parse(&image).unwrap();
        assert!(file.section_header_by_name(".relr.dyn").unwrap().is_some(), "the linker packed them");
        let mut storage = vec![0u8; 1 << 20];
        let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
        let loaded = load_into(&image, &mut mem, &mut resolver(&[])).unwrap();
        let words = Memory::<[u8]>::bytes(&mem, &loaded.span, (symbol(&loaded, "more") - RUN_BASE) as usize, 32).unwrap();
        let word = |i: usize| u64::from_le_bytes(words[8 * i..8 * i + 8].try_into().unwrap());
        let counter = symbol(&loaded, "counter");
        assert_eq!([word(0), word(1), word(2), word(3)], [counter, counter, 0, counter]);
    }

    #[test]
    fn undefined_symbol_named_and_span_given_back() {
        let image = build("caller_memory_undefined");
        let mut storage = vec![0u8; 1 << 20];
        let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
        let mut nothing = |_: &Request<'_>| None;
        assert_eq!(load_into(&image, &mut mem, &mut nothing), Err("undefined symbol host_value".to_string()));
        // The span was released: the next load starts at the buffer's start again.
        let mut resolver = |_: &Request<'_>| Some(Definition::Address { value: 1, size: 0 });
        assert_eq!(load_into(&image, &mut mem, &mut resolver).unwrap().span.base, RUN_BASE);
        assert!(load_into(b"\x7fELF", &mut mem, &mut resolver).unwrap_err().starts_with("truncated ELF file"), "the core's header check");
        assert!(load_into(&compile("caller_memory_rel"), &mut mem, &mut resolver).unwrap_err().contains("relocatable object (ET_REL)"));
        // Damaged objects are refused or loaded, never a panic: every truncation, and every
        // byte changed.
        Memory::<[u8]>::release(&mut mem, Span { base: RUN_BASE, len: 1 << 20 });
        let file = elf::ElfBytes::<elf::endian::LittleEndian>::minimal_parse(&image).unwrap();
        let loaded_end = file.segments().unwrap().iter().map(|p| p.p_offset + p.p_filesz).max().unwrap() as usize;
        for n in 0..image.len() {
            // (What follows the segments, the section headers, is not needed.)
            match load_into(&image[..n], &mut mem, &mut resolver) {
                Ok(loaded) if n >= loaded_end => Memory::<[u8]>::release(&mut mem, loaded.span),
                r => assert!(r.is_err(), "truncated to {n} bytes"),
            }
        }
        for i in 0..image.len() {
            let mut bad = image.clone();
            bad[i] ^= 0xa5;
            if let Ok(loaded) = load_into(&bad, &mut mem, &mut resolver) {
                Memory::<[u8]>::release(&mut mem, loaded.span);
            }
        }
    }

    /// The protection of the process's mapping at `addr`, from /proc/self/maps (`r-xp`).
    fn mapped(addr: u64) -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.lines()
            .find_map(|line| {
                let (range, rest) = line.split_once(' ')?;
                let (lo, hi) = range.split_once('-')?;
                let (lo, hi) = (u64::from_str_radix(lo, 16).ok()?, u64::from_str_radix(hi, 16).ok()?);
                (lo..hi).contains(&addr).then(|| rest[..4].to_string())
            })
            .unwrap_or_else(|| panic!("{addr:#x} is not mapped"))
    }

    #[test]
    fn runs_in_executable_memory() {
        let image = build("caller_memory_runs");
        let mut arena = Arena::near(exports()[0].1, 1 << 20);
        let (start, end) = (arena.addr as u64, arena.addr as u64 + (1 << 20));
        let mut mem = Executable::new(&mut arena);
        let loaded = load_into(&image, &mut mem, &mut resolver(&[])).unwrap();
        assert_eq!(loaded.span.base, start);
        let run = |name: &str| symbol(&loaded, name);

        // The object's code runs: its own data, the caller's variable and function.
        assert_eq!(call(run("get")), 5 + 37);
        assert_eq!(call(run("bump")), 6 * 100 + i32::from(b'h'));
        assert_eq!(call(run("bump")), 7 * 100 + i32::from(b'h'));

        // The protections the core asked for are the ones the pages have.
        for (name, want, prot) in [("get", "r-xp", Prot::RX), ("greeting", "r--p", Prot::R), ("counter", "rw-p", Prot::RW)] {
            assert_eq!(mapped(run(name)), want, "{name}");
            assert_eq!(mem.buffer.prot_at(run(name)), Some(prot), "{name}");
        }
        // Nowhere in the arena writable and executable; past the object, inaccessible.
        for page in (start..end).step_by(PAGE) {
            let perms = mapped(page);
            assert!(!(perms.contains('w') && perms.contains('x')), "{page:#x} is {perms}");
        }
        assert_eq!(mapped(start + loaded.span.len as u64), "---p");

        // Released, the pages are inaccessible again and the next load starts over.
        Memory::<[u8]>::release(&mut mem, loaded.span);
        assert_eq!(mapped(run("get")), "---p");
        let mut nothing = |_: &Request<'_>| None;
        assert_eq!(load_into(&image, &mut mem, &mut nothing), Err("undefined symbol host_value".to_string()));
        assert_eq!(mapped(run("counter")), "---p", "a failed load leaves nothing accessible");
    }

    /// A relocatable object referring to the caller's function (R_X86_64_PLT32) and variable
    /// (R_X86_64_PC32 and, from data, R_X86_64_64), to its own data from code (PC32) and from
    /// data (R_X86_64_64 against a section), with read-only data; built as position-independent
    /// executable code, which refers to the caller's variable directly.
    const OBJECT: &str = r#"
        extern int host_add(int, int);
        extern int host_value;
        static int counter = 5;
        int *table[] = { &counter, &host_value };
        const char limit[] = "abc";
        int next(void) { return host_add(++counter, host_value + limit[2]); }
        int sum(void) { return *table[0] + *table[1]; }
    "#;

    fn compile(dir: &str) -> Vec<u8> {
        cc(dir, OBJECT, &["-c", "-O1", "-fpie", "-fno-common"], "module.o")
    }

    #[test]
    fn links_an_object_and_runs_it() {
        let image = compile("caller_memory_links");
        let mut arena = Arena::near(exports()[0].1, 1 << 20);
        let start = arena.addr as u64;
        let mut mem = Executable::new(&mut arena);
        let linked = link_object(&image, &mut mem, &mut resolver(&[])).unwrap();
        assert_eq!(linked.span.base, start);
        let symbol = |name: &str| linked.symbol(name.as_bytes()).unwrap_or_else(|| panic!("{name} not defined"));
        assert_eq!(linked.symbol(b"counter"), None, "a local symbol");

        // Through the caller's function and variable, and the object's own data.
        assert_eq!(call(symbol("next")), 6 * 100 + 37 + i32::from(b'c'));
        assert_eq!(call(symbol("sum")), 6 + 37);

        // Code, read-only data and data, each in its own pages with its own protection.
        for (name, want) in [("next", "r-xp"), ("limit", "r--p"), ("table", "rw-p")] {
            assert_eq!(mapped(symbol(name)), want, "{name}");
        }
        assert_eq!(mapped(start + linked.span.len as u64), "---p");
    }

    #[test]
    fn links_an_object_into_a_buffer() {
        let image = compile("caller_memory_buffer");
        let mut storage = vec![0u8; 1 << 20];
        let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
        let near = [("host_add".to_string(), RUN_BASE + 0x10_0000), ("host_value".to_string(), RUN_BASE + 0x10_1000)];
        let linked = link_object(&image, &mut mem, &mut resolver(&near)).unwrap();
        assert_eq!(linked.span.base, RUN_BASE);
        let table = linked.symbol(b"table").unwrap();
        let words = Memory::<[u8]>::bytes(&mem, &linked.span, (table - RUN_BASE) as usize, 16).unwrap();
        let word = |i: usize| u64::from_le_bytes(words[i * 8..i * 8 + 8].try_into().unwrap());
        // The first entry is `counter`, in the object's data; the second the caller's variable.
        assert!((RUN_BASE..RUN_BASE + linked.span.len as u64).contains(&word(0)));
        assert_eq!(mem.prot_at(word(0)), Some(Prot::RW));
        assert_eq!(word(1), RUN_BASE + 0x10_1000);
        assert_eq!(mem.prot_at(linked.symbol(b"next").unwrap()), Some(Prot::RX));
        assert_eq!(mem.prot_at(linked.symbol(b"limit").unwrap()), Some(Prot::R));
        Memory::<[u8]>::release(&mut mem, linked.span);

        // A function the object calls may be anywhere: the call goes through a stub.
        let far_call = [("host_add".to_string(), 0x7fff_0000_0000), ("host_value".to_string(), RUN_BASE + 0x10_1000)];
        let linked = link_object(&image, &mut mem, &mut resolver(&far_call)).unwrap();
        Memory::<[u8]>::release(&mut mem, linked.span);
        // The caller's variable, which -fpie code reaches with a 32-bit displacement, out of
        // reach: named, and the span given back.
        let far = [("host_add".to_string(), RUN_BASE + 0x10_0000), ("host_value".to_string(), 0x7fff_0000_0000)];
        let err = link_object(&image, &mut mem, &mut resolver(&far)).unwrap_err();
        assert!(err.starts_with("cannot place the unit where its 32-bit fields reach: "), "{err}");
        assert!(err.contains("0x7fff00000000"), "{err}");
        let mut nothing = |_: &Request<'_>| None;
        let err = link_object(&image, &mut mem, &mut nothing).unwrap_err();
        assert!(err.starts_with("undefined symbol host_"), "{err}");
        assert_eq!(link_object(&image, &mut mem, &mut resolver(&near)).unwrap().span.base, RUN_BASE);
        Memory::<[u8]>::release(&mut mem, Span { base: RUN_BASE, len: 1 << 20 });
        // Damaged objects are refused, never a panic: every truncation, and every byte of the
        // headers and tables changed.
        for n in 0..image.len() {
            assert!(link_object(&image[..n], &mut mem, &mut resolver(&near)).is_err(), "truncated to {n} bytes");
        }
        for i in 0..image.len() {
            let mut bad = image.clone();
            bad[i] ^= 0xa5;
            if let Ok(linked) = link_object(&bad, &mut mem, &mut resolver(&near)) {
                Memory::<[u8]>::release(&mut mem, linked.span);
            }
        }
        // A shared object is not a relocatable object.
        assert!(link_object(&build("caller_memory_not_rel"), &mut mem, &mut nothing).unwrap_err().contains("not a relocatable object"));
    }
}
