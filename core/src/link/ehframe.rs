//! The unit's `.eh_frame`: the objects' records one after the other, without the FDEs of code
//! that is not linked (functions of COMDAT groups another object provided), ended by a zero
//! terminator (libgcc's `__register_frame` walks the section up to it).

use super::object::{show, Reloc};
use super::layout::{target_in, Targets};
use super::{Linker, Target};
use super::Result;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// A kept record: where it is in its input section and where it goes in the output.
#[derive(Clone, Copy, Debug)]
pub struct Piece {
    pub obj: u32,
    pub sec: u32,
    pub from: u64,
    pub len: u64,
    pub to: u64,
    /// For an FDE: the output offset of its CIE (its CIE pointer is rewritten).
    pub cie: Option<u64>,
}

#[derive(Default, Debug)]
pub struct EhFrame {
    pub pieces: Vec<Piece>,
    /// Without the terminator.
    pub size: u64,
}

impl EhFrame {
    /// The kept records of one input `.eh_frame` section, in input order.
    pub fn pieces_of(&self, obj: u32, sec: u32) -> &[Piece] {
        let start = self.pieces.partition_point(|p| (p.obj, p.sec) < (obj, sec));
        let len = self.pieces[start..].partition_point(|p| (p.obj, p.sec) == (obj, sec));
        &self.pieces[start..start + len]
    }
}

/// Where byte `off` of an input `.eh_frame` section went, if its record was kept; `pieces` are
/// the section's ([`EhFrame::pieces_of`]) and `hint` the piece the previous call found (a
/// section's relocations come in offset order: each lookup then starts where the last ended).
#[inline]
pub fn place_in(pieces: &[Piece], hint: &mut usize, off: u64) -> Option<u64> {
    let mut i = *hint;
    if pieces.get(i).is_none_or(|p| off < p.from) {
        i = pieces.partition_point(|p| p.from + p.len <= off);
    } else {
        while pieces.get(i).is_some_and(|p| p.from + p.len <= off) {
            i += 1;
        }
    }
    *hint = i;
    let p = pieces.get(i)?;
    (off >= p.from).then(|| p.to + (off - p.from))
}

fn u32_at(d: &[u8], at: u64) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at as usize..at as usize + 4)?.try_into().ok()?))
}

/// Choose the records to keep; `targets` tell which relocations refer to code not linked.
pub fn plan(l: &Linker, targets: &Targets) -> Result<EhFrame> {
    let mut out = EhFrame::default();
    // Room for every record at once (one is at least 16 bytes long): the list is not copied as
    // it grows, and what it does not use is never touched.
    let bytes: u64 = l.objs.iter().flat_map(|o| &o.sections).filter(|s| s.live && s.name == b".eh_frame").map(|s| s.size).sum();
    out.pieces.reserve((bytes / 16) as usize);
    for (oi, o) in l.objs.iter().enumerate() {
        for (si, s) in o.sections.iter().enumerate() {
            if !s.live || s.name != b".eh_frame" {
                continue;
            }
            let bad = |why: String| super::bad(&o.name, format!(".eh_frame: {why}"));
            let mut relocs: Vec<Reloc> = s.relocs.iter().collect();
            relocs.sort_by_key(|r| r.offset);
            let ts = targets.of(oi as u32);
            // The first relocation not before the record being read (records come in order).
            let mut ri = 0;
            let mut cies: Vec<(u64, u64)> = Vec::new();
            let mut off = 0u64;
            while off < s.size {
                let len = u32_at(s.data, off).ok_or_else(|| bad(format!("truncated record at {off:#x}")))? as u64;
                if len == 0 {
                    break;
                }
                if len == 0xffff_ffff {
                    return Err(bad(format!("64-bit record at {off:#x} is not supported")));
                }
                let end = off + 4 + len;
                let id = u32_at(s.data, off + 4).filter(|_| end <= s.size && len >= 4);
                let id = id.ok_or_else(|| bad(format!("record at {off:#x} runs past the end of {}", show(s.name))))? as u64;
                let to = out.size;
                if id == 0 {
                    cies.push((off, to));
                    out.pieces.push(Piece { obj: oi as u32, sec: si as u32, from: off, len: len + 4, to, cie: None });
                    out.size += len + 4;
                } else {
                    let cie_at = (off + 4).checked_sub(id);
                    let cie = cies.iter().find(|&&(c, _)| Some(c) == cie_at).map(|&(_, to)| to);
                    let cie = cie.ok_or_else(|| bad(format!("FDE at {off:#x} points at no CIE before it")))?;
                    // pc_begin is the field after the CIE pointer; its relocation names the code.
                    while relocs.get(ri).is_some_and(|r| r.offset < off + 8) {
                        ri += 1;
                    }
                    let dead = relocs
                        .get(ri)
                        .filter(|r| r.offset == off + 8)
                        .is_some_and(|r| matches!(target_in(ts, r.sym), Target::Discarded));
                    if !dead {
                        out.pieces.push(Piece { obj: oi as u32, sec: si as u32, from: off, len: len + 4, to, cie: Some(cie) });
                        out.size += len + 4;
                    }
                }
                off = end;
            }
        }
    }
    Ok(out)
}
