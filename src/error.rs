//! Errors. Every message names the file concerned and, for symbols, the symbol and its version.

use std::fmt;

/// Why an operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    Io { file: String, reason: String },
    /// The image is not an object relink can load (bad header, bad segment, wrong machine …).
    Malformed { file: String, reason: String },
    /// A feature the object needs is not supported (yet).
    Unsupported { file: String, what: String },
    /// A DT_NEEDED dependency was not found.
    MissingDependency { file: String, needed: String },
    /// A strong symbol reference has no definition in scope.
    Undefined { file: String, symbol: String, version: Option<String> },
    /// A dependency was found but could not be loaded.
    Dependency { file: String, source: Box<Error> },
    /// A dependency does not define a version the object needs.
    MissingVersion { file: String, version: String, needed: String },
    /// `rl_sym`/`rl_vsym` found no such symbol.
    SymbolNotFound { file: String, symbol: String, version: Option<String> },
    /// RL_NOLOAD was given and the library is not loaded.
    NotLoaded { file: String },
    /// The handle is closed, was never returned by relink, or is garbage.
    InvalidHandle,
    /// An argument was NULL or otherwise unusable.
    InvalidArgument(String),
    /// A relocation callback refused the load.
    Vetoed { file: String, message: String },
    /// relink itself failed (a bug): the operation was abandoned.
    Internal,
    /// Mapping memory failed.
    Map { file: String, reason: String },
    /// The object is a 32-bit one.
    WrongClass { file: String },
    /// A versioned reference's version exists in the file that should define the symbol, but
    /// the symbol is not defined there with that version.
    VersionNotInFile { file: String, symbol: String, version: String, provider: String },
    /// `RL_NEXT` was used from code that no loader loaded.
    NextOutsideObjects,
    /// The object was linked with `-z nodlopen` (DF_1_NOOPEN) and is not loaded already.
    NotDlopenable { file: String },
    /// Objects could not be linked into a unit (duplicate or hidden undefined symbols, a
    /// relocation that cannot be satisfied, no place where the unit's 32-bit fields reach).
    Link { file: String, reason: String },
    /// The object needs static TLS (initial-exec access to thread-local variables) that relink
    /// cannot give it: `no_block` when no block of glibc's static TLS area could be had (see
    /// `tls::reserve_static`), else because of how its variables are accessed or initialized.
    /// The system loader may still load such an object.
    StaticTls { file: String, reason: String, no_block: bool },
}

fn version_suffix(v: &Option<String>) -> String {
    v.as_ref().map(|v| format!(", version {v}")).unwrap_or_default()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { file, reason } => write!(f, "{file}: cannot open shared object file: {reason}"),
            Error::Malformed { file, reason } => write!(f, "{file}: invalid ELF image: {reason}"),
            Error::Unsupported { file, what } => write!(f, "{file}: unsupported: {what}"),
            Error::StaticTls { file, reason, no_block: false } => write!(f, "{file}: unsupported: {reason}"),
            Error::StaticTls { file, reason, no_block: true } => write!(f, "{file}: cannot map: {reason}"),
            Error::MissingDependency { file, needed } => write!(
                f,
                "{needed}: cannot open shared object file: No such file or directory (needed by {file}, not found in \
                 the library search path)"
            ),
            Error::Undefined { file, symbol, version } => {
                write!(f, "{file}: undefined symbol: {symbol}{}", version_suffix(version))
            }
            Error::Dependency { file, source } => write!(f, "{file}: cannot load a dependency: {source}"),
            Error::MissingVersion { file, version, needed } => {
                write!(f, "{needed}: version `{version}' not found (required by {file})")
            }
            Error::SymbolNotFound { file, symbol, version } => {
                write!(f, "{file}: undefined symbol: {symbol}{}", version_suffix(version))
            }
            Error::NotLoaded { file } => write!(f, "{file}: not loaded (RL_NOLOAD)"),
            Error::InvalidHandle => write!(f, "invalid handle: closed, garbage, or never returned by relink"),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {what}"),
            Error::Vetoed { file, message } => write!(f, "{file}: load refused by the relocation callback: {message}"),
            Error::Internal => write!(f, "internal error: relink panicked; the operation was abandoned"),
            Error::Map { file, reason } => write!(f, "{file}: cannot map: {reason}"),
            Error::WrongClass { file } => {
                // The other class than the machine's.
                let (other, own) = if crate::raw::ELF_CLASS == 2 { (32, 64) } else { (64, 32) };
                write!(f, "{file}: wrong ELF class: ELFCLASS{other} (relink loads {own}-bit objects only)")
            }
            Error::VersionNotInFile { file, symbol, version, provider } => write!(
                f,
                "{file}: symbol {symbol} version {version} not defined in file {provider} with link time reference"
            ),
            Error::NextOutsideObjects => write!(
                f,
                "RL_NEXT used in code not dynamically loaded (the caller lies in no object of the system loader or relink)"
            ),
            Error::NotDlopenable { file } => {
                write!(f, "{file}: shared object cannot be dlopen()ed (it is linked with -z nodlopen, DF_1_NOOPEN)")
            }
            Error::Link { file, reason } => write!(f, "{file}: cannot link: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// Whether the object (or a dependency) was refused for static TLS relink could not give it
    /// (the system loader may still load it).
    pub fn is_static_tls(&self) -> bool {
        match self {
            Error::StaticTls { .. } => true,
            Error::Dependency { source, .. } => source.is_static_tls(),
            _ => false,
        }
    }
}

/// An I/O error in the C library's words (`strerror`), without Rust's "(os error N)".
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_tls_errors() {
        let refused = Error::StaticTls { file: "libx.so".into(), reason: "static TLS: why".into(), no_block: false };
        let no_block = Error::StaticTls { file: "liby.so".into(), reason: "static TLS block of 9 bytes".into(), no_block: true };
        assert_eq!(refused.to_string(), "libx.so: unsupported: static TLS: why");
        assert_eq!(no_block.to_string(), "liby.so: cannot map: static TLS block of 9 bytes");
        let dep = Error::Dependency { file: "libz.so".into(), source: Box::new(no_block) };
        assert!(refused.is_static_tls() && dep.is_static_tls());
        // Known by its kind, not by its words.
        assert!(!Error::Unsupported { file: "a".into(), what: "static TLS".into() }.is_static_tls());
    }
}
