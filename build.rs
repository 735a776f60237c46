//! Embeds every `docs/errors/*.md` explanation for `flowc explain`.

use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=docs/errors");
    let mut codes: Vec<String> = fs::read_dir("docs/errors")
        .expect("docs/errors exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let stem = path.file_stem()?.to_str()?.to_owned();
            (path.extension()? == "md").then_some(stem)
        })
        .collect();
    codes.sort();
    let entries: String = codes
        .iter()
        .map(|code| {
            format!(
                "    ({code:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/docs/errors/{code}.md\"))),\n"
            )
        })
        .collect();
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("explanations.rs");
    fs::write(
        out,
        format!("/// Every diagnostic code with its explanation.\npub static EXPLANATIONS: &[(&str, &str)] = &[\n{entries}];\n"),
    )
    .expect("OUT_DIR is writable");
}
