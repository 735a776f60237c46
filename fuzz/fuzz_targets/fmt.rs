//! `cargo fuzz run fmt fuzz/corpus/fmt`: any file that formats, formats to
//! a fixed point with the same meaning (`format_source` itself refuses a
//! layout that would change the tree), and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    if let Ok(once) = flowc::format::format_source(&source) {
        let twice = flowc::format::format_source(&once).expect("formatted text formats");
        assert_eq!(once, twice, "fmt is not idempotent");
    }
});
