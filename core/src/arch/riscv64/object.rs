//! The psABI's relocations for RV64 relocatable objects, as pure arithmetic on the bytes of
//! the place. S is the symbol's value, A the addend, P the place, G the offset of the
//! symbol's GOT entry and GOT the GOT's address, L the symbol's PLT entry or call stub (S
//! when it needs none), V the value already at the place:
//!
//! | type                     | site                | value                              |
//! |--------------------------|---------------------|------------------------------------|
//! | 1 32, 2 64               | word32, word64      | S + A                              |
//! | 16 BRANCH                | B-type              | S + A - P (±4 KiB)                 |
//! | 17 JAL                   | J-type              | S + A - P (±1 MiB)                 |
//! | 18 CALL, 19 CALL_PLT     | auipc + jalr pair   | L + A - P                          |
//! | 20 GOT_HI20              | U-type              | G + GOT + A - P                    |
//! | 21 TLS_GOT_HI20          | U-type              | GOT entry of S's TP offset + A - P |
//! | 22 TLS_GD_HI20           | U-type              | GD `tls_index` pair + A - P        |
//! | 23 PCREL_HI20            | U-type              | S + A - P                          |
//! | 24 PCREL_LO12_I, 25 _S   | I-type, S-type      | low 12 bits of the value of the HI20 relocation at S |
//! | 26 HI20                  | U-type              | S + A                              |
//! | 27 LO12_I, 28 LO12_S     | I-type, S-type      | S + A                              |
//! | 29 TPREL_HI20            | U-type              | TP offset of S + A                 |
//! | 30 TPREL_LO12_I, 31 _S   | I-type, S-type      | TP offset of S + A                 |
//! | 32 TPREL_ADD             | none                | (marks the add of tp)              |
//! | 33–36 ADD8/16/32/64      | word8..64           | V + S + A                          |
//! | 37–40 SUB8/16/32/64      | word8..64           | V - S - A                          |
//! | 41 GOT32_PCREL           | word32              | G + GOT + A - P                    |
//! | 43 ALIGN                 | none                | padding a relaxing linker trims    |
//! | 44 RVC_BRANCH            | CB-type             | S + A - P (±256 B)                 |
//! | 45 RVC_JUMP              | CJ-type             | S + A - P (±2 KiB)                 |
//! | 46 RVC_LUI               | CI-type (c.lui)     | S + A                              |
//! | 51 RELAX                 | none                | (the previous one may be relaxed)  |
//! | 52 SUB6, 53 SET6         | low 6 bits of word8 | V - S - A, S + A                   |
//! | 54–56 SET8/16/32         | word8..32           | S + A                              |
//! | 57 32_PCREL              | word32              | S + A - P                          |
//! | 59 PLT32                 | word32              | L + A - P                          |
//! | 60 SET_ULEB128, 61 SUB_  | ULEB128 in place    | S + A, V - S - A                   |
//! | 62 TLSDESC_HI20          | U-type              | TLS descriptor + A - P             |
//! | 63 TLSDESC_LOAD_LO12, 64 TLSDESC_ADD_LO12 | I-type | low 12 bits of the value of the TLSDESC_HI20 at S |
//! | 65 TLSDESC_CALL          | none                | (marks the descriptor call)        |
//!
//! A "HI20" part is `(v + 0x800) >> 12`, so that adding the sign-extended low 12 bits gives
//! `v` back; the pair reaches offsets in [-2 GiB - 2 KiB, 2 GiB - 2 KiB).
//!
//! Without relaxation RELAX needs nothing, and ALIGN's `nop` padding stays: the code is
//! correct as the assembler wrote it, but what follows the padding may be less aligned than
//! asked for (alignment of code is a matter of speed only).
// The relocation numbers are the same for RV32 and RV64: the riscv32 file names them (those
// of this file and of riscv64.rs).
pub use crate::arch::riscv32::{
    EM_RISCV, R_RISCV_32, R_RISCV_32_PCREL, R_RISCV_64, R_RISCV_ADD16, R_RISCV_ADD32, R_RISCV_ADD64, R_RISCV_ADD8, R_RISCV_ALIGN, R_RISCV_BRANCH, R_RISCV_CALL, R_RISCV_CALL_PLT, R_RISCV_COPY, R_RISCV_GOT32_PCREL, R_RISCV_GOT_HI20, R_RISCV_HI20, R_RISCV_IRELATIVE, R_RISCV_JAL, R_RISCV_JUMP_SLOT, R_RISCV_LO12_I, R_RISCV_LO12_S, R_RISCV_NONE, R_RISCV_PCREL_HI20, R_RISCV_PCREL_LO12_I, R_RISCV_PCREL_LO12_S, R_RISCV_PLT32, R_RISCV_RELATIVE, R_RISCV_RELAX, R_RISCV_RVC_BRANCH, R_RISCV_RVC_JUMP, R_RISCV_SET16, R_RISCV_SET32, R_RISCV_SET6, R_RISCV_SET8, R_RISCV_SET_ULEB128, R_RISCV_SUB16, R_RISCV_SUB32, R_RISCV_SUB6, R_RISCV_SUB64, R_RISCV_SUB8, R_RISCV_SUB_ULEB128, R_RISCV_TLSDESC, R_RISCV_TLSDESC_ADD_LO12, R_RISCV_TLSDESC_CALL, R_RISCV_TLSDESC_HI20, R_RISCV_TLSDESC_LOAD_LO12, R_RISCV_TLS_DTPMOD32, R_RISCV_TLS_DTPMOD64, R_RISCV_TLS_DTPREL32, R_RISCV_TLS_DTPREL64, R_RISCV_TLS_GD_HI20, R_RISCV_TLS_GOT_HI20, R_RISCV_TLS_TPREL32, R_RISCV_TLS_TPREL64, R_RISCV_TPREL_ADD, R_RISCV_TPREL_HI20, R_RISCV_TPREL_LO12_I, R_RISCV_TPREL_LO12_S,
};

/// `c.lui` ← the high part of S + A (the riscv32 table does not apply it).
pub const R_RISCV_RVC_LUI: u32 = 46;

/// What a relocation computes (see the table above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// Nothing to compute or write (RELAX, ALIGN, TPREL_ADD, TLSDESC_CALL).
    None,
    /// S + A
    Abs,
    /// S + A - P
    Pc,
    /// L + A - P
    CallPc,
    /// G + GOT + A - P
    GotPc,
    /// The GOT entry of S's thread-pointer offset + A - P (initial exec)
    TlsGotPc,
    /// The GOT's GD `tls_index` pair of S + A - P
    TlsGdPc,
    /// The TLS descriptor of S + A - P
    TlsDescPc,
    /// Thread-pointer offset of S + A (local exec)
    TpRel,
    /// The value computed for the HI20 relocation at the `auipc` S labels (its low part
    /// goes into this instruction).
    PairedLo,
    /// V + S + A
    Add,
    /// V - S - A
    Sub,
}

/// Where and how the value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    None,
    Word8,
    Word16,
    Word32,
    Word64,
    /// The low 6 bits of a byte.
    Low6,
    /// An unsigned LEB128 number, rewritten in the bytes it already has.
    Uleb128,
    /// U-type (lui, auipc): the HI20 part.
    U,
    /// I-type: the low 12 bits (the part left over by a HI20 when `lo` is set, else the
    /// whole value, which must then fit).
    I,
    /// S-type, like I.
    S,
    /// B-type conditional branch, ±4 KiB, even.
    B,
    /// J-type (jal), ±1 MiB, even.
    J,
    /// auipc + jalr: HI20 into the first, the low 12 bits into the second.
    AuipcJalr,
    /// CB-type (c.beqz, c.bnez), ±256 B, even.
    Cb,
    /// CJ-type (c.j, c.jal), ±2 KiB, even.
    Cj,
    /// c.lui: the HI20 part, which must be a non-zero 6-bit signed number.
    CLui,
}

/// The value and site of an RV64 object relocation type; `None` for a type relink does
/// not know (or one that is not used in RV64 objects).
pub fn reloc(r_type: u32) -> Option<(Value, Site)> {
        Some(match r_type {
        R_RISCV_NONE | R_RISCV_RELAX | R_RISCV_ALIGN | R_RISCV_TPREL_ADD | R_RISCV_TLSDESC_CALL => (Value::None, Site::None),
        R_RISCV_32 | R_RISCV_SET32 => (Value::Abs, Site::Word32),
        R_RISCV_64 => (Value::Abs, Site::Word64),
        R_RISCV_SET8 => (Value::Abs, Site::Word8),
        R_RISCV_SET16 => (Value::Abs, Site::Word16),
        R_RISCV_SET6 => (Value::Abs, Site::Low6),
        R_RISCV_SET_ULEB128 => (Value::Abs, Site::Uleb128),
        R_RISCV_ADD8 => (Value::Add, Site::Word8),
        R_RISCV_ADD16 => (Value::Add, Site::Word16),
        R_RISCV_ADD32 => (Value::Add, Site::Word32),
        R_RISCV_ADD64 => (Value::Add, Site::Word64),
        R_RISCV_SUB8 => (Value::Sub, Site::Word8),
        R_RISCV_SUB16 => (Value::Sub, Site::Word16),
        R_RISCV_SUB32 => (Value::Sub, Site::Word32),
        R_RISCV_SUB64 => (Value::Sub, Site::Word64),
        R_RISCV_SUB6 => (Value::Sub, Site::Low6),
        R_RISCV_SUB_ULEB128 => (Value::Sub, Site::Uleb128),
        R_RISCV_32_PCREL => (Value::Pc, Site::Word32),
        R_RISCV_PLT32 => (Value::CallPc, Site::Word32),
        R_RISCV_GOT32_PCREL => (Value::GotPc, Site::Word32),
        R_RISCV_BRANCH => (Value::Pc, Site::B),
        R_RISCV_JAL => (Value::Pc, Site::J),
        R_RISCV_CALL | R_RISCV_CALL_PLT => (Value::CallPc, Site::AuipcJalr),
        R_RISCV_RVC_BRANCH => (Value::Pc, Site::Cb),
        R_RISCV_RVC_JUMP => (Value::Pc, Site::Cj),
        R_RISCV_RVC_LUI => (Value::Abs, Site::CLui),
        R_RISCV_HI20 => (Value::Abs, Site::U),
        R_RISCV_LO12_I => (Value::Abs, Site::I),
        R_RISCV_LO12_S => (Value::Abs, Site::S),
        R_RISCV_PCREL_HI20 => (Value::Pc, Site::U),
        R_RISCV_GOT_HI20 => (Value::GotPc, Site::U),
        R_RISCV_TLS_GOT_HI20 => (Value::TlsGotPc, Site::U),
        R_RISCV_TLS_GD_HI20 => (Value::TlsGdPc, Site::U),
        R_RISCV_TLSDESC_HI20 => (Value::TlsDescPc, Site::U),
        R_RISCV_PCREL_LO12_I | R_RISCV_TLSDESC_LOAD_LO12 | R_RISCV_TLSDESC_ADD_LO12 => (Value::PairedLo, Site::I),
        R_RISCV_PCREL_LO12_S => (Value::PairedLo, Site::S),
        R_RISCV_TPREL_HI20 => (Value::TpRel, Site::U),
        R_RISCV_TPREL_LO12_I => (Value::TpRel, Site::I),
        R_RISCV_TPREL_LO12_S => (Value::TpRel, Site::S),
        _ => return None,
    })
}

/// Whether a relocation of this type is the HI20 half that PCREL_LO12 and TLSDESC_*_LO12
/// relocations point back at (their symbol labels its `auipc`).
pub fn is_pcrel_hi(r_type: u32) -> bool {
    matches!(r_type, R_RISCV_PCREL_HI20 | R_RISCV_GOT_HI20 | R_RISCV_TLS_GOT_HI20 | R_RISCV_TLS_GD_HI20 | R_RISCV_TLSDESC_HI20)
}

/// Whether the site's value is only the low part of a HI20/LO12 pair (so any value fits).
pub fn is_lo12(r_type: u32) -> bool {
    matches!(
        r_type,
        R_RISCV_LO12_I
            | R_RISCV_LO12_S
            | R_RISCV_PCREL_LO12_I
            | R_RISCV_PCREL_LO12_S
            | R_RISCV_TPREL_LO12_I
            | R_RISCV_TPREL_LO12_S
            | R_RISCV_TLSDESC_LOAD_LO12
            | R_RISCV_TLSDESC_ADD_LO12
    )
}

/// The HI20 part of `v`: what `lui`/`auipc` load (bits 31..12 of the instruction).
pub fn hi20(v: i64) -> u32 {
    ((v.wrapping_add(0x800) >> 12) as u32) & 0xf_ffff
}

/// The low 12 bits of `v` that complete [`hi20`], sign-extended.
pub fn lo12(v: i64) -> i64 {
    (v << 52) >> 52
}

/// A PLT entry's code at `at` that jumps through the GOT word at `slot` (16 bytes, what a call
/// stub for a symbol outside the unit is too): `auipc t3, hi; ld t3, lo(t3); jalr t1, t3; nop`.
pub fn plt_entry(at: u64, slot: u64) -> [u8; 16] {
    let d = slot.wrapping_sub(at) as i64;
    let words = [
        0x0000_0e17 | hi20(d) << 12,                // auipc t3, hi
        0x000e_3e03 | bits(lo12(d), 11, 0, 20),     // ld t3, lo(t3)
        0x000e_0367,                                // jalr t1, t3
        0x0000_0013,                                // nop
    ];
    let mut s = [0; 16];
    for (i, w) in words.iter().enumerate() {
        s[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    s
}

pub use crate::arch::Bad;
use crate::arch::fits_signed;

fn word<const N: usize>(b: &[u8]) -> Result<[u8; N], Bad> {
    b.get(..N).and_then(|s| s.try_into().ok()).ok_or(Bad::Place)
}

/// Overwrite the first bytes of `place` with `bytes`.
fn put(place: &mut [u8], bytes: &[u8]) -> Result<(), Bad> {
    place.get_mut(..bytes.len()).ok_or(Bad::Place)?.copy_from_slice(bytes);
    Ok(())
}

fn insn32(b: &[u8], at: usize) -> Result<u32, Bad> {
    Ok(u32::from_le_bytes(word::<4>(b.get(at..).ok_or(Bad::Place)?)?))
}

fn insn16(b: &[u8]) -> Result<u16, Bad> {
    Ok(u16::from_le_bytes(word::<2>(b)?))
}

/// Bit `i` of `v`, moved to bit `to`.
fn bit(v: i64, i: u32, to: u32) -> u32 {
    (((v >> i) & 1) as u32) << to
}

/// Bits `hi..=lo` of `v`, moved so that `lo` lands at `to`.
fn bits(v: i64, hi: u32, lo: u32, to: u32) -> u32 {
    (((v >> lo) as u32) & ((1 << (hi - lo + 1)) - 1)) << to
}

/// The I-type immediate field (bits 31..20) set to `imm`.
fn set_i(insn: u32, imm: i64) -> u32 {
    insn & 0x000f_ffff | bits(imm, 11, 0, 20)
}

/// The S-type immediate fields (31..25 and 11..7) set to `imm`.
fn set_s(insn: u32, imm: i64) -> u32 {
    insn & 0x01ff_f07f | bits(imm, 11, 5, 25) | bits(imm, 4, 0, 7)
}

/// The U-type immediate (31..12) set to the HI20 part of `v`.
fn set_u(insn: u32, v: i64) -> u32 {
    insn & 0xfff | hi20(v) << 12
}

/// Write `value` (V already folded in for ADD and SUB) at the start of `place`, the bytes
/// of the relocated section from the relocation's offset on. `lo` says whether an I or S
/// site takes only the low part of a HI20/LO12 pair (LO12, PCREL_LO12, TPREL_LO12 types).
pub fn write(site: Site, place: &mut [u8], value: i64, lo: bool) -> Result<(), Bad> {
    let put32 = |place: &mut [u8], at: usize, w: u32| place[at..at + 4].copy_from_slice(&w.to_le_bytes());
    let hi_fits = |v: i64| fits_signed(v.wrapping_add(0x800), 32);
    match site {
        Site::None => {}
        Site::Word8 => put(place, &[value as u8])?,
        Site::Word16 => put(place, &(value as u16).to_le_bytes())?,
        Site::Word32 => put(place, &(value as u32).to_le_bytes())?,
        Site::Word64 => put(place, &(value as u64).to_le_bytes())?,
        Site::Low6 => {
            let b = word::<1>(place)?[0];
            place[0] = b & 0xc0 | (value as u8) & 0x3f;
        }
        Site::Uleb128 => {
            // The bytes the number has now: every byte but the last has the high bit set.
            let len = place.iter().position(|b| b & 0x80 == 0).ok_or(Bad::Place)? + 1;
            let mut v = value as u64;
            for (i, b) in place[..len].iter_mut().enumerate() {
                *b = (v & 0x7f) as u8 | if i + 1 < len { 0x80 } else { 0 };
                v >>= 7;
            }
            if v != 0 {
                return Err(Bad::Range);
            }
        }
        Site::U => {
            let insn = insn32(place, 0)?;
            if !hi_fits(value) {
                return Err(Bad::Range);
            }
            put32(place, 0, set_u(insn, value));
        }
        Site::I | Site::S => {
            let insn = insn32(place, 0)?;
            if !lo && !fits_signed(value, 12) {
                return Err(Bad::Range);
            }
            let imm = lo12(value);
            put32(place, 0, if site == Site::I { set_i(insn, imm) } else { set_s(insn, imm) });
        }
        Site::AuipcJalr => {
            let (auipc, jalr) = (insn32(place, 0)?, insn32(place, 4)?);
            if !hi_fits(value) {
                return Err(Bad::Range);
            }
            put32(place, 0, set_u(auipc, value));
            put32(place, 4, set_i(jalr, lo12(value)));
        }
        Site::B => {
            let insn = insn32(place, 0)?;
            check_branch(value, 13)?;
            // imm[12|10:5] in 31..25, imm[4:1|11] in 11..7.
            let imm = bit(value, 12, 31) | bits(value, 10, 5, 25) | bits(value, 4, 1, 8) | bit(value, 11, 7);
            put32(place, 0, insn & 0x01ff_f07f | imm);
        }
        Site::J => {
            let insn = insn32(place, 0)?;
            check_branch(value, 21)?;
            // imm[20|10:1|11|19:12] in 31..12.
            let imm = bit(value, 20, 31) | bits(value, 10, 1, 21) | bit(value, 11, 20) | bits(value, 19, 12, 12);
            put32(place, 0, insn & 0xfff | imm);
        }
        Site::Cb => {
            let insn = insn16(place)? as u32;
            check_branch(value, 9)?;
            // offset[8|4:3] in 12..10, offset[7:6|2:1|5] in 6..2.
            let imm = bit(value, 8, 12)
                | bits(value, 4, 3, 10)
                | bits(value, 7, 6, 5)
                | bits(value, 2, 1, 3)
                | bit(value, 5, 2);
            place[..2].copy_from_slice(&((insn & 0xe383 | imm) as u16).to_le_bytes());
        }
        Site::Cj => {
            let insn = insn16(place)? as u32;
            check_branch(value, 12)?;
            // offset[11|4|9:8|10|6|7|3:1|5] in 12..2.
            let imm = bit(value, 11, 12)
                | bit(value, 4, 11)
                | bits(value, 9, 8, 9)
                | bit(value, 10, 8)
                | bit(value, 6, 7)
                | bit(value, 7, 6)
                | bits(value, 3, 1, 3)
                | bit(value, 5, 2);
            place[..2].copy_from_slice(&((insn & 0xe003 | imm) as u16).to_le_bytes());
        }
        Site::CLui => {
            let insn = insn16(place)? as u32;
            // The HI20 part as a 6-bit signed number (nzimm[17:12]); 0 is not encodable.
            let hi = value.wrapping_add(0x800) >> 12;
            if !fits_signed(hi, 6) {
                return Err(Bad::Range);
            }
            if hi == 0 {
                return Err(Bad::Place);
            }
            let imm = bit(hi, 5, 12) | bits(hi, 4, 0, 2);
            place[..2].copy_from_slice(&((insn & 0xef83 | imm) as u16).to_le_bytes());
        }
    }
    Ok(())
}

fn check_branch(v: i64, bits: u32) -> Result<(), Bad> {
    if v & 1 != 0 {
        Err(Bad::Odd)
    } else if !fits_signed(v, bits) {
        Err(Bad::Range)
    } else {
        Ok(())
    }
}

/// The value for a relocation whose value is V ± (S + A) or S + A: `sa` is S + A and
/// `old` reads V from the place (as wide as the site).
pub fn word_value(value: Value, sa: i64, old: i64) -> i64 {
    match value {
        Value::Add => old.wrapping_add(sa),
        Value::Sub => old.wrapping_sub(sa),
        _ => sa,
    }
}

/// V as read from a word, 6-bit or ULEB128 site.
pub fn read_old(site: Site, place: &[u8]) -> Option<i64> {
    Some(match site {
        Site::Word8 => *place.first()? as i64,
        Site::Word16 => u16::from_le_bytes(place.get(..2)?.try_into().ok()?) as i64,
        Site::Word32 => u32::from_le_bytes(place.get(..4)?.try_into().ok()?) as i64,
        Site::Word64 => u64::from_le_bytes(place.get(..8)?.try_into().ok()?) as i64,
        Site::Low6 => (*place.first()? & 0x3f) as i64,
        Site::Uleb128 => {
            let mut v = 0u64;
            for (i, b) in place.iter().enumerate().take(10) {
                v |= ((b & 0x7f) as u64) << (7 * i);
                if b & 0x80 == 0 {
                    return Some(v as i64);
                }
            }
            return None;
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    //! Expected instruction words are written out from the instruction formats of the RISC-V
    //! unprivileged ISA manual (opcode, registers and immediate bit positions), not computed.
    use super::*;
    use std::{vec, vec::Vec};

    fn le(w: u32) -> Vec<u8> {
        w.to_le_bytes().to_vec()
    }

    fn patch32(site: Site, insn: u32, v: i64, lo: bool) -> Result<u32, Bad> {
        let mut b = le(insn);
        write(site, &mut b, v, lo)?;
        Ok(u32::from_le_bytes(b[..4].try_into().unwrap()))
    }

    fn patch16(site: Site, insn: u16, v: i64) -> Result<u16, Bad> {
        let mut b = insn.to_le_bytes().to_vec();
        write(site, &mut b, v, false)?;
        Ok(u16::from_le_bytes(b[..2].try_into().unwrap()))
    }

    // auipc a0, 0 = 0x00000517; addi a0, a0, 0 = 0x00050513; sd a1, 0(a0) = 0x00b53023.
    const AUIPC_A0: u32 = 0x0000_0517;
    const ADDI_A0: u32 = 0x0005_0513;
    const SD_A1_A0: u32 = 0x00b5_3023;

    #[test]
    fn hi20_lo12_pairs() {
        // 0x12345678: hi 0x12345, lo 0x678.
        assert_eq!(patch32(Site::U, AUIPC_A0, 0x1234_5678, false), Ok(0x1234_5517));
        assert_eq!(patch32(Site::I, ADDI_A0, 0x1234_5678, true), Ok(0x6785_0513));
        // 0x12345fff: lo is -1, so hi rounds up to 0x12346.
        assert_eq!(patch32(Site::U, AUIPC_A0, 0x1234_5fff, false), Ok(0x1234_6517));
        assert_eq!(patch32(Site::I, ADDI_A0, 0x1234_5fff, true), Ok(0xfff5_0513));
        // -0x800: hi 0, lo -0x800.
        assert_eq!(patch32(Site::U, AUIPC_A0, -0x800, false), Ok(0x0000_0517));
        assert_eq!(patch32(Site::I, ADDI_A0, -0x800, true), Ok(0x8005_0513));
        // -0x801: hi -1 (0xfffff), lo 0x7ff.
        assert_eq!(patch32(Site::U, AUIPC_A0, -0x801, false), Ok(0xffff_f517));
        assert_eq!(patch32(Site::I, ADDI_A0, -0x801, true), Ok(0x7ff5_0513));
        // S-type, 0x678: imm[11:5] = 0x33 in 31..25, imm[4:0] = 0x18 in 11..7.
        assert_eq!(patch32(Site::S, SD_A1_A0, 0x678, true), Ok(0x66b5_3c23));
        // -1: all twelve bits set.
        assert_eq!(patch32(Site::S, SD_A1_A0, -1, true), Ok(0xfeb5_3fa3));
    }

    #[test]
    fn hi20_range() {
        // The largest reachable: 0x7fffffff - 0x800 (hi 0x7ffff, lo 0x7ff).
        assert_eq!(patch32(Site::U, AUIPC_A0, 0x7fff_f7ff, false), Ok(0x7fff_f517));
        assert_eq!(patch32(Site::U, AUIPC_A0, 0x7fff_f800, false), Err(Bad::Range));
        // The smallest: -0x80000000 - 0x800 (hi 0x80000, lo -0x800).
        assert_eq!(patch32(Site::U, AUIPC_A0, -0x8000_0800, false), Ok(0x8000_0517));
        assert_eq!(patch32(Site::U, AUIPC_A0, -0x8000_0801, false), Err(Bad::Range));
        // A whole value (LO12 used alone, not as a low part) must fit in 12 bits.
        assert_eq!(patch32(Site::I, ADDI_A0, 0x7ff, false), Ok(0x7ff5_0513));
        assert_eq!(patch32(Site::I, ADDI_A0, 0x800, false), Err(Bad::Range));
    }

    #[test]
    fn call_pairs() {
        // auipc ra, 0 = 0x00000097; jalr ra, 0(ra) = 0x000080e7.
        let call = |v: i64| {
            let mut b = [le(0x0000_0097), le(0x0000_80e7)].concat();
            write(Site::AuipcJalr, &mut b, v, false).map(|()| {
                (u32::from_le_bytes(b[..4].try_into().unwrap()), u32::from_le_bytes(b[4..].try_into().unwrap()))
            })
        };
        assert_eq!(call(0x1000), Ok((0x0000_1097, 0x0000_80e7)));
        assert_eq!(call(0x7ff), Ok((0x0000_0097, 0x7ff0_80e7)));
        assert_eq!(call(0x800), Ok((0x0000_1097, 0x8000_80e7)));
        assert_eq!(call(-4), Ok((0x0000_0097, 0xffc0_80e7)));
        assert_eq!(call(1 << 31), Err(Bad::Range));
    }

    #[test]
    fn branches_and_jumps() {
        // beq a0, a1, 0 = 0x00b50063.
        const BEQ: u32 = 0x00b5_0063;
        // +2048: imm[11] goes to bit 7.
        assert_eq!(patch32(Site::B, BEQ, 0x800, false), Ok(0x00b5_00e3));
        // -2: imm[12] bit 31, imm[10:5] all ones, imm[4:1] all ones, imm[11] bit 7.
        assert_eq!(patch32(Site::B, BEQ, -2, false), Ok(0xfeb5_0fe3));
        // +16: imm[4] is bit 11.
        assert_eq!(patch32(Site::B, BEQ, 16, false), Ok(0x00b5_0863));
        assert_eq!(patch32(Site::B, BEQ, 4096, false), Err(Bad::Range));
        assert_eq!(patch32(Site::B, BEQ, -4096, false), Ok(0x80b5_0063));
        assert_eq!(patch32(Site::B, BEQ, 3, false), Err(Bad::Odd));

        // jal ra, 0 = 0x000000ef.
        const JAL: u32 = 0x0000_00ef;
        // -4: imm[20] bit 31, imm[10:1] = 0x3fe, imm[11] bit 20, imm[19:12] = 0xff.
        assert_eq!(patch32(Site::J, JAL, -4, false), Ok(0xffdf_f0ef));
        // +2048: imm[11] is bit 20.
        assert_eq!(patch32(Site::J, JAL, 0x800, false), Ok(0x0010_00ef));
        // +4096: imm[12] is bit 12.
        assert_eq!(patch32(Site::J, JAL, 0x1000, false), Ok(0x0000_10ef));
        // +2: imm[1] is bit 21.
        assert_eq!(patch32(Site::J, JAL, 2, false), Ok(0x0020_00ef));
        assert_eq!(patch32(Site::J, JAL, 1 << 20, false), Err(Bad::Range));
    }

    #[test]
    fn compressed() {
        // c.beqz a0 (rs1' = 2), 0 = 0xc101.
        assert_eq!(patch16(Site::Cb, 0xc101, 8), Ok(0xc501)); // offset[3] is bit 10
        assert_eq!(patch16(Site::Cb, 0xc101, 2), Ok(0xc109)); // offset[1] is bit 3
        assert_eq!(patch16(Site::Cb, 0xc101, 32), Ok(0xc105)); // offset[5] is bit 2
        assert_eq!(patch16(Site::Cb, 0xc101, -2), Ok(0xdd7d)); // all offset bits set
        assert_eq!(patch16(Site::Cb, 0xc101, 256), Err(Bad::Range));
        // c.j 0 = 0xa001.
        assert_eq!(patch16(Site::Cj, 0xa001, 2), Ok(0xa009)); // offset[1] is bit 3
        assert_eq!(patch16(Site::Cj, 0xa001, -2), Ok(0xbffd)); // bits 12..2 all set
        assert_eq!(patch16(Site::Cj, 0xa001, 0x400), Ok(0xa101)); // offset[10] is bit 8
        assert_eq!(patch16(Site::Cj, 0xa001, 0x40), Ok(0xa081)); // offset[6] is bit 7
        assert_eq!(patch16(Site::Cj, 0xa001, 0x800), Err(Bad::Range));
        // c.lui a0, 0 = 0x6501 (not valid as such; the relocation fills it).
        assert_eq!(patch16(Site::CLui, 0x6501, 0x1000), Ok(0x6505)); // nzimm 1 in bits 6..2
        assert_eq!(patch16(Site::CLui, 0x6501, -0x1000), Ok(0x757d)); // nzimm -1: bit 12 and 6..2
        assert_eq!(patch16(Site::CLui, 0x6501, 0x20000), Err(Bad::Range));
        assert_eq!(patch16(Site::CLui, 0x6501, 0x10), Err(Bad::Place));
    }

    #[test]
    fn data_words() {
        let mut b = vec![0xaa; 8];
        write(Site::Word64, &mut b, -2, false).unwrap();
        assert_eq!(b, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        // ADD32 / SUB32: V ± (S + A), wrapping in the field.
        let mut b = 0x10u32.to_le_bytes().to_vec();
        let v = word_value(Value::Sub, 0x11, read_old(Site::Word32, &b).unwrap());
        write(Site::Word32, &mut b, v, false).unwrap();
        assert_eq!(b, 0xffff_ffffu32.to_le_bytes());
        // SET6 and SUB6 keep the top two bits of the byte.
        let mut b = vec![0xc5];
        write(Site::Low6, &mut b, 0x3e, false).unwrap();
        assert_eq!(b, [0xfe]);
        let v = word_value(Value::Sub, 0x3f, read_old(Site::Low6, &b).unwrap());
        write(Site::Low6, &mut b, v, false).unwrap();
        assert_eq!(b, [0xff]);
        // ULEB128 keeps its length: 2 bytes (0x80 0x00) rewritten to 300 = 0xac 0x02.
        let mut b = vec![0x80, 0x00, 0x55];
        write(Site::Uleb128, &mut b, 300, false).unwrap();
        assert_eq!(b, [0xac, 0x02, 0x55]);
        assert_eq!(read_old(Site::Uleb128, &b), Some(300));
        let mut b = vec![0x00];
        assert_eq!(write(Site::Uleb128, &mut b, 300, false), Err(Bad::Range));
    }

    #[test]
    fn table() {
        assert_eq!(reloc(R_RISCV_CALL_PLT), Some((Value::CallPc, Site::AuipcJalr)));
        assert_eq!(reloc(R_RISCV_PCREL_LO12_S), Some((Value::PairedLo, Site::S)));
        assert_eq!(reloc(R_RISCV_GOT_HI20), Some((Value::GotPc, Site::U)));
        assert_eq!(reloc(R_RISCV_TPREL_LO12_I), Some((Value::TpRel, Site::I)));
        assert_eq!(reloc(R_RISCV_RELAX), Some((Value::None, Site::None)));
        assert_eq!(reloc(R_RISCV_ALIGN), Some((Value::None, Site::None)));
        assert_eq!(reloc(R_RISCV_SUB6), Some((Value::Sub, Site::Low6)));
        assert_eq!(reloc(R_RISCV_JUMP_SLOT), None);
        assert!(is_pcrel_hi(R_RISCV_TLS_GD_HI20) && !is_pcrel_hi(R_RISCV_HI20));
        assert!(is_lo12(R_RISCV_TPREL_LO12_S) && !is_lo12(R_RISCV_HI20));
    }

    #[test]
    fn plt_entries() {
        // A slot 0x2010 bytes after the entry: auipc t3, 2; ld t3, 16(t3); jalr t1, t3; nop.
        let s = plt_entry(0x1000, 0x3010);
        assert_eq!(&s[..4], &0x0000_2e17u32.to_le_bytes());
        assert_eq!(&s[4..8], &0x010e_3e03u32.to_le_bytes());
        assert_eq!(&s[8..12], &0x000e_0367u32.to_le_bytes());
        assert_eq!(&s[12..], &0x0000_0013u32.to_le_bytes());
        // A slot 0x7f8 bytes before: auipc t3, 0; ld t3, -0x7f8(t3) (imm 0x808).
        let s = plt_entry(0x2000, 0x1808);
        assert_eq!(&s[..4], &0x0000_0e17u32.to_le_bytes());
        assert_eq!(&s[4..8], &0x808e_3e03u32.to_le_bytes());
    }
}
