//! x86-64: "System V Application Binary Interface, AMD64 Architecture Processor Supplement",
//! section "Relocation Types".
//!
//! Relocations are RELA, `EM_X86_64` (62). So far the core holds the object-file types that
//! [`crate::object`] links without a GOT or PLT of its own; the full table (dynamic, GOT, TLS
//! types) moves here from relink's `src/arch/x86_64.rs`. Variables: S symbol, A addend, P place.
//!
//! | #  | name | field | calculation |
//! |----|------|-------|-------------|
//! | 0  | NONE | | |
//! | 1  | 64 | word64 | S + A |
//! | 2  | PC32 | word32 | S + A − P |
//! | 4  | PLT32 | word32 | L + A − P; with no PLT entry, L is S |
//! | 10 | 32 | word32 | S + A, zero-extended |
//! | 11 | 32S | word32 | S + A, sign-extended |

use crate::reloc::{howto as row, Calc, Check, Field, Howto, Usage};

pub const EM_X86_64: u16 = 62;
/// Width of an address.
pub const ADDRESS_BITS: u32 = 64;

pub const R_X86_64_NONE: u32 = 0;
pub const R_X86_64_64: u32 = 1;
pub const R_X86_64_PC32: u32 = 2;
pub const R_X86_64_PLT32: u32 = 4;
pub const R_X86_64_32: u32 = 10;
pub const R_X86_64_32S: u32 = 11;

/// The row of the psABI's table for `r_type`, when the core has it.
pub fn howto(r_type: u32) -> Option<Howto> {
    use Usage::{Both, Static};
    let s32 = Check::Signed(32);
    Some(match r_type {
        R_X86_64_NONE => row("R_X86_64_NONE", Both, Calc::None, Field::None, Check::None, 1),
        R_X86_64_64 => row("R_X86_64_64", Both, Calc::Abs, Field::Word64, Check::None, 1),
        R_X86_64_PC32 => row("R_X86_64_PC32", Both, Calc::Pc, Field::Word32, s32, 1),
        R_X86_64_PLT32 => row("R_X86_64_PLT32", Static, Calc::Pc, Field::Word32, s32, 1),
        R_X86_64_32 => row("R_X86_64_32", Both, Calc::Abs, Field::Word32, Check::Unsigned(32), 1),
        R_X86_64_32S => row("R_X86_64_32S", Static, Calc::Abs, Field::Word32, s32, 1),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reloc::{Error, Inputs};

    #[test]
    fn words_and_displacements() {
        let apply = |t, x: Inputs| {
            let mut b = [0xaau8; 8];
            howto(t).unwrap().apply(&mut b, &x, ADDRESS_BITS).map(|()| b)
        };
        let x = Inputs { s: 0x1000, a: -4, p: 0x2000, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_64, x), Ok(0xffcu64.to_le_bytes()));
        // 0x1000 − 4 − 0x2000 = −0x1004, four bytes; the rest of the place is left alone.
        assert_eq!(apply(R_X86_64_PLT32, x), Ok([0xfc, 0xef, 0xff, 0xff, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert_eq!(apply(R_X86_64_PC32, x), apply(R_X86_64_PLT32, x));
        let far = Inputs { s: 0x1_0000_0000, p: 0x1000, ..Inputs::default() };
        assert!(matches!(apply(R_X86_64_PC32, far), Err(Error::Overflow { .. })));
        assert!(matches!(apply(R_X86_64_32, far), Err(Error::Overflow { .. })));
        let negative = Inputs { s: 0xffff_ffff_8000_0000, ..Inputs::default() };
        assert_eq!(apply(R_X86_64_32S, negative), Ok([0, 0, 0, 0x80, 0xaa, 0xaa, 0xaa, 0xaa]));
        assert!(matches!(apply(R_X86_64_32, negative), Err(Error::Overflow { .. })));
        assert_eq!(howto(3), None, "R_X86_64_GOT32 needs a GOT");
    }
}
