//! ELF32 records (System V gABI, "Object Files"), for ELFCLASS32 targets: riscv32, arm and
//! i686. Each record is decoded field by field from little-endian bytes (every relink
//! architecture is little-endian), so decoding has no alignment requirements and a short or
//! truncated buffer gives `None`. The records are also laid out as the gABI lays them out
//! (`repr(C)`, no padding): on 32-bit machines they are the native records
//! [`crate::raw`] reads in place from an image in memory.

/// `e_ident[EI_CLASS]` of a 32-bit object.
pub const ELFCLASS32: u8 = 1;

/// A little-endian reader over a record's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn u16(&mut self) -> Option<u16> {
        let (head, rest) = self.bytes.split_first_chunk::<2>()?;
        self.bytes = rest;
        Some(u16::from_le_bytes(*head))
    }

    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.bytes.split_first_chunk::<4>()?;
        self.bytes = rest;
        Some(u32::from_le_bytes(*head))
    }

    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }
}

/// The accessors of a class's `Sym`, `Rela` and `Dyn` records that widen a field to 64 bits
/// (no-ops in ELF64), so that the same code reads both classes: for these records here, and
/// for the ELF64 ones in [`crate::raw`].
macro_rules! widening_accessors {
    ($sym:ty, $rela:ty, $dyn:ty) => {
        #[allow(clippy::unnecessary_cast)]
        impl $sym {
            /// `st_value`, widened to 64 bits.
            #[inline]
            pub fn value(&self) -> u64 {
                self.st_value as u64
            }
            /// `st_size`, widened to 64 bits.
            #[inline]
            pub fn size(&self) -> u64 {
                self.st_size as u64
            }
            /// STB_* (the high four bits of `st_info`).
            #[inline]
            pub fn bind(&self) -> u8 {
                self.st_info >> 4
            }
            /// STT_* (the low four bits of `st_info`).
            #[inline]
            pub fn kind(&self) -> u8 {
                self.st_info & 0xf
            }
        }

        #[allow(clippy::unnecessary_cast)]
        impl $rela {
            /// `r_addend`, sign-extended to 64 bits.
            #[inline]
            pub fn addend(&self) -> i64 {
                self.r_addend as i64
            }
        }

        #[allow(clippy::unnecessary_cast)]
        impl $dyn {
            /// `d_tag`, sign-extended to 64 bits (as the `DT_*` constants are).
            #[inline]
            pub fn tag(&self) -> i64 {
                self.d_tag as i64
            }
            /// `d_val`, widened to 64 bits.
            #[inline]
            pub fn val(&self) -> u64 {
                self.d_val as u64
            }
        }
    };
}
#[cfg(target_pointer_width = "64")]
pub(crate) use widening_accessors;

widening_accessors!(Sym, Rela, Dyn);

/// Elf32_Ehdr, 52 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ehdr {
    pub e_ident: [u8; 16],
    pub e_type: u16,
    pub e_machine: u16,
    pub e_version: u32,
    pub e_entry: u32,
    pub e_phoff: u32,
    pub e_shoff: u32,
    pub e_flags: u32,
    pub e_ehsize: u16,
    pub e_phentsize: u16,
    pub e_phnum: u16,
    pub e_shentsize: u16,
    pub e_shnum: u16,
    pub e_shstrndx: u16,
}

impl Ehdr {
    pub const SIZE: usize = 52;

    pub fn parse(bytes: &[u8]) -> Option<Ehdr> {
        let (ident, rest) = bytes.split_first_chunk::<16>()?;
        let mut r = Reader { bytes: rest };
        Some(Ehdr {
            e_ident: *ident,
            e_type: r.u16()?,
            e_machine: r.u16()?,
            e_version: r.u32()?,
            e_entry: r.u32()?,
            e_phoff: r.u32()?,
            e_shoff: r.u32()?,
            e_flags: r.u32()?,
            e_ehsize: r.u16()?,
            e_phentsize: r.u16()?,
            e_phnum: r.u16()?,
            e_shentsize: r.u16()?,
            e_shnum: r.u16()?,
            e_shstrndx: r.u16()?,
        })
    }
}

/// Elf32_Phdr, 32 bytes (note: `p_flags` comes last in ELF32, after `p_memsz`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub p_offset: u32,
    pub p_vaddr: u32,
    pub p_paddr: u32,
    pub p_filesz: u32,
    pub p_memsz: u32,
    pub p_flags: u32,
    pub p_align: u32,
}

impl Phdr {
    pub const SIZE: usize = 32;

    pub fn parse(bytes: &[u8]) -> Option<Phdr> {
        let mut r = Reader { bytes };
        Some(Phdr {
            p_type: r.u32()?,
            p_offset: r.u32()?,
            p_vaddr: r.u32()?,
            p_paddr: r.u32()?,
            p_filesz: r.u32()?,
            p_memsz: r.u32()?,
            p_flags: r.u32()?,
            p_align: r.u32()?,
        })
    }
}

/// Elf32_Shdr, 40 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shdr {
    pub sh_name: u32,
    pub sh_type: u32,
    pub sh_flags: u32,
    pub sh_addr: u32,
    pub sh_offset: u32,
    pub sh_size: u32,
    pub sh_link: u32,
    pub sh_info: u32,
    pub sh_addralign: u32,
    pub sh_entsize: u32,
}

impl Shdr {
    pub const SIZE: usize = 40;

    pub fn parse(bytes: &[u8]) -> Option<Shdr> {
        let mut r = Reader { bytes };
        Some(Shdr {
            sh_name: r.u32()?,
            sh_type: r.u32()?,
            sh_flags: r.u32()?,
            sh_addr: r.u32()?,
            sh_offset: r.u32()?,
            sh_size: r.u32()?,
            sh_link: r.u32()?,
            sh_info: r.u32()?,
            sh_addralign: r.u32()?,
            sh_entsize: r.u32()?,
        })
    }
}

/// Elf32_Sym, 16 bytes (ELF32 orders it name, value, size, info, other, shndx).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sym {
    pub st_name: u32,
    pub st_value: u32,
    pub st_size: u32,
    pub st_info: u8,
    pub st_other: u8,
    pub st_shndx: u16,
}

impl Sym {
    pub const SIZE: usize = 16;

    pub fn parse(bytes: &[u8]) -> Option<Sym> {
        let mut r = Reader { bytes };
        Some(Sym {
            st_name: r.u32()?,
            st_value: r.u32()?,
            st_size: r.u32()?,
            st_info: r.u8()?,
            st_other: r.u8()?,
            st_shndx: r.u16()?,
        })
    }

}

/// Elf32_Rel, 8 bytes: the addend is in the place.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rel {
    pub r_offset: u32,
    pub r_info: u32,
}

/// Elf32_Rela, 12 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rela {
    pub r_offset: u32,
    pub r_info: u32,
    pub r_addend: i32,
}

impl Rel {
    pub const SIZE: usize = 8;

    pub fn parse(bytes: &[u8]) -> Option<Rel> {
        let mut r = Reader { bytes };
        Some(Rel { r_offset: r.u32()?, r_info: r.u32()? })
    }

    /// ELF32_R_SYM: the symbol index (the high 24 bits of `r_info`).
    #[inline]
    pub fn sym(&self) -> u32 {
        self.r_info >> 8
    }

    /// ELF32_R_TYPE: the relocation type (the low 8 bits of `r_info`).
    #[inline]
    pub fn r_type(&self) -> u32 {
        self.r_info & 0xff
    }
}

impl Rela {
    pub const SIZE: usize = 12;

    pub fn parse(bytes: &[u8]) -> Option<Rela> {
        let rel = Rel::parse(bytes)?;
        let addend = bytes.get(8..12)?;
        Some(Rela {
            r_offset: rel.r_offset,
            r_info: rel.r_info,
            r_addend: i32::from_le_bytes([addend[0], addend[1], addend[2], addend[3]]),
        })
    }

    #[inline]
    pub fn sym(&self) -> u32 {
        Rel { r_offset: self.r_offset, r_info: self.r_info }.sym()
    }

    #[inline]
    pub fn r_type(&self) -> u32 {
        Rel { r_offset: self.r_offset, r_info: self.r_info }.r_type()
    }
}

/// Elf32_Dyn, 8 bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dyn {
    pub d_tag: i32,
    pub d_val: u32,
}

impl Dyn {
    pub const SIZE: usize = 8;

    pub fn parse(bytes: &[u8]) -> Option<Dyn> {
        let mut r = Reader { bytes };
        Some(Dyn { d_tag: r.u32()? as i32, d_val: r.u32()? })
    }
}

/// The records of a table (`count` entries of `size` bytes from the start of `bytes`), each
/// decoded by `parse`; `None` when the table does not fit in `bytes`.
pub fn table<T>(bytes: &[u8], size: usize, count: usize, parse: fn(&[u8]) -> Option<T>) -> Option<alloc::vec::Vec<T>> {
    let len = size.checked_mul(count)?;
    bytes.get(..len)?.chunks_exact(size).map(parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_of_a_riscv32_shared_object() {
        // An ELF32 header written out by hand from the gABI's layout: class 1 (ELFCLASS32),
        // data 1 (little-endian), ET_DYN (3), EM_RISCV (243 = 0xf3), entry 0x1234, phoff 52,
        // shoff 0x400, flags 5 (RVC | float ABI double), ehsize 52, phentsize 32, 3 program
        // headers, shentsize 40, 7 sections, shstrndx 6.
        let mut h = [0u8; 52];
        h[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
        h[16..18].copy_from_slice(&3u16.to_le_bytes());
        h[18..20].copy_from_slice(&243u16.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[24..28].copy_from_slice(&0x1234u32.to_le_bytes());
        h[28..32].copy_from_slice(&52u32.to_le_bytes());
        h[32..36].copy_from_slice(&0x400u32.to_le_bytes());
        h[36..40].copy_from_slice(&5u32.to_le_bytes());
        h[40..42].copy_from_slice(&52u16.to_le_bytes());
        h[42..44].copy_from_slice(&32u16.to_le_bytes());
        h[44..46].copy_from_slice(&3u16.to_le_bytes());
        h[46..48].copy_from_slice(&40u16.to_le_bytes());
        h[48..50].copy_from_slice(&7u16.to_le_bytes());
        h[50..52].copy_from_slice(&6u16.to_le_bytes());
        let e = Ehdr::parse(&h).unwrap();
        assert_eq!(e.e_ident[4], ELFCLASS32);
        assert_eq!((e.e_type, e.e_machine, e.e_entry, e.e_phoff, e.e_shoff), (3, 243, 0x1234, 52, 0x400));
        assert_eq!((e.e_flags, e.e_ehsize, e.e_phentsize, e.e_phnum), (5, 52, 32, 3));
        assert_eq!((e.e_shentsize, e.e_shnum, e.e_shstrndx), (40, 7, 6));
        assert_eq!(Ehdr::parse(&h[..51]), None);
    }

    #[test]
    fn records() {
        // PT_LOAD, offset 0x1000, vaddr 0x2000, paddr 0x2000, filesz 0x10, memsz 0x20,
        // flags R+W (6), align 0x1000: flags sit after memsz in ELF32.
        let words = [1u32, 0x1000, 0x2000, 0x2000, 0x10, 0x20, 6, 0x1000];
        let bytes: std::vec::Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let p = Phdr::parse(&bytes).unwrap();
        assert_eq!((p.p_type, p.p_vaddr, p.p_filesz, p.p_memsz, p.p_flags, p.p_align), (1, 0x2000, 0x10, 0x20, 6, 0x1000));

        // A symbol: name 9, value 0x100, size 4, STB_GLOBAL (1) STT_FUNC (2), default
        // visibility, section 7.
        let sym = [9, 0, 0, 0, 0, 1, 0, 0, 4, 0, 0, 0, 0x12, 0, 7, 0];
        let s = Sym::parse(&sym).unwrap();
        assert_eq!((s.st_name, s.st_value, s.st_size, s.bind(), s.kind(), s.st_shndx), (9, 0x100, 4, 1, 2, 7));

        // r_info = (symbol 5 << 8) | R_RISCV_JUMP_SLOT (5); addend -8.
        let mut rela = [0u8; 12];
        rela[..4].copy_from_slice(&0x3000u32.to_le_bytes());
        rela[4..8].copy_from_slice(&0x0505u32.to_le_bytes());
        rela[8..].copy_from_slice(&(-8i32).to_le_bytes());
        let r = Rela::parse(&rela).unwrap();
        assert_eq!((r.r_offset, r.sym(), r.r_type(), r.r_addend), (0x3000, 5, 5, -8));
        assert_eq!(Rela::parse(&rela[..11]), None);

        // DT_NEEDED (1) with string offset 0x20, then DT_NULL.
        let dynamic = [1, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let d = table(&dynamic, Dyn::SIZE, 2, Dyn::parse).unwrap();
        assert_eq!(d, [Dyn { d_tag: 1, d_val: 0x20 }, Dyn { d_tag: 0, d_val: 0 }]);
        assert_eq!(table(&dynamic, Dyn::SIZE, 3, Dyn::parse), None);
        assert_eq!(table(&dynamic, Dyn::SIZE, usize::MAX, Dyn::parse), None);
    }
}
