//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// Every bundled example, sorted by path.
pub fn examples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/ exists")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "flow"))
        .collect();
    files.sort();
    files
}
