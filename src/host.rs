//! The host's own objects — the program and everything the system loader mapped — found with
//! dl_iterate_phdr and read in place, so that relink resolves against them with its own hash
//! lookups rather than a dlsym call per symbol.

use crate::module::{HostTls, Module};
use crate::parse::DynInfo;
use crate::raw::Span;
use crate::symbols::SymTab;
use elf::abi;
use std::ffi::CStr;
use std::path::{Path, PathBuf};

/// What dl_iterate_phdr reported for one object.
struct Found {
    addr: usize,
    name: String,
    phdr: usize,
    phnum: usize,
    tls_modid: usize,
    tls_data: usize,
}

/// The system loader's (adds, subs) counters: they change whenever it maps or unmaps an object.
pub fn generation() -> (u64, u64) {
    unsafe extern "C" fn cb(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the system loader passes a valid info record; `data` is our tuple.
        unsafe {
            let out = &mut *(data as *mut (u64, u64));
            *out = ((*info).dlpi_adds, (*info).dlpi_subs);
        }
        1
    }
    let mut g = (0u64, 0u64);
    // SAFETY: the callback only writes through `data`, which points to `g`.
    unsafe { libc::dl_iterate_phdr(Some(cb), &mut g as *mut _ as *mut libc::c_void) };
    g
}

/// Enumerate the host's objects in the system loader's order (program first, then its
/// dependencies breadth-first, then what it opened later). `next_id` numbers them.
pub fn enumerate(next_id: &mut impl FnMut() -> u64) -> Vec<Module> {
    unsafe extern "C" fn cb(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the system loader passes a valid info record; `data` is our Vec.
        unsafe {
            let out = &mut *(data as *mut Vec<Found>);
            let i = &*info;
            let name = if i.dlpi_name.is_null() {
                String::new()
            } else {
                CStr::from_ptr(i.dlpi_name).to_string_lossy().into_owned()
            };
            out.push(Found {
                addr: i.dlpi_addr as usize,
                name,
                phdr: i.dlpi_phdr as usize,
                phnum: i.dlpi_phnum as usize,
                tls_modid: i.dlpi_tls_modid as usize,
                tls_data: i.dlpi_tls_data as usize,
            });
        }
        0
    }
    let mut found: Vec<Found> = Vec::new();
    // SAFETY: the callback only pushes into `found`.
    unsafe { libc::dl_iterate_phdr(Some(cb), &mut found as *mut _ as *mut libc::c_void) };
    let tp = crate::arch::thread_pointer();
    found
        .into_iter()
        .enumerate()
        .filter_map(|(i, f)| module_of(f, i == 0, tp, next_id()))
        .collect()
}

fn module_of(f: Found, is_program: bool, tp: usize, id: u64) -> Option<Module> {
    // SAFETY: the system loader's program headers stay mapped while the object is loaded.
    let phdrs = unsafe { std::slice::from_raw_parts(f.phdr as *const libc::Elf64_Phdr, f.phnum) };
    let bias = f.addr;
    let mut ranges = Vec::new();
    let mut dynamic = None;
    for ph in phdrs {
        match ph.p_type {
            abi::PT_LOAD if ph.p_flags & abi::PF_R != 0 => {
                ranges.push((bias + ph.p_vaddr as usize, bias + (ph.p_vaddr + ph.p_memsz) as usize))
            }
            abi::PT_DYNAMIC => dynamic = Some((bias + ph.p_vaddr as usize, ph.p_memsz as usize / 16)),
            _ => {}
        }
    }
    let (dyn_addr, dyn_count) = dynamic?;
    let span = Span { ranges };
    // The system loader rewrote most d_ptr entries to runtime addresses in place; read-only
    // dynamic sections (the vDSO's) keep link-time values.
    let fix = |v: u64| if (v as usize) < bias { bias.wrapping_add(v as usize) } else { v as usize };
    let dynamic = DynInfo::read(&span, dyn_addr, dyn_count, fix).ok()?;
    let symtab = SymTab::new(&dynamic, &span).ok()?;
    let path: Option<PathBuf> = if is_program {
        crate::os::executable()
    } else if f.name.is_empty() {
        None
    } else {
        Some(PathBuf::from(&f.name))
    };
    let name = path.as_ref().map_or(f.name.clone(), |p| p.to_string_lossy().into_owned());
    let host_tls = (f.tls_modid != 0).then(|| HostTls {
        modid: f.tls_modid,
        // Static TLS blocks sit just below the thread pointer; a block elsewhere was allocated
        // dynamically and has no fixed offset.
        tp_offset: Some(f.tls_data.wrapping_sub(tp) as isize).filter(|o| f.tls_data != 0 && (-(1 << 24)..0).contains(o)),
    });
    let parts = crate::module::Parts {
        id,
        name: &name,
        origin: path.as_deref().and_then(Path::parent).map(Path::to_path_buf),
        file_id: path.as_deref().and_then(crate::os::file_id),
        bias,
        span,
        dynamic,
        symtab,
        phdr: (f.phdr, f.phnum),
    };
    Some(Module::new(parts, host_tls, None, None))
}
