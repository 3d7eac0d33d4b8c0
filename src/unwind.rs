//! Making the frames of relink-loaded objects visible to the unwinder (C++ exceptions, Rust
//! panics, `backtrace()`): each object's .eh_frame is registered with libgcc's
//! `__register_frame` before its constructors run, and deregistered when it is unmapped.
//!
//! The unwinders used are those the object can outlive: the host's, and any in the object's own
//! dependency scope (the libgcc_s a C++ plugin pulled in when the host has none).

use crate::module::{Image, Module};
use crate::raw::Span;
use crate::symbols::Query;
use std::sync::Arc;

const DW_EH_PE_OMIT: u8 = 0xff;

/// Held around every call into an unwinder's registration functions. They take the unwinder's
/// own lock, which a `fork()` would otherwise catch held by a thread the child does not have;
/// the fork handlers take this one instead (see `fork.rs`).
static CALLS: crate::sync::Mutex<()> = crate::sync::Mutex::new(());

/// Keep registrations out of the way across `fork()`.
pub fn fork_prepare() -> crate::sync::MutexGuard<'static, ()> {
    CALLS.lock()
}

/// Decode the `eh_frame_ptr` field of .eh_frame_hdr at `hdr` into the address of .eh_frame.
pub fn eh_frame_from_hdr(span: &Span, hdr: usize) -> Option<usize> {
    let head = span.slice::<u8>(hdr, 4)?;
    let (version, enc) = (head[0], head[1]);
    if version != 1 || enc == DW_EH_PE_OMIT {
        return None;
    }
    let field = hdr + 4;
    let value: i64 = match enc & 0x0f {
        0x00 | 0x04 | 0x0c => i64::from_le_bytes(span.slice::<u8>(field, 8)?.try_into().ok()?),
        0x03 => u32::from_le_bytes(span.slice::<u8>(field, 4)?.try_into().ok()?) as i64,
        0x0b => i32::from_le_bytes(span.slice::<u8>(field, 4)?.try_into().ok()?) as i64,
        _ => return None,
    };
    let base = match enc & 0x70 {
        0x00 => 0,
        0x10 => field as i64,
        _ => return None,
    };
    let addr = base.wrapping_add(value) as usize;
    // The section must lie in the object and start with a word we can read.
    span.slice::<u32>(addr, 1).map(|_| addr)
}

/// Register `m`'s frames with the unwinders defined by `providers`.
pub fn register(m: &Module, providers: &[&Arc<Module>]) {
    let Some(image) = &m.image else { return };
    let Some(eh_frame) = image.eh_frame else { return };
    let reg_q = Query::new(b"__register_frame", None);
    let dereg_q = Query::new(b"__deregister_frame", None);
    let mut done = image.unwinders.lock();
    let _calls = CALLS.lock();
    for p in providers {
        let (Some(r), Some(d)) = (p.symtab.lookup(&reg_q), p.symtab.lookup(&dereg_q)) else { continue };
        let (Some(r), Some(d)) = (p.symtab.sym(r), p.symtab.sym(d)) else { continue };
        let reg = p.bias.wrapping_add(r.st_value as usize);
        let dereg = p.bias.wrapping_add(d.st_value as usize);
        if done.iter().any(|(d, _)| *d == dereg) {
            continue;
        }
        // SAFETY: `__register_frame(void *)` of a loaded libgcc, given the object's .eh_frame,
        // which stays mapped until `deregister` has run.
        unsafe { std::mem::transmute::<usize, extern "C" fn(usize)>(reg)(eh_frame) };
        done.push((dereg, Arc::clone(p)));
    }
}

/// Undo [`register`] (called when the object is unmapped).
pub fn deregister(image: &Image) {
    let Some(eh_frame) = image.eh_frame else { return };
    let done: Vec<(usize, Arc<Module>)> = image.unwinders.lock().drain(..).collect();
    {
        let _calls = CALLS.lock();
        for (dereg, _provider) in &done {
            // SAFETY: the matching `__deregister_frame`, in a library `done` holds mapped.
            unsafe { std::mem::transmute::<usize, extern "C" fn(usize)>(*dereg)(eh_frame) };
        }
    }
    // Only now may a provider go (its own unmapping calls back into this module).
    drop(done);
}
