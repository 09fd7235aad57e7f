//! Tauri codegen embeds `app/ui/dist` (tauri.conf.json `build.frontendDist`), which only exists
//! after `scripts/build-ui.sh`. Without it `generate_context!` fails, so a plain
//! `cargo build --workspace` on a fresh clone would break: write a placeholder page instead.

use std::path::Path;

const PLACEHOLDER: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Oddxer</title></head>\
<body style=\"font-family:sans-serif;padding:2em\"><h1>Oddxer</h1>\
<p>The UI was not built. Run <code>scripts/build-ui.sh</code>, then rebuild this app.</p></body></html>";

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/ui/dist");
    if !dist.join("index.html").exists() {
        println!("cargo:warning=app/ui/dist is missing: embedding a placeholder page; run scripts/build-ui.sh");
        if let Err(e) = std::fs::create_dir_all(&dist)
            .and_then(|()| std::fs::write(dist.join("index.html"), PLACEHOLDER))
        {
            println!("cargo:warning=could not write the placeholder UI: {e}");
        }
    }
    println!("cargo:rerun-if-changed=../app/ui/dist");
    tauri_build::build();
}
