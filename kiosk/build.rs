//! Compiles the Slint UI in `ui/` into Rust.

fn main() {
    // Debug info keeps element names and accessibility data that headless tests and
    // the screen checker use to find widgets by label; it costs a little binary size.
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/app.slint", config).expect("Slint UI failed to compile");
}
