//! `ar` archives: the member headers, GNU long names (`//`) and BSD ones (`#1/N`), and the
//! symbol index (`/`, `/SYM64/`) that tells which member defines a symbol without reading
//! the members. An archive without an index gets one built from its members' symbol tables.

use super::bad;
use super::object::{Object, Sym};
use super::Result;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use elf::abi;
use super::FxMap;

pub const MAGIC: &[u8; 8] = b"!<arch>\n";
const THIN_MAGIC: &[u8; 8] = b"!<thin>\n";
const HEADER: usize = 60;

/// One member.
pub struct Member<'a> {
    pub name: String,
    pub data: &'a [u8],
    /// Linked into the unit already.
    pub taken: bool,
}

pub struct Archive<'a> {
    pub name: String,
    pub members: Vec<Member<'a>>,
    /// Which member defines a symbol (the first, as `ld` takes it).
    pub index: FxMap<&'a [u8], usize>,
}

impl<'a> Archive<'a> {
    pub fn is_archive(data: &[u8]) -> bool {
        data.starts_with(MAGIC) || data.starts_with(THIN_MAGIC)
    }

    pub fn parse(name: &str, data: &'a [u8]) -> Result<Archive<'a>> {
        if data.starts_with(THIN_MAGIC) {
            return Err(bad(name, "thin archives (members stored outside the archive) are not supported"));
        }
        let mut members = Vec::new();
        let mut by_offset: FxMap<usize, usize> = FxMap::default();
        let mut long_names: &[u8] = &[];
        let mut symdef: Option<(&[u8], bool)> = None;
        let mut pos = MAGIC.len();
        while pos < data.len() {
            let header = data
                .get(pos..pos + HEADER)
                .ok_or_else(|| bad(name, format!("truncated member header at offset {pos:#x}")))?;
            if &header[58..60] != b"`\n" {
                return Err(bad(name, format!("bad member header at offset {pos:#x}")));
            }
            let field = |r: core::ops::Range<usize>| core::str::from_utf8(&header[r]).unwrap_or("").trim_end();
            let size: usize = field(48..58)
                .parse()
                .map_err(|_| bad(name, format!("bad member size at offset {pos:#x}")))?;
            let start = pos + HEADER;
            let body = start
                .checked_add(size)
                .and_then(|end| data.get(start..end))
                .ok_or_else(|| bad(name, format!("member at offset {pos:#x} ({size} bytes) runs past the end of the archive")))?;
            let raw = field(0..16);
            match raw {
                "/" | "/SYM64/" => symdef = Some((body, raw == "/SYM64/")),
                "//" => long_names = body,
                "__.SYMDEF" | "__.SYMDEF SORTED" => {}
                _ => {
                    let (mname, body) = if let Some(off) = raw.strip_prefix('/') {
                        // GNU: "/123" is an offset into the long-name table, ending with "/\n".
                        let off: usize = off.parse().map_err(|_| bad(name, format!("bad member name {raw:?}")))?;
                        let rest = long_names.get(off..).ok_or_else(|| bad(name, format!("member name {raw:?} outside the name table")))?;
                        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                        let n = rest[..end].strip_suffix(b"/").unwrap_or(&rest[..end]);
                        (String::from_utf8_lossy(n).into_owned(), body)
                    } else if let Some(len) = raw.strip_prefix("#1/") {
                        // BSD: the name is the first `len` bytes of the body.
                        let len: usize = len.parse().map_err(|_| bad(name, format!("bad member name {raw:?}")))?;
                        if len > body.len() {
                            return Err(bad(name, format!("member name {raw:?} longer than the member")));
                        }
                        let n = &body[..len];
                        let n = &n[..n.iter().position(|&b| b == 0).unwrap_or(len)];
                        (String::from_utf8_lossy(n).into_owned(), &body[len..])
                    } else {
                        (raw.strip_suffix('/').unwrap_or(raw).to_string(), body)
                    };
                    by_offset.insert(pos, members.len());
                    members.push(Member { name: mname, data: body, taken: false });
                }
            }
            pos = start + size + (size & 1);
        }
        let mut a = Archive { name: name.to_string(), members, index: FxMap::default() };
        match symdef {
            Some((table, wide)) => a.read_index(table, wide, &by_offset)?,
            None => a.build_index()?,
        }
        Ok(a)
    }

    /// The GNU index: a big-endian count, that many member header offsets, then the names.
    fn read_index(&mut self, table: &'a [u8], wide: bool, by_offset: &FxMap<usize, usize>) -> Result<()> {
        let w = if wide { 8 } else { 4 };
        let word = |at: usize| -> Option<usize> {
            let b = table.get(at..at + w)?;
            Some(if wide { u64::from_be_bytes(b.try_into().ok()?) as usize } else { u32::from_be_bytes(b.try_into().ok()?) as usize })
        };
        let truncated = || bad(&self.name, "truncated symbol index");
        let count = word(0).ok_or_else(truncated)?;
        let names_at = count.checked_add(1).and_then(|n| n.checked_mul(w)).filter(|&n| n <= table.len()).ok_or_else(truncated)?;
        let mut names = &table[names_at..];
        self.index.reserve(count);
        for i in 0..count {
            let off = word(w + i * w).ok_or_else(truncated)?;
            let sym = super::object::until_nul(names).ok_or_else(truncated)?;
            names = &names[sym.len() + 1..];
            let m = *by_offset
                .get(&off)
                .ok_or_else(|| bad(&self.name, format!("symbol index names a member at offset {off:#x}, where there is none")))?;
            self.index.entry(sym).or_insert(m);
        }
        Ok(())
    }

    /// Index the global definitions of the members that are relocatable objects.
    fn build_index(&mut self) -> Result<()> {
        for i in 0..self.members.len() {
            let data = self.members[i].data;
            if !Object::is_object(data) {
                continue;
            }
            let obj = Object::parse(self.member_name(i), data)?;
            for s in &obj.syms[obj.first_global..] {
                if defines(s) {
                    self.index.entry(s.name).or_insert(i);
                }
            }
        }
        Ok(())
    }

    /// `libx.a(member.o)`, for messages.
    pub fn member_name(&self, i: usize) -> String {
        format!("{}({})", self.name, self.members[i].name)
    }
}

/// Whether a symbol of an archive member is a definition the index lists.
fn defines(s: &Sym) -> bool {
    s.defined() && s.bind != abi::STB_LOCAL
}
