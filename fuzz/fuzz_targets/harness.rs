//! What the fuzz targets share: which inputs they give to relink, and how.
//!
//! Inputs given to relink are those that cannot make relink run code of the image itself. A malformed image whose initializer, finalizer or IFUNC resolver points at
//! bytes that are not a function crashes in its own code under any loader, and that is no
//! relink bug. So an input is skipped when it has an executable segment and anything relink
//! would call in it: DT_INIT, DT_FINI, init/fini arrays, an IFUNC symbol, an IRELATIVE
//! relocation, or a table that relocation could rewrite (text relocations, a symbol or
//! relocation table in a writable segment). Inputs relink cannot even parse always pass.
//!
//! The screen reads the image as `rl_open_mem` lays it out in memory (file bytes of each load
//! segment, zeros after them up to the end of its last page), and errs on the side of skipping.

const PAGE: u64 = 4096;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const SHF_EXECINSTR: u64 = 4;

fn u16_at(d: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(off..off.checked_add(2)?)?.try_into().ok()?))
}
fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(off..off.checked_add(4)?)?.try_into().ok()?))
}
fn u64_at(d: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(off..off.checked_add(8)?)?.try_into().ok()?))
}

struct Load {
    flags: u32,
    offset: u64,
    vaddr: u64,
    filesz: u64,
    memsz: u64,
}

impl Load {
    /// The page-rounded range the segment occupies in memory.
    fn pages(&self) -> Option<(u64, u64)> {
        let end = self.vaddr.checked_add(self.memsz)?.checked_add(PAGE - 1)? & !(PAGE - 1);
        Some((self.vaddr & !(PAGE - 1), end))
    }
}

/// The image as laid out in memory, by link-time address.
struct Memory<'a> {
    data: &'a [u8],
    loads: Vec<Load>,
}

impl Memory<'_> {
    fn segment(&self, v: u64) -> Option<&Load> {
        self.loads.iter().find(|l| l.pages().is_some_and(|(lo, hi)| v >= lo && v < hi))
    }

    fn byte(&self, v: u64) -> Option<u8> {
        let l = self.segment(v)?;
        let head = l.vaddr & (PAGE - 1);
        let start = l.vaddr - head;
        let in_file = v - start;
        if in_file < l.filesz.saturating_add(head) {
            let off = (l.offset.checked_sub(head)?).checked_add(in_file)?;
            Some(*self.data.get(usize::try_from(off).ok()?)?)
        } else {
            Some(0)
        }
    }

    fn word(&self, v: u64) -> Option<u64> {
        let mut w = 0u64;
        for i in 0..8 {
            w |= (self.byte(v.checked_add(i)?)? as u64) << (8 * i);
        }
        Some(w)
    }

    /// The end of the page range holding `v` (how far a table starting there can reach).
    fn end_of(&self, v: u64) -> u64 {
        self.segment(v).and_then(Load::pages).map_or(v, |(_, hi)| hi)
    }

    fn writable(&self, v: u64) -> bool {
        self.segment(v).is_some_and(|l| l.flags & PF_W != 0)
    }
}

/// Whether relink could run code of the image `d` (a shared object) if it loaded it.
fn shared_object_runs_code(d: &[u8]) -> Option<bool> {
    let phoff = usize::try_from(u64_at(d, 0x20)?).ok()?;
    let phnum = u16_at(d, 0x38)? as usize;
    let mut loads = Vec::new();
    let mut dynamic = None;
    for i in 0..phnum {
        let at = phoff.checked_add(56 * i)?;
        let (ty, flags) = (u32_at(d, at)?, u32_at(d, at + 4)?);
        let (offset, vaddr) = (u64_at(d, at + 8)?, u64_at(d, at + 16)?);
        let (filesz, memsz) = (u64_at(d, at + 32)?, u64_at(d, at + 40)?);
        match ty {
            PT_LOAD => loads.push(Load { flags, offset, vaddr, filesz, memsz }),
            PT_DYNAMIC => dynamic = Some(vaddr),
            _ => {}
        }
    }
    if !loads.iter().any(|l| l.flags & PF_X != 0) {
        // Nothing of the image is executable: relink refuses to call into it.
        return Some(false);
    }
    let mem = Memory { data: d, loads };
    let mut at = dynamic?;
    let (mut symtabs, mut tables) = (Vec::new(), Vec::new());
    let end = mem.end_of(at);
    while at.checked_add(16)? <= end {
        let (tag, val) = (mem.word(at)? as i64, mem.word(at + 8)?);
        match tag {
            0 => break,
            // DT_INIT, DT_FINI, DT_INIT_ARRAY, DT_FINI_ARRAY, their sizes, DT_PREINIT_ARRAY(SZ),
            // DT_TEXTREL.
            12 | 13 | 25 | 26 | 27 | 28 | 32 | 33 | 22 => return Some(true),
            // DT_FLAGS with DF_TEXTREL.
            30 if val & 4 != 0 => return Some(true),
            6 => symtabs.push(val),
            7 | 23 => tables.push(val),
            _ => {}
        }
        at += 16;
    }
    // Symbols of type STT_GNU_IFUNC, relocations of type R_X86_64_IRELATIVE.
    for s in symtabs {
        if any_entry(&mem, s, |e| Some(mem.byte(e + 4)? & 0xf == 10))? {
            return Some(true);
        }
    }
    for t in tables {
        if any_entry(&mem, t, |e| Some(mem.word(e + 8)? as u32 == 37))? {
            return Some(true);
        }
    }
    Some(false)
}

/// Whether `bad` holds for a 24-byte entry of the table at `start` (read up to the end of its
/// segment, whatever its size says), or the table is writable (relocation could rewrite it).
fn any_entry(mem: &Memory, start: u64, bad: impl Fn(u64) -> Option<bool>) -> Option<bool> {
    if mem.writable(start) {
        return Some(true);
    }
    let mut e = start;
    while e.checked_add(24)? <= mem.end_of(start) {
        if bad(e)? {
            return Some(true);
        }
        e += 24;
    }
    Some(false)
}

/// Whether a relocatable object has executable sections (code a loader of `.o` files would run).
fn relocatable_has_code(d: &[u8]) -> Option<bool> {
    let shoff = usize::try_from(u64_at(d, 0x28)?).ok()?;
    let shnum = u16_at(d, 0x3c)? as usize;
    for i in 0..shnum {
        let flags = u64_at(d, shoff.checked_add(64 * i)?.checked_add(8)?)?;
        if flags & SHF_EXECINSTR != 0 {
            return Some(true);
        }
    }
    Some(false)
}

/// Whether `d` may be given to relink: it cannot make relink run code of its own.
pub fn runs_no_code(d: &[u8]) -> bool {
    if d.len() < 64 || &d[..4] != b"\x7fELF" {
        return true;
    }
    let runs = match u16_at(d, 16) {
        Some(1) => relocatable_has_code(d),
        _ => shared_object_runs_code(d),
    };
    // What the screen cannot read, relink cannot map either.
    !runs.unwrap_or(false)
}

/// Open `data` from memory with RL_NOW, then RL_LAZY, skipping inputs that could run code of
/// their own; `look` examines each library that loads, which is then closed. A refusal must come
/// with a message.
pub fn open_each_way(data: &[u8], name: &std::ffi::CStr, look: unsafe fn(*mut relink::ffi::rl_handle)) {
    use relink::ffi::*;
    if !runs_no_code(data) {
        return;
    }
    for flags in [RL_NOW, RL_LAZY] {
        // SAFETY: `data` is readable for its length; `name` is a C string; `h` is the handle
        // just returned.
        unsafe {
            let h = rl_open_mem(data.as_ptr().cast(), data.len(), name.as_ptr(), flags);
            if h.is_null() {
                assert!(!rl_error().is_null(), "refused without a message");
                continue;
            }
            look(h);
            assert_eq!(rl_close(h), 0, "rl_close failed");
        }
    }
}
