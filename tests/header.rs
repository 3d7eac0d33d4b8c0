//! The checked-in C header must be exactly what cbindgen generates from the source.
//! `RELINK_UPDATE_HEADER=1 cargo test --test header` (or `make header`) rewrites it.

use std::path::Path;

#[test]
fn checked_in_header_matches_cbindgen() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_src(root.join("src/ffi.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = root.join("include/relink.h");
    if std::env::var_os("RELINK_UPDATE_HEADER").is_some() {
        std::fs::write(&path, &generated).expect("write include/relink.h");
    }
    let current = std::fs::read(&path).expect("include/relink.h");
    assert!(
        current == generated,
        "include/relink.h differs from what cbindgen generates now; run `make header`\n--- generated ---\n{}",
        String::from_utf8_lossy(&generated)
    );
}
