//! Stage 1 — parse: validate the ELF header and program headers before anything is mapped, and
//! read the dynamic section once the image is in memory. The checks are the core's
//! (`relink_core::parse`), here for the machine relink runs on.

use elf::endian::LittleEndian;
use elf::file::FileHeader;
use relink_core::parse::Machine;
pub use relink_core::parse::{check_segments, dynsym_count, DynInfo, Header, HeaderError, Layout, CLASS, EHDR_SIZE, SHDR_SIZE};

/// The machine relink runs on: the only one whose objects it loads.
const MACHINE: Machine = Machine::native();

/// Validate what every ELF file for this machine shares, whatever its type: magic, class, data
/// encoding, machine (`ident` holds at least its first [`EHDR_SIZE`] bytes, or the whole file
/// when shorter).
pub fn file_header(ident: &[u8]) -> Result<FileHeader<LittleEndian>, HeaderError> {
    relink_core::parse::file_header(ident, &MACHINE)
}

/// Validate the file header of a shared object for this machine (`ident` holds at least its
/// first [`EHDR_SIZE`] bytes, or the whole image when shorter).
pub fn check_header(ident: &[u8], image_len: u64) -> Result<Header, HeaderError> {
    relink_core::parse::check_header(ident, image_len, &MACHINE)
}
