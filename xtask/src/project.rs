//! Where the project's files are, independent of the working directory.

use std::path::{Path, PathBuf};

use crate::Error;

/// The workspace root: the parent of this crate's directory.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The fragments' places, as the build script knows them.
pub use crate::codegen::layout::{AREAS_DIR, FRAGMENT};

/// The partner fragment's human-readable listing of the generated API,
/// relative to the root.
pub const API_LISTING: &str = "spec/partner.api.txt";

/// The listing of an area's fragment, beside it, relative to the root.
pub fn area_listing(area: &str) -> std::path::PathBuf {
    Path::new(AREAS_DIR).join(format!("{area}.api.txt"))
}

/// Writes `contents` to `path` through a temporary file in the same
/// directory and a rename, so a reader (or a crash) never sees half a file.
pub fn write_atomically(path: &Path, contents: &str) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| Error::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::NotAFilePath(path.to_path_buf()))?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&temporary, contents)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|source| {
            let _ = std::fs::remove_file(&temporary);
            Error::Write {
                path: path.to_path_buf(),
                source,
            }
        })
}
