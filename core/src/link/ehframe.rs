//! The unit's `.eh_frame`: the objects' records one after the other, without the FDEs of code
//! that is not linked (functions of COMDAT groups another object provided), ended by a zero
//! terminator (libgcc's `__register_frame` walks the section up to it); and `.eh_frame_hdr`'s
//! binary search table over the kept FDEs ([`search_table`]), as `ld --eh-frame-hdr` writes it.

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
    /// How many of the pieces are FDEs: the most entries the search table can have.
    pub fdes: u64,
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
    crate::raw::le_u32(d, usize::try_from(at).ok()?)
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
                        out.fdes += 1;
                    }
                }
                off = end;
            }
        }
    }
    Ok(out)
}

/// The size of a value of DWARF pointer format `enc` (its low nibble, `DW_EH_PE_*`), as an
/// unwinder computes it; `None` for the variable-length LEB128 formats (which an unwinder cannot
/// size, and aborts on for FDE ranges) and unknown ones.
pub fn eh_pointer_size(enc: u8) -> Option<usize> {
    match enc & 0x0f {
        0x00 => Some(crate::raw::WORD),
        0x02 | 0x0a => Some(2),
        0x03 | 0x0b => Some(4),
        0x04 | 0x0c => Some(8),
        _ => None,
    }
}

/// The value of pointer format `enc` at `at` of `d`, sign-extended where signed, and its size.
#[inline]
fn fixed_value(d: &[u8], at: usize, enc: u8) -> Option<(i64, usize)> {
    let n = eh_pointer_size(enc)?;
    let b = d.get(at..at.checked_add(n)?)?;
    let v = match n {
        2 => u16::from_le_bytes([b[0], b[1]]) as u64,
        4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64,
        _ => u64::from_le_bytes(b.try_into().ok()?),
    };
    let shift = 64 - 8 * n as u32;
    let v = if enc & 0x08 != 0 { ((v << shift) as i64) >> shift } else { v as i64 };
    Some((v, n))
}

/// Past the LEB128 number at `at`.
fn skip_leb(d: &[u8], at: usize) -> Option<usize> {
    let n = d.get(at..)?.iter().position(|&b| b & 0x80 == 0)?;
    Some(at + n + 1)
}

const PE_PCREL: u8 = 0x10;
const PE_ALIGNED: u8 = 0x50;
const PE_INDIRECT: u8 = 0x80;

/// The encoding of the initial locations of the FDEs of the CIE whose record is `rec` (from its
/// length field): the 'R' of a "z" augmentation, absolute without one. `None` when the CIE
/// cannot be read, or names what an unwinder does not decode.
fn fde_encoding(rec: &[u8]) -> Option<u8> {
    let version = *rec.get(8)?;
    let aug_len = rec.get(9..)?.iter().position(|&b| b == 0)?;
    let aug = &rec[9..9 + aug_len];
    let mut at = skip_leb(rec, 9 + aug_len + 1)?;
    at = skip_leb(rec, at)?;
    at = if version == 1 { at + 1 } else { skip_leb(rec, at)? };
    let Some((&b'z', letters)) = aug.split_first() else {
        return aug.is_empty().then_some(0);
    };
    at = skip_leb(rec, at)?;
    let mut enc = 0;
    for &letter in letters {
        match letter {
            b'R' => enc = *rec.get(at)?,
            b'L' => {}
            // The personality routine's pointer, in its own encoding.
            b'P' => {
                let p = *rec.get(at)?;
                if p & 0x70 == PE_ALIGNED {
                    return None;
                }
                at += eh_pointer_size(p)?;
            }
            b'S' | b'B' => continue,
            _ => return None,
        }
        at += 1;
    }
    (enc & PE_INDIRECT == 0 && eh_pointer_size(enc).is_some()).then_some(enc)
}

/// The usual encoding of initial locations (GCC and Clang): 32-bit signed, relative to the field.
const PE_PCREL_SDATA4: u8 = PE_PCREL | 0x0b;

/// Write `.eh_frame_hdr`'s search table for the unit's `.eh_frame` (written and relocated at
/// offset `eh_frame` of `img`, the image written for the address `base`) after the header at
/// offset `hdr`: the number of entries (32-bit), then for each FDE that covers code its initial
/// location and the FDE's address, each 32-bit and relative to `hdr`, in ascending order of
/// location. Returns the number of entries; `None` when there is no table to write (nothing is
/// written then).
///
/// The locations are read back from the relocated FDEs, as an unwinder reads them. Left out, as
/// unwinders skip them: FDEs whose initial location is 0 (code not linked) and those that cover
/// no byte (a zero or negative length: an unwinder that lands on one reports no FDE). No table
/// when it could not lead an unwinder where a walk of `.eh_frame` does: a CIE or an FDE it cannot
/// read, an address the entries do not reach, or FDEs that overlap (`ld` refuses them; the linear
/// search of an unwinder takes the first in `.eh_frame` order, a binary search the last to
/// start). The unit then goes without one, and unwinders walk `.eh_frame`.
pub fn write_search_table(img: &mut [u8], eh: &EhFrame, eh_frame: u64, base: u64, hdr: u64) -> Option<usize> {
    // Each FDE's location (high half) and index in `fdes`, which holds its end and its offset.
    let mut keys: Vec<u64> = Vec::with_capacity(eh.fdes as usize);
    let mut fdes: Vec<(u32, u32)> = Vec::with_capacity(eh.fdes as usize);
    let mut sorted = true;
    // The FDE encodings of the CIEs seen, and of the one used last. (A section has one or two
    // CIEs, the last ones seen: they are looked for from the end.)
    let mut last = (u64::MAX, 0);
    let mut cies: Vec<(u64, u8)> = Vec::new();
    for p in &eh.pieces {
        let Some(cie) = p.cie else { continue };
        if cie != last.0 {
            let enc = match cies.iter().rev().find(|&&(c, _)| c == cie) {
                Some(&(_, enc)) => enc,
                None => {
                    let at = (eh_frame + cie) as usize;
                    let len = u32_at(img, at as u64)? as usize;
                    let enc = fde_encoding(img.get(at..at + 4 + len)?)?;
                    cies.push((cie, enc));
                    enc
                }
            };
            last = (cie, enc);
        }
        let enc = last.1;
        let fde = eh_frame + p.to;
        let rec = img.get(fde as usize..(fde + p.len) as usize)?;
        let (start, len, size) = match rec.get(8..16) {
            Some(w) if enc == PE_PCREL_SDATA4 => {
                let word = |i: usize| i32::from_le_bytes([w[i], w[i + 1], w[i + 2], w[i + 3]]) as i64;
                (word(0), word(4), 4)
            }
            _ => {
                let (start, size) = fixed_value(rec, 8, enc)?;
                (start, fixed_value(rec, 8 + size, enc)?.0, size)
            }
        };
        // An unwinder compares the field cut to its width with 0.
        if start as u64 & (u64::MAX >> (64 - 8 * size)) == 0 || len <= 0 {
            continue;
        }
        let loc = match enc & 0x70 {
            0 => (start as u64).wrapping_sub(base),
            PE_PCREL => (fde + 8).wrapping_add(start as u64),
            _ => return None,
        };
        // Offsets in the unit's first 4 GiB (the end's, so the location's too): the location
        // fits the key's high half.
        let end = u32::try_from(loc.checked_add(len as u64)?).ok()?;
        let key = loc << 32 | fdes.len() as u64;
        sorted &= keys.last().is_none_or(|&k| k < key);
        keys.push(key);
        fdes.push((end, u32::try_from(fde).ok()?));
    }
    // FDEs come in the order of the code, but for code in other sections of the same object
    // (the cold parts of functions in `.text.unlikely`): a few runs, which this sort merges.
    if !sorted {
        keys.sort();
    }
    let loc = |k: u64| k >> 32;
    let fde = |k: u64| fdes[k as u32 as usize];
    if keys.windows(2).any(|k| loc(k[1]) < fde(k[0]).0 as u64) {
        return None;
    }
    // Every entry reaches its place from the header: the FDEs lie between .eh_frame and the
    // header, the locations between the first and the last.
    let reach = |off: u64| i32::try_from(off as i64 - hdr as i64).is_ok();
    let (&lowest, &highest) = keys.first().zip(keys.last())?;
    if !reach(eh_frame) || !reach(loc(lowest)) || !reach(loc(highest)) {
        return None;
    }
    let at = (hdr + 8) as usize;
    let table = img.get_mut(at..at + 4 + 8 * keys.len())?;
    table[..4].copy_from_slice(&(keys.len() as u32).to_le_bytes());
    let rel = |off: u64| (off.wrapping_sub(hdr) as u32).to_le_bytes();
    for (e, &k) in table[4..].chunks_exact_mut(8).zip(&keys) {
        e[..4].copy_from_slice(&rel(loc(k)));
        e[4..].copy_from_slice(&rel(fde(k).1 as u64));
    }
    Some(keys.len())
}

#[cfg(test)]
mod tests {
    use super::{write_search_table, EhFrame, Piece};
    use alloc::vec;
    use alloc::vec::Vec;

    const EH_FRAME: u64 = 0x100;
    const HDR: u64 = 0x800;
    const BASE: u64 = 0x7000_0000_0000;

    /// An image whose .eh_frame has one CIE ("zR" with FDE encoding `enc`, or no augmentation
    /// when `enc` is `None`: absolute locations) and an FDE for each (location, length), in that
    /// order; locations are offsets from the base (0: a discarded FDE, whose field is 0).
    fn image(enc: Option<u8>, fdes: &[(u64, i64)]) -> (Vec<u8>, EhFrame) {
        let mut img = vec![0u8; 0x1000];
        let mut eh = EhFrame::default();
        let cie: Vec<u8> = match enc {
            Some(e) => vec![0, 0, 0, 0, 1, b'z', b'R', 0, 1, 0x78, 16, 1, e, 0, 0, 0],
            None => vec![0, 0, 0, 0, 1, 0, 1, 0x78, 16, 0, 0, 0],
        };
        let at = EH_FRAME as usize;
        img[at..at + 4].copy_from_slice(&(cie.len() as u32).to_le_bytes());
        img[at + 4..at + 4 + cie.len()].copy_from_slice(&cie);
        eh.pieces.push(Piece { obj: 0, sec: 0, from: 0, len: 4 + cie.len() as u64, to: 0, cie: None });
        let mut to = 4 + cie.len() as u64;
        let size = if matches!(enc, Some(0x1b)) { 4 } else { 8 };
        for &(loc, len) in fdes {
            let at = (EH_FRAME + to) as usize;
            let body = 4 + 2 * size + if enc.is_some() { 1 } else { 0 };
            img[at..at + 4].copy_from_slice(&(body as u32).to_le_bytes());
            img[at + 4..at + 8].copy_from_slice(&((to + 4) as u32).to_le_bytes());
            let field = (EH_FRAME + to + 8) as usize;
            let start = match (loc, size) {
                (0, _) => 0,
                (_, 4) => loc.wrapping_sub(field as u64),
                _ => BASE + loc,
            };
            img[field..field + size].copy_from_slice(&start.to_le_bytes()[..size]);
            img[field + size..field + 2 * size].copy_from_slice(&len.to_le_bytes()[..size]);
            eh.pieces.push(Piece { obj: 0, sec: 0, from: to, len: 4 + body as u64, to, cie: Some(0) });
            eh.fdes += 1;
            to += 4 + body as u64;
        }
        eh.size = to;
        (img, eh)
    }

    /// The table written at `HDR`: (location, FDE offset from .eh_frame) of each entry.
    fn table(img: &mut [u8], eh: &EhFrame) -> Option<Vec<(u64, u64)>> {
        let n = write_search_table(img, eh, EH_FRAME, BASE, HDR)?;
        let h = HDR as usize;
        assert_eq!(u32::from_le_bytes(img[h + 8..h + 12].try_into().unwrap()) as usize, n);
        let word = |at: usize| HDR.wrapping_add(i32::from_le_bytes(img[at..at + 4].try_into().unwrap()) as i64 as u64);
        Some((0..n).map(|i| (word(h + 12 + 8 * i), word(h + 16 + 8 * i) - EH_FRAME)).collect())
    }

    #[test]
    fn entries_sorted_without_fdes_that_cover_nothing() {
        // Cold parts out of order, a discarded FDE, a zero-length one at a function's address
        // and a negative length.
        let (mut img, eh) = image(Some(0x1b), &[(0x2000, 0x10), (0x3000, 8), (0, 0x10), (0x2010, 0x20), (0x2010, 0), (0x2100, -4)]);
        let fde = |i: u64| 20 + 17 * i;
        assert_eq!(table(&mut img, &eh), Some(vec![(0x2000, fde(0)), (0x2010, fde(3)), (0x3000, fde(1))]));
    }

    #[test]
    fn absolute_locations() {
        let (mut img, eh) = image(None, &[(0x2040, 0x10), (0x2000, 0x40)]);
        assert_eq!(table(&mut img, &eh), Some(vec![(0x2000, 16 + 24), (0x2040, 16)]));
    }

    #[test]
    fn no_table_for_overlapping_fdes_or_none() {
        for fdes in [&[(0x2000, 0x20), (0x2010, 0x8)][..], &[(0x2000, 0x10), (0x2000, 0x10)], &[(0, 0x10), (0x2000, 0)], &[]] {
            let (mut img, eh) = image(Some(0x1b), fdes);
            assert_eq!(table(&mut img, &eh), None, "{fdes:x?}");
            assert!(img[HDR as usize..].iter().all(|&b| b == 0), "nothing written for {fdes:x?}");
        }
    }
}
