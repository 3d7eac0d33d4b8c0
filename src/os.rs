//! The one seam between the loader and the operating system.
//!
//! Every system call the pipeline makes — opening and reading files, reserving address space,
//! mapping segments, changing protections — goes through this module, so that a port to another
//! OS (or a sandboxed variant) touches only this file.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Page size of the running system.
pub fn page_size() -> usize {
    static PAGE: once_cell::sync::OnceCell<usize> = once_cell::sync::OnceCell::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize })
}

/// An open file, read only through its descriptor. Closed on drop.
#[derive(Debug)]
pub struct File {
    fd: libc::c_int,
    /// Size in bytes, from fstat at open time.
    pub size: u64,
    /// Device and inode: the identity of the file, whatever path named it.
    pub id: (u64, u64),
    /// What the file held when it was opened, as far as fstat tells.
    pub stamp: Stamp,
}

/// A file's identity, size, and last modification and status change times (seconds and
/// nanoseconds): any write to the file changes its status change time, which no user can set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Stamp {
    pub id: (u64, u64),
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl Stamp {
    /// Whether the file has not changed for a while: a write within the same tick of the
    /// file system's clock as the last one can leave the times as they were, so a stamp names
    /// one content only once its times are older than any such tick.
    pub fn settled(&self) -> bool {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.ctime.0.max(self.mtime.0) < now - 1
    }
}

impl File {
    /// Open a regular file read-only (O_CLOEXEC).
    pub fn open(path: &Path) -> io::Result<File> {
        File::open_checked(path, 0, |st| match st.st_mode & libc::S_IFMT {
            libc::S_IFREG => Ok(()),
            libc::S_IFDIR => Err(io::Error::from_raw_os_error(libc::EISDIR)),
            _ => Err(io::Error::from_raw_os_error(libc::EINVAL)),
        })
    }

    /// Open a file that only the effective user can have written: read-only, not through a
    /// symbolic link (O_NOFOLLOW), a regular file owned by the effective user and writable by
    /// no one else (a file that is not is refused with `PermissionDenied`).
    pub fn open_private(path: &Path) -> io::Result<File> {
        File::open_checked(path, libc::O_NOFOLLOW, |st| {
            if private(st, libc::S_IFREG) { Ok(()) } else { Err(io::Error::from(io::ErrorKind::PermissionDenied)) }
        })
    }

    /// Open `path` read-only (O_CLOEXEC and `flags`), if `check` accepts what fstat says of it.
    fn open_checked(path: &Path, flags: libc::c_int, check: impl FnOnce(&libc::stat64) -> io::Result<()>) -> io::Result<File> {
        // SAFETY: `c` is a valid NUL-terminated string.
        // (O_LARGEFILE: 64-bit offsets on 32-bit machines; 0 elsewhere.)
        let open = |c: &std::ffi::CStr| unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC | libc::O_LARGEFILE | flags) };
        let fd = with_c_path(path, open).ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut file = File { fd, size: 0, id: (0, 0), stamp: Stamp::default() };
        // SAFETY: an all-zero stat is a valid value for fstat to overwrite.
        let mut st: libc::stat64 = unsafe { std::mem::zeroed() };
        // SAFETY: `fd` is open and `st` is a valid out-pointer.
        if unsafe { libc::fstat64(fd, &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        check(&st)?;
        file.size = st.st_size as u64;
        file.id = (st.st_dev, st.st_ino);
        file.stamp = Stamp { id: file.id, size: file.size, mtime: mtime(&st), ctime: ctime(&st) };
        Ok(file)
    }

    /// Read exactly `buf.len()` bytes at `offset`.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let len = buf.len();
        transfer(len, io::ErrorKind::UnexpectedEof, |done| {
            // SAFETY: the destination range lies inside `buf`.
            unsafe { libc::pread64(self.fd, buf[done..].as_mut_ptr().cast(), len - done, (offset + done as u64) as libc::off64_t) }
        })
    }
}

/// Move `len` bytes with read or write calls: `op(done)` moves bytes from position `done` on and
/// returns the call's result. Interrupted calls are retried; a call that moves nothing fails
/// with `short`.
fn transfer(len: usize, short: io::ErrorKind, mut op: impl FnMut(usize) -> isize) -> io::Result<()> {
    let mut done = 0;
    while done < len {
        let n = op(done);
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n == 0 {
            return Err(io::Error::from(short));
        }
        done += n as usize;
    }
    Ok(())
}

impl Drop for File {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor and close it exactly once.
        unsafe { libc::close(self.fd) };
    }
}

impl File {
    /// The stamp of the open file, as it was when opened.
    pub fn stamp(&self) -> Stamp {
        self.stamp
    }
}

/// The stamp of the file `path` names now (following symbolic links), without opening it.
pub fn stamp(path: &Path) -> Option<Stamp> {
    let st = stat(path)?;
    Some(Stamp {
        id: (st.st_dev, st.st_ino),
        size: st.st_size as u64,
        mtime: mtime(&st),
        ctime: ctime(&st),
    })
}

/// `f` of `path` as a C string: on the stack when it is short (as the paths of a library
/// search are), else on the heap. None (`f` not called) if `path` holds a NUL.
fn with_c_path<R>(path: &Path, f: impl FnOnce(&std::ffi::CStr) -> R) -> Option<R> {
    let bytes = path.as_os_str().as_bytes();
    let mut buf = [0u8; 512];
    match buf.get_mut(..bytes.len()) {
        Some(head) if bytes.len() < 512 => {
            head.copy_from_slice(bytes);
            std::ffi::CStr::from_bytes_with_nul(&buf[..=bytes.len()]).ok().map(f)
        }
        _ => CString::new(bytes).ok().map(|c| f(&c)),
    }
}

/// `stat(2)` of the file `path` names (following symbolic links).
fn stat(path: &Path) -> Option<libc::stat64> {
    // SAFETY: an all-zero stat is a valid value for stat to overwrite.
    let mut st: libc::stat64 = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is NUL-terminated and `st` a valid out-pointer.
    (with_c_path(path, |c| unsafe { libc::stat64(c.as_ptr(), &mut st) })? == 0).then_some(st)
}

/// A file's modification time, seconds and nanoseconds (`time_t` is 32 bits on some machines:
/// the conversion is needed there).
#[allow(clippy::useless_conversion)]
fn mtime(st: &libc::stat64) -> (i64, i64) {
    (i64::from(st.st_mtime), i64::from(st.st_mtime_nsec))
}

/// A file's status change time, as [`mtime`].
#[allow(clippy::useless_conversion)]
fn ctime(st: &libc::stat64) -> (i64, i64) {
    (i64::from(st.st_ctime), i64::from(st.st_ctime_nsec))
}

/// Whether `st` is of type `kind`, owned by the effective user and writable by no one else.
fn private(st: &libc::stat64, kind: libc::mode_t) -> bool {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    st.st_mode & libc::S_IFMT == kind && st.st_uid == euid && st.st_mode & (libc::S_IWGRP | libc::S_IWOTH) == 0
}

/// Whether `path` names (following symbolic links) a directory owned by the effective user
/// that no one else can write into.
pub fn is_private_dir(path: &Path) -> bool {
    stat(path).is_some_and(|st| private(&st, libc::S_IFDIR))
}

/// Write `parts`, one after the other, to a new file `dir/temp` (created exclusively, mode
/// 0600, never through a symbolic link), then rename it to `dir/name`, which it replaces. On
/// failure the temporary file is removed.
pub fn write_replacing(dir: &Path, temp: &str, name: &str, parts: &[&[u8]]) -> io::Result<()> {
    let cpath = |n: &str| CString::new(dir.join(n).as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL));
    let (tmp, dest) = (cpath(temp)?, cpath(name)?);
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_LARGEFILE;
    // SAFETY: `tmp` is a valid NUL-terminated string.
    let fd = unsafe { libc::open(tmp.as_ptr(), flags, 0o600 as libc::c_uint) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut written = Ok(());
    for part in parts {
        written = transfer(part.len(), io::ErrorKind::WriteZero, |done| {
            // SAFETY: the source range lies inside `part`.
            unsafe { libc::write(fd, part[done..].as_ptr().cast(), part.len() - done) }
        });
        if written.is_err() {
            break;
        }
    }
    // SAFETY: closing the descriptor opened above, once.
    if unsafe { libc::close(fd) } != 0 && written.is_ok() {
        written = Err(io::Error::last_os_error());
    }
    // SAFETY: both paths are valid NUL-terminated strings.
    if written.is_ok() && unsafe { libc::rename(tmp.as_ptr(), dest.as_ptr()) } != 0 {
        written = Err(io::Error::last_os_error());
    }
    if written.is_err() {
        // SAFETY: `tmp` is a valid NUL-terminated string.
        unsafe { libc::unlink(tmp.as_ptr()) };
    }
    written
}

/// Remove the file `path` names (not what a symbolic link there points to).
pub fn remove_file(path: &Path) -> io::Result<()> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: `c` is a valid NUL-terminated string.
    if unsafe { libc::unlink(c.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Device and inode of a path, without opening it.
pub fn file_id(path: &Path) -> Option<(u64, u64)> {
    stamp(path).map(|s| s.id)
}

/// Memory protection, as the loader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    pub const RW: Prot = Prot { read: true, write: true, exec: false };
    pub const NONE: Prot = Prot { read: false, write: false, exec: false };

    fn bits(self) -> libc::c_int {
        // Never both writable and executable.
        assert!(!(self.write && self.exec), "W^X violation");
        (if self.read { libc::PROT_READ } else { 0 })
            | (if self.write { libc::PROT_WRITE } else { 0 })
            | (if self.exec { libc::PROT_EXEC } else { 0 })
    }
}

/// A reserved span of address space, unmapped on drop.
#[derive(Debug)]
pub struct Region {
    pub base: usize,
    pub len: usize,
}

impl Region {
    /// Reserve `len` bytes aligned to `align` (a power of two, at least the page size).
    pub fn reserve(len: usize, align: usize) -> io::Result<Region> {
        let extra = align.saturating_sub(page_size());
        let total = len.checked_add(extra).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: anonymous PROT_NONE reservation at an address the kernel picks.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let start = p as usize;
        let base = (start + align - 1) & !(align - 1);
        // SAFETY: trimming the unaligned head and the tail of our own fresh reservation.
        unsafe {
            if base > start {
                libc::munmap(p, base - start);
            }
            let end = start + total;
            if end > base + len {
                libc::munmap((base + len) as *mut _, end - (base + len));
            }
        }
        Ok(Region { base, len })
    }

    /// Map `len` bytes of `file` from `offset` (page aligned) at an address the kernel picks (page
    /// aligned), as a region: an object's first segment and the rest of its span in one call, as
    /// glibc's loader maps an object; the other segments are then mapped over the rest.
    pub fn map_file_span(len: usize, file: &File, offset: u64, prot: Prot) -> io::Result<Region> {
        // SAFETY: a new private mapping at an address the kernel picks: it replaces nothing.
        let p = unsafe {
            libc::mmap64(std::ptr::null_mut(), len, prot.bits(), libc::MAP_PRIVATE, file.fd, offset as libc::off64_t)
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Region { base: p as usize, len })
    }

    /// Reserve `len` bytes aligned to `align` inside `[lo, hi)`: the highest free gap of the
    /// address space that fits (read from /proc/self/maps) is claimed with
    /// MAP_FIXED_NOREPLACE. Another thread may map something meanwhile; then the map is read
    /// again.
    pub fn reserve_in(len: usize, align: usize, lo: usize, hi: usize) -> io::Result<Region> {
        // Below this, the kernel refuses mappings (vm.mmap_min_addr) and NULL must stay unmapped.
        let lo = lo.max(0x10000);
        let align = align.max(page_size());
        for _ in 0..8 {
            let maps = std::fs::read_to_string("/proc/self/maps")?;
            let mut used: Vec<(usize, usize)> = maps
                .lines()
                .filter_map(|l| {
                    let (s, e) = l.split(' ').next()?.split_once('-')?;
                    Some((usize::from_str_radix(s, 16).ok()?, usize::from_str_radix(e, 16).ok()?))
                })
                .collect();
            used.sort_unstable();
            let mut gaps = Vec::new();
            let mut free_from = 0usize;
            for &(s, e) in &used {
                if s > free_from {
                    gaps.push((free_from, s));
                }
                free_from = free_from.max(e);
            }
            // The top of the user address space (47-bit; all of it on 32-bit machines) bounds
            // the last gap.
            gaps.push((free_from, (1u64 << 47).min(usize::MAX as u64) as usize));
            let mut raced = false;
            for &(gs, ge) in gaps.iter().rev() {
                let (gs, ge) = (gs.max(lo), ge.min(hi));
                if ge <= gs || ge - gs < len {
                    continue;
                }
                let addr = (ge - len) & !(align - 1);
                if addr < gs {
                    continue;
                }
                // SAFETY: an anonymous PROT_NONE reservation that replaces nothing (NOREPLACE).
                let p = unsafe {
                    libc::mmap(
                        addr as *mut _,
                        len,
                        libc::PROT_NONE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE,
                        -1,
                        0,
                    )
                };
                if p as usize == addr {
                    return Ok(Region { base: addr, len });
                }
                if p != libc::MAP_FAILED {
                    // A kernel without MAP_FIXED_NOREPLACE took the address as a hint only.
                    // SAFETY: unmapping the reservation just made, which nothing uses.
                    unsafe { libc::munmap(p, len) };
                    return Err(io::Error::from_raw_os_error(libc::ENOSYS));
                }
                if io::Error::last_os_error().raw_os_error() == Some(libc::EEXIST) {
                    raced = true;
                    break;
                }
            }
            if !raced {
                break;
            }
        }
        Err(io::Error::from_raw_os_error(libc::ENOMEM))
    }

    fn check(&self, addr: usize, len: usize) -> io::Result<()> {
        match addr.checked_add(len) {
            Some(end) if addr >= self.base && end <= self.base + self.len => Ok(()),
            _ => Err(io::Error::new(io::ErrorKind::InvalidInput, "range outside the object's reserved span")),
        }
    }

    /// Map `len` bytes of `file` at `offset` over `addr` (page aligned, inside the region).
    pub fn map_file(&self, addr: usize, len: usize, file: &File, offset: u64, prot: Prot) -> io::Result<()> {
        self.check(addr, len)?;
        // SAFETY: MAP_FIXED replaces only pages of our own reservation (checked above).
        let p = unsafe {
            libc::mmap64(
                addr as *mut _,
                len,
                prot.bits(),
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                file.fd,
                offset as libc::off64_t,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Map zero-filled anonymous memory over `addr` (page aligned, inside the region).
    pub fn map_anon(&self, addr: usize, len: usize, prot: Prot) -> io::Result<()> {
        self.anon(addr, len, prot, 0)
    }

    /// [`map_anon`](Self::map_anon), with the pages allocated at once (MAP_POPULATE) rather than
    /// one fault at a time: for memory about to be written from end to end.
    pub fn map_anon_populated(&self, addr: usize, len: usize, prot: Prot) -> io::Result<()> {
        self.anon(addr, len, prot, libc::MAP_POPULATE)
    }

    fn anon(&self, addr: usize, len: usize, prot: Prot, flags: libc::c_int) -> io::Result<()> {
        self.check(addr, len)?;
        // SAFETY: MAP_FIXED replaces only pages of our own reservation (checked above).
        let p = unsafe {
            libc::mmap(
                addr as *mut _,
                len,
                prot.bits(),
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | flags,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Fault in, writable, the pages `[addr, addr + len)` of the region (page aligned, mapped
    /// writable), in one call rather than one fault per page (`MADV_POPULATE_WRITE`): a private
    /// file page gets its copy. Advice only: where the kernel cannot (before Linux 5.14, out of
    /// memory …) nothing happens, and the pages fault one at a time when written.
    pub fn populate_write(&self, addr: usize, len: usize) {
        static UNSUPPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if len == 0 || self.check(addr, len).is_err() || UNSUPPORTED.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        // SAFETY: the pages belong to our region (checked above); populating changes no byte.
        if unsafe { libc::madvise(addr as *mut _, len, libc::MADV_POPULATE_WRITE) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL)
        {
            // A kernel that does not know the advice: not asked again.
            UNSUPPORTED.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Change the protection of pages inside the region.
    pub fn protect(&self, addr: usize, len: usize, prot: Prot) -> io::Result<()> {
        self.check(addr, len)?;
        // SAFETY: the pages belong to our region (checked above).
        if unsafe { libc::mprotect(addr as *mut _, len, prot.bits()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the region is ours; nothing refers to it any more once it is dropped.
        unsafe { libc::munmap(self.base as *mut _, self.len) };
    }
}

/// A value from the auxiliary vector.
pub fn auxv(key: libc::c_ulong) -> libc::c_ulong {
    // SAFETY: getauxval has no preconditions.
    unsafe { libc::getauxval(key) }
}

/// A string from the auxiliary vector (AT_PLATFORM, …).
pub fn auxv_string(key: libc::c_ulong) -> Option<Vec<u8>> {
    let p = auxv(key);
    // SAFETY: a non-zero string-valued auxv entry points to a NUL-terminated string that lives
    // as long as the process.
    (p != 0).then(|| unsafe { std::ffi::CStr::from_ptr(p as *const libc::c_char) }.to_bytes().to_vec())
}

/// The bytes of a whole file, mapped read-only (or owned, for data made in memory).
#[derive(Debug)]
pub enum Bytes {
    Mapped { addr: usize, len: usize },
    Owned(Vec<u8>),
}

// SAFETY: the mapping is read-only and private to this value.
unsafe impl Send for Bytes {}
// SAFETY: as above.
unsafe impl Sync for Bytes {}

impl Default for Bytes {
    fn default() -> Bytes {
        Bytes::Owned(Vec::new())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            // SAFETY: the mapping covers `len` readable bytes for the life of the value.
            Bytes::Mapped { addr, len } => unsafe { std::slice::from_raw_parts(*addr as *const u8, *len) },
            Bytes::Owned(v) => v,
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if let Bytes::Mapped { addr, len } = *self {
            // SAFETY: unmapping our own mapping, which nothing refers to any more.
            unsafe { libc::munmap(addr as *mut _, len) };
        }
    }
}

/// Map a whole system file such as /etc/ld.so.cache read-only: no copy, and only the pages
/// looked at are touched (as the system loader does with it).
pub fn map_file(path: &Path) -> io::Result<Bytes> {
    File::open(path)?.map_all()
}

impl File {
    /// The whole file, mapped read-only.
    pub fn map_all(&self) -> io::Result<Bytes> {
        if self.size == 0 {
            return Ok(Bytes::Owned(Vec::new()));
        }
        // SAFETY: a fresh read-only private mapping of an open file.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), self.size as usize, libc::PROT_READ, libc::MAP_PRIVATE, self.fd, 0) };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Bytes::Mapped { addr: p as usize, len: self.size as usize })
    }
}

/// A file that exists only in memory (a memfd), which the system loader can open by path
/// (`/proc/self/fd/N`) while this value holds it open. Closed on drop.
#[derive(Debug)]
pub struct MemFile {
    fd: libc::c_int,
}

impl MemFile {
    /// A new file named `name` (only for /proc/self/maps) holding `bytes`.
    pub fn new(name: &str, bytes: &[u8]) -> io::Result<MemFile> {
        let c = CString::new(name).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: `c` is NUL-terminated; memfd_create has no other precondition.
        let fd = unsafe { libc::memfd_create(c.as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let file = MemFile { fd };
        transfer(bytes.len(), io::ErrorKind::WriteZero, |done| {
            // SAFETY: the source range lies inside `bytes`.
            unsafe { libc::write(fd, bytes[done..].as_ptr().cast(), bytes.len() - done) }
        })?;
        Ok(file)
    }

    /// The path that opens this file while it is open.
    pub fn path(&self) -> CString {
        CString::new(format!("/proc/self/fd/{}", self.fd)).expect("no NUL in a number")
    }

    /// The same file under another descriptor, hence another path.
    pub fn renamed(&self) -> io::Result<MemFile> {
        // SAFETY: duplicating a descriptor we own.
        let fd = unsafe { libc::fcntl(self.fd, libc::F_DUPFD_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(MemFile { fd })
    }
}

impl Drop for MemFile {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor and close it exactly once.
        unsafe { libc::close(self.fd) };
    }
}

/// Whether `path` names a directory (following symbolic links).
pub fn is_dir(path: &Path) -> bool {
    dir_links(path).is_some()
}

/// The link count of the directory `path` names (following symbolic links), None if it names
/// none. File systems that count subdirectories (ext4, xfs, tmpfs…) give a directory 2 plus the
/// number of its subdirectories; the others give 1 (btrfs, overlayfs' merged directories).
#[allow(clippy::unnecessary_cast)]
pub fn dir_links(path: &Path) -> Option<u64> {
    stat(path).filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR).map(|st| st.st_nlink as u64)
}

/// The path of the running program, read once (exec replaces the process, so it never changes).
pub fn executable() -> Option<&'static Path> {
    static EXE: once_cell::sync::OnceCell<Option<std::path::PathBuf>> = once_cell::sync::OnceCell::new();
    EXE.get_or_init(|| std::fs::read_link("/proc/self/exe").ok()).as_deref()
}

/// An environment variable, as bytes.
pub fn env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name)
}

/// The current directory (for making paths absolute).
pub fn current_dir() -> Option<std::path::PathBuf> {
    std::env::current_dir().ok()
}

/// Run `f` when the process exits (after handlers registered later).
pub fn at_exit(f: extern "C" fn()) {
    // SAFETY: registering a plain function; atexit has no other precondition.
    unsafe { libc::atexit(f) };
}

const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

/// Make [`barrier_all_threads`] usable (`membarrier(2)` registration); whether it is.
pub fn barrier_all_threads_init() -> bool {
    // SAFETY: membarrier with a command and no other argument has no memory effects.
    unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 }
}

/// A full memory barrier in every running thread of the process (`membarrier(2)`), so that
/// their side of a protocol needs only a compiler barrier; false if the kernel refused.
pub fn barrier_all_threads() -> bool {
    // SAFETY: as above.
    let call = || unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0 };
    // A child of fork() may have to register again.
    call() || (barrier_all_threads_init() && call())
}

/// End the process at once with a message on standard error, as the system loader does for an
/// error it cannot return (an unresolvable lazily bound symbol).
pub fn die(message: &str) -> ! {
    eprintln!("relink: {message}");
    // SAFETY: _exit has no preconditions; nothing of this process runs afterwards.
    unsafe { libc::_exit(127) }
}

/// An identifier of the calling thread.
pub fn thread_id() -> u64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as u64 }
}

/// A per-thread pointer slot with a destructor called at thread exit (a pthread key).
pub struct ThreadSlot(libc::pthread_key_t);

impl ThreadSlot {
    /// A new slot; `dtor` runs at thread exit for each thread whose value is not NULL, in up to
    /// [`THREAD_SLOT_ROUNDS`] rounds while values are set again.
    pub fn new(dtor: unsafe extern "C" fn(*mut libc::c_void)) -> ThreadSlot {
        let mut k: libc::pthread_key_t = 0;
        // SAFETY: `k` is a valid out-pointer and `dtor` has the destructor signature.
        if unsafe { libc::pthread_key_create(&mut k, Some(dtor)) } != 0 {
            die("cannot create a thread-specific key");
        }
        ThreadSlot(k)
    }

    pub fn get(&self) -> *mut libc::c_void {
        // SAFETY: reading the calling thread's value of a key we created.
        unsafe { libc::pthread_getspecific(self.0) }
    }

    pub fn set(&self, p: *mut libc::c_void) {
        // SAFETY: setting the calling thread's value of a key we created.
        unsafe { libc::pthread_setspecific(self.0, p) };
    }
}

/// How many rounds of thread-exit destructors glibc runs (PTHREAD_DESTRUCTOR_ITERATIONS).
pub const THREAD_SLOT_ROUNDS: u32 = 4;

/// Run `prepare` before every `fork()` in the forking thread, then `parent` in it and `child` in
/// the new process.
pub fn at_fork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) {
    // SAFETY: registering plain functions that stay valid as long as this code is mapped (in a
    // shared library, glibc drops them when it is unloaded).
    if unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) } != 0 {
        die("cannot register fork handlers");
    }
}

/// `N` random words from the kernel, in one call (for values that must not be guessable, not
/// for keys that protect secrets); falls back to mixing the time and the process id if that
/// fails.
pub fn random_words<const N: usize>() -> [u64; N] {
    let mut w = [0u64; N];
    let len = std::mem::size_of_val(&w);
    // SAFETY: getrandom writes at most the `len` bytes of `w`.
    let n = unsafe { libc::getrandom(w.as_mut_ptr() as *mut libc::c_void, len, libc::GRND_NONBLOCK) };
    if n == len as isize {
        return w;
    }
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut x = t ^ (std::process::id() as u64).rotate_left(32);
    for v in &mut w {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        *v = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
    w
}

/// Whether shell pattern `pattern` matches `name` (`fnmatch(3)` without flags).
pub fn fnmatch(pattern: &std::ffi::CStr, name: &std::ffi::CStr) -> bool {
    // SAFETY: two NUL-terminated strings.
    unsafe { libc::fnmatch(pattern.as_ptr(), name.as_ptr(), 0) == 0 }
}

/// Open (creating it, appending to it) a log file; its descriptor.
pub fn open_log(path: &[u8]) -> Option<i32> {
    let p = std::ffi::CString::new(path).ok()?;
    // SAFETY: a NUL-terminated path; the flags create or append.
    let fd = unsafe { libc::open(p.as_ptr(), libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC, 0o666) };
    (fd >= 0).then_some(fd)
}

/// Write all of `bytes` to `fd`, ignoring errors (diagnostics only).
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: `bytes` is readable for its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr() as *const libc::c_void, bytes.len()) };
        if n <= 0 {
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// End the process normally (atexit handlers run).
pub fn exit(code: i32) -> ! {
    std::process::exit(code)
}
