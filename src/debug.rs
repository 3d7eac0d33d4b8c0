//! `RELINK_DEBUG`: what relink does, reported in the spirit of glibc's `LD_DEBUG`, on standard
//! error or in `RELINK_DEBUG_OUTPUT.PID`. Read once, the first time relink reports anything.
//!
//! `files` (each object mapped, on a line starting `relink: file=` and its path or
//! `rl_open_mem` name), `bindings` (each symbol bound, and where), `symbols` (each object a
//! lookup searches), `scopes` (the lookup scopes of each library opened), `statistics` (time
//! spent relocating and looking symbols up, per open), `all`, and `help`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::fmt::Write as _;

pub const FILES: u32 = 1;
pub const BINDINGS: u32 = 2;
pub const SYMBOLS: u32 = 4;
pub const SCOPES: u32 = 8;
pub const STATISTICS: u32 = 16;

const OPTIONS: &[(&str, u32, &str)] = &[
    ("files", FILES, "each object relink maps"),
    ("bindings", BINDINGS, "each symbol binding"),
    ("symbols", SYMBOLS, "each object a symbol lookup searches"),
    ("scopes", SCOPES, "the lookup scopes of each library opened"),
    ("statistics", STATISTICS, "time spent relocating and looking symbols up, per open"),
    ("all", FILES | BINDINGS | SYMBOLS | SCOPES | STATISTICS, "all of the above"),
];

struct Settings {
    mask: u32,
    /// Where reports go: standard error or the RELINK_DEBUG_OUTPUT file.
    fd: i32,
}

static SETTINGS: once_cell::sync::Lazy<Settings> = once_cell::sync::Lazy::new(|| {
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    let Some(value) = crate::os::env("RELINK_DEBUG") else { return Settings { mask: 0, fd: 2 } };
    let mut mask = 0;
    let mut help = false;
    let mut unknown = Vec::new();
    for opt in value.as_bytes().split(|&b| matches!(b, b',' | b':' | b' ')).filter(|o| !o.is_empty()) {
        match OPTIONS.iter().find(|(name, _, _)| name.as_bytes() == opt) {
            Some(&(_, bits, _)) => mask |= bits,
            None if opt == b"help" => help = true,
            None => unknown.push(String::from_utf8_lossy(opt).into_owned()),
        }
    }
    let fd = match crate::os::env("RELINK_DEBUG_OUTPUT").filter(|p| !p.is_empty() && mask != 0) {
        Some(path) => {
            let mut p = path.into_vec();
            p.extend_from_slice(format!(".{}", std::process::id()).as_bytes());
            crate::os::open_log(&p).unwrap_or(2)
        }
        None => 2,
    };
    for u in unknown {
        crate::os::write_all(2, format!("relink: warning: debug option `{u}' unknown; try RELINK_DEBUG=help\n").as_bytes());
    }
    if help {
        let mut s = String::from("Valid options for the RELINK_DEBUG environment variable are:\n\n");
        for (name, _, what) in OPTIONS {
            let _ = writeln!(s, "  {name:<12}display {what}");
        }
        s.push_str("  help        display this help message and exit\n\n");
        s.push_str("To direct the debugging output into a file instead of standard error,\n");
        s.push_str("a filename can be specified using the RELINK_DEBUG_OUTPUT environment variable\n");
        s.push_str("(relink appends the process id to it).\n");
        crate::os::write_all(1, s.as_bytes());
        crate::os::exit(0);
    }
    Settings { mask, fd }
});

/// Read RELINK_DEBUG now (relink's initialization does, so that `help` shows before the
/// program runs).
pub fn init() {
    once_cell::sync::Lazy::force(&SETTINGS);
}

/// The categories reported, once the settings are read ([`UNREAD`] before): what [`on`] tests
/// in one load, on paths taken for every symbol bound.
static MASK: AtomicU32 = AtomicU32::new(UNREAD);
const UNREAD: u32 = u32::MAX;

/// Whether any of the categories in `what` is reported.
#[inline]
pub fn on(what: u32) -> bool {
    let mut mask = MASK.load(Ordering::Relaxed);
    if mask == UNREAD {
        mask = SETTINGS.mask;
        MASK.store(mask, Ordering::Relaxed);
    }
    mask & what != 0
}

/// Report one line (prefixed `relink: `), written at once so that threads do not interleave.
pub fn say(args: std::fmt::Arguments) {
    let mut s = String::from("relink: ");
    let _ = s.write_fmt(args);
    s.push('\n');
    crate::os::write_all(SETTINGS.fd, s.as_bytes());
}

/// `say` when any of the categories in `what` is on (the arguments are not even formatted
/// otherwise).
macro_rules! report {
    ($what:expr, $($arg:tt)*) => {
        if $crate::debug::on($what) {
            $crate::debug::say(format_args!($($arg)*));
        }
    };
}
pub(crate) use report;

thread_local! {
    /// Symbol lookups of the open running on this thread: how many, and nanoseconds spent.
    static LOOKUPS: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// Times a lookup for `statistics` (free when it is off).
pub struct LookupTimer(Option<std::time::Instant>);

impl LookupTimer {
    pub fn start() -> LookupTimer {
        LookupTimer(on(STATISTICS).then(std::time::Instant::now))
    }
}

impl Drop for LookupTimer {
    fn drop(&mut self) {
        if let Some(t) = self.0 {
            let ns = t.elapsed().as_nanos() as u64;
            LOOKUPS.set({
                let (n, total) = LOOKUPS.get();
                (n + 1, total + ns)
            });
        }
    }
}

/// The statistics of one open, from [`OpenStats::start`] to [`OpenStats::finish`].
pub struct OpenStats {
    start: Option<std::time::Instant>,
    relocation: std::time::Duration,
}

impl OpenStats {
    pub fn start() -> OpenStats {
        if on(STATISTICS) {
            LOOKUPS.set((0, 0));
        }
        OpenStats { start: on(STATISTICS).then(std::time::Instant::now), relocation: Default::default() }
    }

    /// A clock for [`OpenStats::relocated`], read only when statistics are on (a first read of
    /// the clock in a process faults in the vDSO's data page).
    pub fn clock(&self) -> Option<std::time::Instant> {
        self.start.map(|_| std::time::Instant::now())
    }

    /// Relocation has taken since `since` (from [`OpenStats::clock`]) more.
    pub fn relocated(&mut self, since: Option<std::time::Instant>) {
        if let Some(t) = since {
            self.relocation += t.elapsed();
        }
    }

    pub fn finish(&self, name: &str, objects: usize) {
        let Some(start) = self.start else { return };
        let (n, ns) = LOOKUPS.get();
        say(format_args!(
            "statistics for {name}: {objects} objects mapped; total time {:.3} ms; relocation {:.3} ms; {n} symbol lookups in {:.3} ms",
            start.elapsed().as_secs_f64() * 1e3,
            self.relocation.as_secs_f64() * 1e3,
            ns as f64 / 1e6
        ));
    }
}

/// A `dlopen` the interposer leaves to the system loader, and why.
pub fn left_to_glibc(file: *const libc::c_char, why: &str) {
    if on(FILES) {
        // SAFETY: the caller's NUL-terminated file name.
        let f = String::from_utf8_lossy(unsafe { crate::raw::cstr(file) });
        say(format_args!("{f}: left to the system loader ({why})"));
    }
}
