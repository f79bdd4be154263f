// Finds libmomento_auth: MOMENTO_AUTH_LIB_DIR (and MOMENTO_AUTH_INCLUDE_DIR) when set, otherwise
// pkg-config's momento-auth within the library versions these declarations were generated for.
use std::env;

// The header the committed bindings were generated from is 0.1.x; 0.2 may add functions.
const VERSIONS: std::ops::Range<&str> = "0.1.0".."0.2.0";

fn main() {
    println!("cargo:rerun-if-env-changed=MOMENTO_AUTH_LIB_DIR");
    println!("cargo:rerun-if-env-changed=MOMENTO_AUTH_INCLUDE_DIR");
    if let Ok(dir) = env::var("MOMENTO_AUTH_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=dylib=momento_auth");
        if let Ok(inc) = env::var("MOMENTO_AUTH_INCLUDE_DIR") {
            println!("cargo:include={inc}");
        }
        return;
    }
    match pkg_config::Config::new().range_version(VERSIONS).probe("momento-auth") {
        Ok(lib) => {
            if let Some(inc) = lib.include_paths.first() {
                println!("cargo:include={}", inc.display());
            }
        }
        Err(e) => panic!(
            "libmomento_auth {}..{} not found through pkg-config ({e}); install it, put its \
             pkgconfig folder on PKG_CONFIG_PATH, or set MOMENTO_AUTH_LIB_DIR",
            VERSIONS.start, VERSIONS.end
        ),
    }
}
