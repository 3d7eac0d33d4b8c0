//! Relocation arithmetic common to every architecture.
//!
//! A relocation is three things, each described here without naming an architecture:
//!
//! - a calculation ([`Calc`]) over the psABIs' variables ([`Inputs`]): `S` the symbol's value,
//!   `A` the addend, `P` the place, `B` the load bias, `GOT` and `G` the GOT and the offset of
//!   the relocation's GOT entry in it, `GP` the global pointer, the TLS module id and the
//!   thread-pointer offset of the symbol's TLS block, and `V` the value already in the field;
//! - a field ([`Field`]): a little-endian data word, a ULEB128, or the immediate bits of one
//!   instruction or of a pair (RISC-V U/I/S/B/J and compressed CB/CJ formats, LoongArch si12,
//!   si20 and the split branch offsets);
//! - a range ([`Check`]) the value must fit, and an alignment.
//!
//! An architecture file (`crate::arch`) maps each relocation type onto a [`Howto`] holding the
//! three; [`Howto::apply`] computes and writes. Values are computed with wrapping 64-bit
//! arithmetic, as the psABIs write them; on a 32-bit architecture they are then read as 32-bit
//! values (an address space of 2^32 bytes wraps around), except in 64-bit data words.

/// Why a relocation could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The value (after the field's rounding) does not fit the field's range.
    Overflow { value: i64, check: Check },
    /// The value is not a multiple of the field's alignment.
    Misaligned { value: i64, align: u8 },
    /// The place is shorter than the field.
    OutOfBounds,
    /// The ULEB128 at the place is unterminated, or the value needs more bytes than it has.
    Uleb128,
    /// The relocation is the runtime's to do: a copy, an IFUNC call or a TLS descriptor.
    Runtime,
    /// A type the core does not apply.
    Unsupported,
}

/// The range a value must fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Truncated to the field: the low part of a multi-instruction sequence, or data that wraps.
    None,
    /// A two's complement value of this many bits.
    Signed(u8),
    /// An unsigned value of this many bits.
    Unsigned(u8),
    /// Either: a bit field that may hold a signed or an unsigned value of this many bits.
    Either(u8),
}

impl Check {
    /// Whether `v` fits.
    pub fn fits(self, v: i64) -> bool {
        match self {
            Check::None => true,
            Check::Signed(bits) => fits_signed(v, bits as u32),
            Check::Unsigned(bits) => fits_unsigned(v, bits as u32),
            Check::Either(bits) => fits_signed(v, bits as u32) || fits_unsigned(v, bits as u32),
        }
    }
}

/// Whether `v` is a two's complement value of `bits` bits (1 to 64).
pub fn fits_signed(v: i64, bits: u32) -> bool {
    bits >= 64 || (-(1i64 << (bits - 1))..(1i64 << (bits - 1))).contains(&v)
}

/// Whether `v` is a non-negative value below 2^`bits`.
pub fn fits_unsigned(v: i64, bits: u32) -> bool {
    if bits >= 64 {
        return true;
    }
    v >= 0 && (v as u64) >> bits == 0
}

/// `v` with its low `bits` bits (1 to 64) read as a two's complement value.
pub const fn sext(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Bits `hi` down to `lo` of `v` (at most 32 of them), shifted down to bit 0.
pub const fn bits(v: u64, hi: u32, lo: u32) -> u32 {
    ((v >> lo) & ((1u64 << (hi - lo + 1)) - 1)) as u32
}

/// `insn` with its `width` bits starting at bit `at` replaced by the low bits of `value`.
pub const fn insert(insn: u32, at: u32, width: u32, value: u32) -> u32 {
    let mask = (((1u64 << width) - 1) as u32) << at;
    (insn & !mask) | ((value << at) & mask)
}

/// RISC-V instruction formats (the unprivileged ISA manual, chapter "Base Instruction
/// Formats" and the "C" extension's formats). Each encoder takes the instruction and the
/// value whose bits go into its immediate, and returns the instruction with them.
pub mod riscv {
    use super::{bits, insert};

    /// The high part of a value split between a U-type and a sign-extended 12-bit immediate:
    /// `(v + 0x800) >> 12` (the psABI's `%hi`), 20 bits.
    pub const fn hi20(v: u64) -> u32 {
        bits(v.wrapping_add(0x800), 31, 12)
    }

    /// The low 12 bits (the psABI's `%lo`), which the instruction sign-extends.
    pub const fn lo12(v: u64) -> u32 {
        bits(v, 11, 0)
    }

    /// U-type: `imm[31:12]` ← `imm20`.
    pub const fn u_type(insn: u32, imm20: u32) -> u32 {
        insert(insn, 12, 20, imm20)
    }

    /// I-type: `insn[31:20]` ← `imm[11:0]`.
    pub const fn i_type(insn: u32, imm: u64) -> u32 {
        insert(insn, 20, 12, bits(imm, 11, 0))
    }

    /// S-type: `insn[31:25]` ← `imm[11:5]`, `insn[11:7]` ← `imm[4:0]`.
    pub const fn s_type(insn: u32, imm: u64) -> u32 {
        insert(insert(insn, 25, 7, bits(imm, 11, 5)), 7, 5, bits(imm, 4, 0))
    }

    /// B-type (conditional branches): `insn[31]` ← `imm[12]`, `insn[30:25]` ← `imm[10:5]`,
    /// `insn[11:8]` ← `imm[4:1]`, `insn[7]` ← `imm[11]`.
    pub const fn b_type(insn: u32, imm: u64) -> u32 {
        let i = insert(insn, 31, 1, bits(imm, 12, 12));
        let i = insert(i, 25, 6, bits(imm, 10, 5));
        let i = insert(i, 8, 4, bits(imm, 4, 1));
        insert(i, 7, 1, bits(imm, 11, 11))
    }

    /// J-type (JAL): `insn[31]` ← `imm[20]`, `insn[30:21]` ← `imm[10:1]`, `insn[20]` ← `imm[11]`,
    /// `insn[19:12]` ← `imm[19:12]`.
    pub const fn j_type(insn: u32, imm: u64) -> u32 {
        let i = insert(insn, 31, 1, bits(imm, 20, 20));
        let i = insert(i, 21, 10, bits(imm, 10, 1));
        let i = insert(i, 20, 1, bits(imm, 11, 11));
        insert(i, 12, 8, bits(imm, 19, 12))
    }

    /// CB-type (C.BEQZ, C.BNEZ; a 16-bit instruction): `insn[12]` ← `imm[8]`,
    /// `insn[11:10]` ← `imm[4:3]`, `insn[6:5]` ← `imm[7:6]`, `insn[4:3]` ← `imm[2:1]`,
    /// `insn[2]` ← `imm[5]`.
    pub const fn cb_type(insn: u16, imm: u64) -> u16 {
        let i = insert(insn as u32, 12, 1, bits(imm, 8, 8));
        let i = insert(i, 10, 2, bits(imm, 4, 3));
        let i = insert(i, 5, 2, bits(imm, 7, 6));
        let i = insert(i, 3, 2, bits(imm, 2, 1));
        insert(i, 2, 1, bits(imm, 5, 5)) as u16
    }

    /// CJ-type (C.J, C.JAL; a 16-bit instruction): `insn[12:2]` ← `imm[11|4|9:8|10|6|7|3:1|5]`.
    pub const fn cj_type(insn: u16, imm: u64) -> u16 {
        let i = insert(insn as u32, 12, 1, bits(imm, 11, 11));
        let i = insert(i, 11, 1, bits(imm, 4, 4));
        let i = insert(i, 9, 2, bits(imm, 9, 8));
        let i = insert(i, 8, 1, bits(imm, 10, 10));
        let i = insert(i, 7, 1, bits(imm, 6, 6));
        let i = insert(i, 6, 1, bits(imm, 7, 7));
        let i = insert(i, 3, 3, bits(imm, 3, 1));
        insert(i, 2, 1, bits(imm, 5, 5)) as u16
    }
}

/// LoongArch immediate fields (the LoongArch reference manual, volume 1, "Instruction
/// Formats"). Each encoder takes the instruction and the value whose bits it holds.
pub mod loongarch {
    use super::{bits, insert};

    /// A 12-bit immediate (si12 or ui12: ADDI, LD/ST, ORI, LU52I.D): `insn[21:10]` ← `imm`.
    pub const fn si12(insn: u32, imm: u32) -> u32 {
        insert(insn, 10, 12, imm)
    }

    /// A 20-bit immediate (si20: LU12I.W, LU32I.D, PCALAU12I, PCADDU12I, PCADDU18I,
    /// PCADDI): `insn[24:5]` ← `imm`.
    pub const fn si20(insn: u32, imm: u32) -> u32 {
        insert(insn, 5, 20, imm)
    }

    /// The 16-bit word offset of BEQ/BNE/BLT/BGE/BLTU/BGEU/JIRL: `insn[25:10]` ← `offs[17:2]`.
    pub const fn offs16(insn: u32, offs: u64) -> u32 {
        insert(insn, 10, 16, bits(offs, 17, 2))
    }

    /// The 21-bit word offset of BEQZ/BNEZ/BCEQZ/BCNEZ: `insn[25:10]` ← `offs[17:2]`,
    /// `insn[4:0]` ← `offs[22:18]`.
    pub const fn offs21(insn: u32, offs: u64) -> u32 {
        insert(offs16(insn, offs), 0, 5, bits(offs, 22, 18))
    }

    /// The 26-bit word offset of B/BL: `insn[25:10]` ← `offs[17:2]`, `insn[9:0]` ← `offs[27:18]`.
    pub const fn offs26(insn: u32, offs: u64) -> u32 {
        insert(offs16(insn, offs), 0, 10, bits(offs, 27, 18))
    }
}

/// The bits a relocation writes. Instructions and data are little-endian.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Nothing.
    None,
    /// The low 6 bits of a byte (the other two are kept).
    Word6,
    Word8,
    Word16,
    Word24,
    Word32,
    Word64,
    /// A ULEB128 number, rewritten in the number of bytes it has.
    Uleb128,
    /// RISC-V U-type ← [`riscv::hi20`] of the value.
    RvHi20,
    /// RISC-V I-type ← the low 12 bits.
    RvLo12I,
    /// RISC-V S-type ← the low 12 bits.
    RvLo12S,
    /// RISC-V B-type ← the offset's bits 12:1.
    RvB,
    /// RISC-V J-type ← the offset's bits 20:1.
    RvJ,
    /// RISC-V AUIPC + JALR (8 bytes): U-type ← hi20, then I-type ← lo12.
    RvCall,
    /// RISC-V CB-type (16 bits) ← the offset's bits 8:1.
    RvCB,
    /// RISC-V CJ-type (16 bits) ← the offset's bits 11:1.
    RvCJ,
    /// LoongArch `insn[21:10]` ← value[`from` + 11 : `from`].
    LaSi12 { from: u8 },
    /// LoongArch `insn[24:5]` ← value[`from` + 19 : `from`].
    LaSi20 { from: u8 },
    /// LoongArch `insn[24:5]` ← `(value + 0x800)[31:12]` (relaxable TLS LE high part).
    LaHi20Rounded,
    /// LoongArch 16-bit branch offset (`offs16`).
    LaB16,
    /// LoongArch 21-bit branch offset (`offs21`).
    LaB21,
    /// LoongArch 26-bit branch offset (`offs26`).
    LaB26,
    /// LoongArch PCADDU18I + JIRL (8 bytes): si20 ← `(value + 0x20000)[37:18]`, then
    /// offs16 ← `value[17:2]`.
    LaCall36,
}

impl Field {
    /// Bytes the field spans (for a ULEB128, the bytes of the number at the place).
    pub fn size(self, place: &[u8]) -> Result<usize, Error> {
        Ok(match self {
            Field::None => 0,
            Field::Word6 | Field::Word8 => 1,
            Field::Word16 | Field::RvCB | Field::RvCJ => 2,
            Field::Word24 => 3,
            Field::Word64 | Field::RvCall | Field::LaCall36 => 8,
            Field::Uleb128 => place.iter().position(|b| b & 0x80 == 0).ok_or(Error::Uleb128)? + 1,
            _ => 4,
        })
    }

    /// What the field's rounding adds before its range is checked: the high part of a pair
    /// is rounded so that the sign-extended low part completes it.
    pub fn rounding(self) -> i64 {
        match self {
            Field::RvHi20 | Field::RvCall | Field::LaHi20Rounded => 0x800,
            Field::LaCall36 => 0x20000,
            _ => 0,
        }
    }

    /// The value a data field holds now (`V`); zero for instruction fields.
    pub fn read(self, place: &[u8]) -> Result<u64, Error> {
        let n = self.size(place)?;
        let bytes = place.get(..n).ok_or(Error::OutOfBounds)?;
        Ok(match self {
            Field::Word6 => u64::from(bytes[0] & 0x3f),
            Field::Word8 | Field::Word16 | Field::Word24 | Field::Word32 | Field::Word64 => {
                bytes.iter().rev().fold(0, |v, &b| v << 8 | u64::from(b))
            }
            Field::Uleb128 => bytes.iter().rev().fold(0, |v, &b| v << 7 | u64::from(b & 0x7f)),
            _ => 0,
        })
    }

    /// Write `v` into the field at the start of `place`.
    pub fn write(self, place: &mut [u8], v: u64) -> Result<(), Error> {
        let n = self.size(place)?;
        let bytes = place.get_mut(..n).ok_or(Error::OutOfBounds)?;
        let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        match self {
            Field::None => {}
            Field::Word6 => bytes[0] = (bytes[0] & 0xc0) | (v as u8 & 0x3f),
            Field::Word8 | Field::Word16 | Field::Word24 | Field::Word32 | Field::Word64 => {
                bytes.copy_from_slice(&v.to_le_bytes()[..n]);
            }
            Field::Uleb128 => {
                if n < 10 && v >> (7 * n) != 0 {
                    return Err(Error::Uleb128);
                }
                for (i, b) in bytes.iter_mut().enumerate() {
                    let more = if i + 1 < n { 0x80 } else { 0 };
                    *b = ((v >> (7 * i)) & 0x7f) as u8 | more;
                }
            }
            Field::RvCB | Field::RvCJ => {
                let old = u16::from_le_bytes([bytes[0], bytes[1]]);
                let new = if self == Field::RvCB { riscv::cb_type(old, v) } else { riscv::cj_type(old, v) };
                bytes.copy_from_slice(&new.to_le_bytes());
            }
            Field::RvCall => {
                let auipc = riscv::u_type(word(bytes), riscv::hi20(v));
                let jalr = riscv::i_type(word(&bytes[4..]), v);
                bytes[..4].copy_from_slice(&auipc.to_le_bytes());
                bytes[4..].copy_from_slice(&jalr.to_le_bytes());
            }
            Field::LaCall36 => {
                let pcaddu18i = loongarch::si20(word(bytes), bits(v.wrapping_add(0x20000), 37, 18));
                let jirl = loongarch::offs16(word(&bytes[4..]), v);
                bytes[..4].copy_from_slice(&pcaddu18i.to_le_bytes());
                bytes[4..].copy_from_slice(&jirl.to_le_bytes());
            }
            _ => {
                let insn = word(bytes);
                let new = match self {
                    Field::RvHi20 => riscv::u_type(insn, riscv::hi20(v)),
                    Field::RvLo12I => riscv::i_type(insn, v),
                    Field::RvLo12S => riscv::s_type(insn, v),
                    Field::RvB => riscv::b_type(insn, v),
                    Field::RvJ => riscv::j_type(insn, v),
                    Field::LaSi12 { from } => loongarch::si12(insn, bits(v, from as u32 + 11, from as u32)),
                    Field::LaSi20 { from } => loongarch::si20(insn, bits(v, from as u32 + 19, from as u32)),
                    Field::LaHi20Rounded => loongarch::si20(insn, bits(v.wrapping_add(0x800), 31, 12)),
                    Field::LaB16 => loongarch::offs16(insn, v),
                    Field::LaB21 => loongarch::offs21(insn, v),
                    Field::LaB26 => loongarch::offs26(insn, v),
                    _ => unreachable!("data fields are written above"),
                };
                bytes.copy_from_slice(&new.to_le_bytes());
            }
        }
        Ok(())
    }
}

/// Which GOT entry a relocation refers to (its `G`): the linker allocates it, the runtime
/// fills it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The symbol's address.
    Addr,
    /// The thread-pointer offset of a TLS symbol (initial exec).
    TpOff,
    /// A (module id, offset) pair for a TLS symbol (general dynamic).
    TlsGd,
    /// The (module id, 0) pair of the object's own TLS block (local dynamic).
    TlsLd,
    /// A TLS descriptor.
    TlsDesc,
}

/// What a LoongArch page calculation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// S + A
    Symbol,
    /// GOT + G + A
    Got(Entry),
}

/// What the runtime does itself, outside the arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// Copy the symbol's bytes into the executable (never in shared objects).
    Copy,
    /// Call the IFUNC resolver at B + A and store what it returns.
    Irelative,
    /// Fill a TLS descriptor (resolver function and argument).
    TlsDesc,
}

/// The psABIs' calculations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calc {
    /// Nothing to write: a mark for the static linker (relaxation, alignment, TLS sequences).
    None,
    /// S + A
    Abs,
    /// B + A
    Base,
    /// S (a PLT slot: lazy binding may defer it)
    Slot,
    /// S + A − P
    Pc,
    /// S + A − GP
    Gp,
    /// GOT + G + A: the address of the GOT entry.
    GotEntry(Entry),
    /// GOT + G + A − P
    GotEntryPc(Entry),
    /// S + A + TLSOFFSET: the variable's offset from the thread pointer.
    TpOff,
    /// S + A − `bias`: the variable's offset in its TLS block as `__tls_get_addr` takes it
    /// (RISC-V biases it by TLS_DTV_OFFSET, 0x800).
    DtpOff { bias: u16 },
    /// The TLS module id of the symbol's object.
    DtpMod,
    /// V + S + A
    Add,
    /// V − S − A
    Sub,
    /// The value computed for the paired high-part relocation (RISC-V `%pcrel_lo` and
    /// `%tlsdesc_*_lo`): the caller finds the AUIPC's relocation and passes its value as `S`.
    Paired,
    /// LoongArch page delta for PCALAU12I: `((X + 0x800) & ~0xfff) − (P & ~0xfff)`.
    Page(Target),
    /// LoongArch page delta of the extreme code model's LU32I.D/LU52I.D, `back` bytes after
    /// the PCALAU12I: `((X + 0x8000_0000 + (X & 0x800 ? 0x1000 − 0x1_0000_0000 : 0)) & ~0xfff)
    /// − ((P − back) & ~0xfff)`.
    Page64 { of: Target, back: u8 },
    /// Done by the runtime.
    Runtime(Runtime),
    /// Not applied by the core.
    Unsupported,
}

/// The psABIs' variables for one relocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Inputs {
    /// S: the symbol's value (for a TLS symbol, its offset in its block).
    pub s: u64,
    /// A
    pub a: i64,
    /// P: the address of the place.
    pub p: u64,
    /// B: the load bias of the object.
    pub b: u64,
    /// GOT: the address of the GOT.
    pub got: u64,
    /// G: the offset from GOT of the entry the relocation refers to.
    pub g: u64,
    /// GP: the value of `__global_pointer$`.
    pub gp: u64,
    /// TLSMODULE: the module id of the symbol's TLS block.
    pub module: u64,
    /// TLSOFFSET: the offset of the symbol's TLS block from the thread pointer.
    pub tls_offset: i64,
}

/// One relocation type of one architecture, as its psABI table gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Howto {
    /// The psABI's name, for messages.
    pub name: &'static str,
    /// Whether dynamic (runtime), static (object files) or both.
    pub usage: Usage,
    pub calc: Calc,
    pub field: Field,
    pub check: Check,
    /// The value must be a multiple of this (1: any).
    pub align: u8,
}

/// Where a relocation type appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// In relocatable objects only.
    Static,
    /// In executables and shared objects only.
    Dynamic,
    /// In both.
    Both,
}

impl Howto {
    /// The value the relocation computes; `v` is what the field holds now.
    pub fn value(&self, x: &Inputs, v: u64) -> Result<u64, Error> {
        let sa = x.s.wrapping_add(x.a as u64);
        let entry = x.got.wrapping_add(x.g).wrapping_add(x.a as u64);
        let of = |t: Target| match t {
            Target::Symbol => sa,
            Target::Got(_) => entry,
        };
        Ok(match self.calc {
            Calc::None => 0,
            Calc::Abs => sa,
            Calc::Base => x.b.wrapping_add(x.a as u64),
            Calc::Slot | Calc::Paired => x.s,
            Calc::Pc => sa.wrapping_sub(x.p),
            Calc::Gp => sa.wrapping_sub(x.gp),
            Calc::GotEntry(_) => entry,
            Calc::GotEntryPc(_) => entry.wrapping_sub(x.p),
            Calc::TpOff => sa.wrapping_add(x.tls_offset as u64),
            Calc::DtpOff { bias } => sa.wrapping_sub(u64::from(bias)),
            Calc::DtpMod => x.module,
            Calc::Add => v.wrapping_add(sa),
            Calc::Sub => v.wrapping_sub(sa),
            Calc::Page(t) => page(of(t).wrapping_add(0x800)).wrapping_sub(page(x.p)),
            Calc::Page64 { of: t, back } => {
                let x64 = of(t);
                let carry = if x64 & 0x800 != 0 { 0x1000u64.wrapping_sub(0x1_0000_0000) } else { 0 };
                let hi = page(x64.wrapping_add(0x8000_0000).wrapping_add(carry));
                hi.wrapping_sub(page(x.p.wrapping_sub(u64::from(back))))
            }
            Calc::Runtime(_) => return Err(Error::Runtime),
            Calc::Unsupported => return Err(Error::Unsupported),
        })
    }

    /// Compute the relocation and write it at the start of `place`, for an architecture whose
    /// addresses are `address_bits` wide (32 or 64).
    pub fn apply(&self, place: &mut [u8], x: &Inputs, address_bits: u32) -> Result<(), Error> {
        if self.calc == Calc::None || self.field == Field::None {
            // Still refuse what the core cannot do, even where nothing would be written.
            return self.value(x, 0).map(|_| ());
        }
        let v = self.value(x, self.field.read(place)?)?;
        let mut rounded = v.wrapping_add(self.field.rounding() as u64) as i64;
        let mut value = v as i64;
        if address_bits < 64 && self.field != Field::Word64 {
            value = sext(value as u64, address_bits);
            rounded = sext(rounded as u64, address_bits);
        }
        if !self.check.fits(rounded) {
            return Err(Error::Overflow { value, check: self.check });
        }
        if self.align > 1 && value.rem_euclid(i64::from(self.align)) != 0 {
            return Err(Error::Misaligned { value, align: self.align });
        }
        self.field.write(place, value as u64)
    }
}

/// The 4 KiB page of an address (LoongArch's `& ~0xfff`).
const fn page(v: u64) -> u64 {
    v & !0xfff
}

/// For the architectures' tests: the 32-bit instruction `insn` relocated by `apply`.
#[cfg(test)]
pub(crate) fn relocated(apply: fn(u32, &mut [u8], &Inputs) -> Result<(), Error>, r_type: u32, insn: u32, x: Inputs) -> u32 {
    let mut p = insn.to_le_bytes();
    apply(r_type, &mut p, &x).unwrap();
    u32::from_le_bytes(p)
}

/// A table entry (the architecture files list theirs with it).
pub(crate) const fn howto(name: &'static str, usage: Usage, calc: Calc, field: Field, check: Check, align: u8) -> Howto {
    Howto { name, usage, calc, field, check, align }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(fits_signed(2047, 12) && fits_signed(-2048, 12));
        assert!(!fits_signed(2048, 12) && !fits_signed(-2049, 12));
        assert!(fits_unsigned(0xffff, 16) && !fits_unsigned(0x10000, 16) && !fits_unsigned(-1, 16));
        assert!(fits_signed(i64::MIN, 64) && fits_unsigned(-1, 64));
        // A bit field of 8 bits holds -128..=255.
        assert!(Check::Either(8).fits(-128) && Check::Either(8).fits(255));
        assert!(!Check::Either(8).fits(-129) && !Check::Either(8).fits(256));
        assert!(Check::None.fits(i64::MAX));
    }

    #[test]
    fn bit_helpers() {
        assert_eq!(sext(0x800, 12), -2048);
        assert_eq!(sext(0x7ff, 12), 2047);
        assert_eq!(sext(0xffff_ffff, 32), -1);
        assert_eq!(bits(0xabcd_1234, 15, 8), 0x12);
        assert_eq!(insert(0xffff_ffff, 4, 8, 0), 0xffff_f00f);
        assert_eq!(insert(0, 28, 4, 0xff), 0xf000_0000);
    }

    #[test]
    fn data_words() {
        let mut b = [0u8; 8];
        Field::Word24.write(&mut b, 0x00ab_cdef).unwrap();
        assert_eq!(b, [0xef, 0xcd, 0xab, 0, 0, 0, 0, 0]);
        assert_eq!(Field::Word24.read(&b).unwrap(), 0xab_cdef);
        // Word6 keeps the top two bits of the byte.
        let mut b = [0xc5u8];
        Field::Word6.write(&mut b, 0x3f + 0x40).unwrap();
        assert_eq!(b, [0xff]);
        assert_eq!(Field::Word8.write(&mut [], 1), Err(Error::OutOfBounds));
    }

    #[test]
    fn uleb128_keeps_its_length() {
        // 624485 is the DWARF standard's example: e5 8e 26.
        let mut b = [0x80, 0x80, 0x00, 0xaa];
        Field::Uleb128.write(&mut b, 624485).unwrap();
        assert_eq!(b, [0xe5, 0x8e, 0x26, 0xaa]);
        assert_eq!(Field::Uleb128.read(&b).unwrap(), 624485);
        // Padded: 2 in three bytes is 82 80 00.
        let mut b = [0xff, 0xff, 0x7f];
        Field::Uleb128.write(&mut b, 2).unwrap();
        assert_eq!(b, [0x82, 0x80, 0x00]);
        // 128 needs two bytes.
        assert_eq!(Field::Uleb128.write(&mut [0u8], 128), Err(Error::Uleb128));
        assert_eq!(Field::Uleb128.read(&[0x80, 0x80]), Err(Error::Uleb128));
    }

    #[test]
    fn checks_and_alignment() {
        let branch = howto("branch", Usage::Static, Calc::Pc, Field::RvB, Check::Signed(13), 2);
        let at = |s: u64| Inputs { s, p: 0x2000, ..Inputs::default() };
        let mut insn = [0x63, 0, 0, 0];
        assert_eq!(branch.apply(&mut insn, &at(0x2000 + 4094), 64), Ok(()));
        assert_eq!(branch.apply(&mut insn, &at(0x2000 + 4096), 64), Err(Error::Overflow { value: 4096, check: Check::Signed(13) }));
        assert_eq!(branch.apply(&mut insn, &at(0x2000 - 4096), 64), Ok(()));
        assert_eq!(branch.apply(&mut insn, &at(0x2000 - 4098), 64), Err(Error::Overflow { value: -4098, check: Check::Signed(13) }));
        assert_eq!(branch.apply(&mut insn, &at(0x2003), 64), Err(Error::Misaligned { value: 3, align: 2 }));
        // The high part of a pair is checked after rounding: 0x7fff_f7ff is the last value
        // whose `%hi` fits a signed 20-bit immediate on a 64-bit machine.
        let hi = howto("hi", Usage::Static, Calc::Abs, Field::RvHi20, Check::Signed(32), 1);
        let abs = |s: u64| Inputs { s, ..Inputs::default() };
        assert!(hi.apply(&mut [0x37, 0, 0, 0], &abs(0x7fff_f7ff), 64).is_ok());
        assert!(hi.apply(&mut [0x37, 0, 0, 0], &abs(0x7fff_f800), 64).is_err());
        // On a 32-bit machine the address space wraps: the same value is fine.
        assert!(hi.apply(&mut [0x37, 0, 0, 0], &abs(0x7fff_f800), 32).is_ok());
        let copy = howto("copy", Usage::Dynamic, Calc::Runtime(Runtime::Copy), Field::None, Check::None, 1);
        assert_eq!(copy.apply(&mut [], &abs(0), 64), Err(Error::Runtime));
    }
}
