//! `body file "PATH"`: reading a template file safely. A `.flow` file is
//! hostile input, and what a body file holds is mailed to leads, so the
//! path must stay inside the workflow file's folder (no absolute path, no
//! `..` out of it, no symbolic link out of it) and name a regular UTF-8
//! text file of bounded size. The checker reads each file once and hands
//! its parsed text to the compiler, which never touches the disk.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::ast::Text;

/// The largest template file read, in bytes.
pub const MAX_TEMPLATE_FILE: u64 = 256 * 1024;

/// The template files of a source, parsed, by the path written in it.
#[derive(Clone, Debug, Default)]
pub struct TemplateFiles {
    by_path: HashMap<String, Text>,
    /// Holidays files, read, by the path written.
    holidays: HashMap<String, Vec<chrono::NaiveDate>>,
}

impl TemplateFiles {
    /// The parsed text of the file written as `path`, if it was read.
    pub fn get(&self, path: &str) -> Option<&Text> {
        self.by_path.get(path)
    }

    pub(super) fn insert(&mut self, path: String, text: Text) {
        self.by_path.insert(path, text);
    }

    /// The dates of the holidays file written as `path`, if it was read.
    pub fn holidays(&self, path: &str) -> Option<&[chrono::NaiveDate]> {
        self.holidays.get(path).map(Vec::as_slice)
    }

    pub(super) fn insert_holidays(&mut self, path: String, dates: Vec<chrono::NaiveDate>) {
        self.holidays.insert(path, dates);
    }
}

/// Why a template file cannot be used.
#[derive(Debug)]
pub enum FileProblem {
    /// The path leaves the workflow's folder; the text says how.
    Outside(&'static str),
    /// No file there.
    Missing,
    /// There is something, but not a usable file; the text says what.
    Unusable(String),
}

/// Reads the file written as `written`, relative to `dir`, if it is a
/// regular UTF-8 file inside `dir` of at most [`MAX_TEMPLATE_FILE`] bytes.
pub fn read(dir: Option<&Path>, written: &str) -> Result<String, FileProblem> {
    let relative = confined(written)?;
    let dir = dir.ok_or(FileProblem::Unusable(
        "cannot be read: the workflow was not read from a file, so it has no folder".to_owned(),
    ))?;
    let joined = dir.join(relative);
    if std::fs::symlink_metadata(&joined).is_err() {
        return Err(FileProblem::Missing);
    }
    let unreadable =
        |error: std::io::Error| FileProblem::Unusable(format!("cannot be read: {error}"));
    let real_dir = dir.canonicalize().map_err(unreadable)?;
    let real = joined.canonicalize().map_err(|_| FileProblem::Missing)?;
    if !real.starts_with(&real_dir) {
        return Err(FileProblem::Outside(
            "is a symbolic link to a place outside the workflow's folder",
        ));
    }
    // Asked before opening: opening a FIFO would wait for a writer.
    if !std::fs::metadata(&real).map_err(unreadable)?.is_file() {
        return Err(FileProblem::Unusable("is not a regular file".to_owned()));
    }
    let file = std::fs::File::open(&real).map_err(unreadable)?;
    if !file.metadata().map_err(unreadable)?.is_file() {
        return Err(FileProblem::Unusable("is not a regular file".to_owned()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_TEMPLATE_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_TEMPLATE_FILE {
        return Err(FileProblem::Unusable(format!(
            "is larger than {} KiB",
            MAX_TEMPLATE_FILE / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|_| FileProblem::Unusable("is not UTF-8 text".to_owned()))
}

/// `written` as a relative path that stays inside its folder when read
/// word by word (symbolic links are checked once the file is found).
fn confined(written: &str) -> Result<PathBuf, FileProblem> {
    if written.is_empty() {
        return Err(FileProblem::Unusable("is an empty path".to_owned()));
    }
    if written.contains('\0') {
        return Err(FileProblem::Unusable("has a NUL character".to_owned()));
    }
    let mut depth = 0usize;
    let mut path = PathBuf::new();
    for component in Path::new(written).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err(FileProblem::Outside("is an absolute path"))
            }
            Component::CurDir => {}
            Component::ParentDir => {
                depth = depth
                    .checked_sub(1)
                    .ok_or(FileProblem::Outside("goes up out of the workflow's folder"))?;
                path.pop();
            }
            Component::Normal(part) => {
                depth += 1;
                path.push(part);
            }
        }
    }
    if depth == 0 {
        return Err(FileProblem::Unusable("names the folder itself".to_owned()));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_folder_are_refused() {
        for written in [
            "/proc/self/environ",
            "/etc/shadow",
            "../../x",
            "a/../../x",
            "..",
        ] {
            assert!(
                matches!(confined(written), Err(FileProblem::Outside(_))),
                "{written}"
            );
        }
        for written in ["x.md", "./x.md", "a/../x.md", "a/b/c.md"] {
            assert!(confined(written).is_ok(), "{written}");
        }
    }
}
