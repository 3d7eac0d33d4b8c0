fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // Not `rustc-cdylib-link-arg`: Cargo passes those on to the cdylibs of dependent packages
    // (librelink_preload.so would be called librelink.so.0 too). This one applies to this
    // package's own targets only; executables ignore a SONAME.
    println!("cargo:rustc-link-arg=-Wl,-soname,librelink.so.0");
}
