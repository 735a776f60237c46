//! `cargo fuzz run check`: any bytes through the parser, the checker and
//! both renderers, which must never panic. Providers are checked against
//! an empty configuration, so every step that names one is reported.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let config = flowc::config::Config::default();
    let diagnostics = flowc::check::check_source(&source, None, Some(flowc::check::Target::config(&config)));
    let _ = flowc::diagnostic::render_human("fuzz.flow", &source, &diagnostics);
    for diagnostic in &diagnostics {
        let _ = flowc::diagnostic::render_json("fuzz.flow", &source, diagnostic);
    }
});
