//! What snapshot paths stand for: standard input (`-`), a file (a FIFO and `/dev/stdin`
//! included, each opened once), or a directory walked for `.yaml`, `.yml` and `.json` files.
//! Each directory and each file is read once, known by device and inode: a link back into the
//! tree is a loop, reported and not followed; a file reached twice is read once.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Self::Stdin => "standard input".into(),
            Self::File(p) => p.display().to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("snapshot {path} has no YAML or JSON files")]
    EmptyDirectory { path: PathBuf },
}

/// Every input of every path, in order, each once; and notes about what was not read twice.
#[derive(Default)]
pub struct Walk {
    files: HashMap<(u64, u64), String>,
    dirs: HashMap<(u64, u64), PathBuf>,
    pub notes: Vec<String>,
}

impl Walk {
    /// The inputs `path` stands for (`-` is standard input).
    pub fn inputs(&mut self, path: &Path) -> Result<Vec<Input>, WalkError> {
        let io = |source| WalkError::Io {
            path: path.to_owned(),
            source,
        };
        if path.as_os_str() == "-" {
            let meta = stdin_metadata().map_err(io)?;
            return Ok(self.file(Input::Stdin, &meta).into_iter().collect());
        }
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_dir() {
            return Ok(self
                .file(Input::File(path.to_owned()), &meta)
                .into_iter()
                .collect());
        }
        if let Some(first) = self.dirs.get(&(meta.dev(), meta.ino())) {
            self.notes.push(format!(
                "snapshot {} is the directory {} again: read once",
                path.display(),
                first.display()
            ));
            return Ok(Vec::new());
        }
        let mut files = Vec::new();
        let mut dirs = vec![path.to_owned()];
        self.dirs.insert((meta.dev(), meta.ino()), path.to_owned());
        while let Some(dir) = dirs.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|source| WalkError::Io {
                path: dir.clone(),
                source,
            })?;
            for entry in entries {
                let p = entry
                    .map_err(|source| WalkError::Io {
                        path: dir.clone(),
                        source,
                    })?
                    .path();
                let meta = std::fs::metadata(&p).map_err(|source| WalkError::Io {
                    path: p.clone(),
                    source,
                })?;
                if meta.is_dir() {
                    let id = (meta.dev(), meta.ino());
                    match self.dirs.get(&id) {
                        Some(first) if p.starts_with(first) => self.notes.push(format!(
                            "snapshot {}: {} leads back to {} (a directory loop): read once",
                            path.display(),
                            p.display(),
                            first.display()
                        )),
                        Some(first) => self.notes.push(format!(
                            "snapshot {}: {} is the directory {} again: read once",
                            path.display(),
                            p.display(),
                            first.display()
                        )),
                        None => {
                            self.dirs.insert(id, p.clone());
                            dirs.push(p);
                        }
                    }
                } else if matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                ) {
                    if !meta.is_file() {
                        self.notes.push(format!(
                            "snapshot {}: {} is not a regular file: not read",
                            path.display(),
                            p.display()
                        ));
                        continue;
                    }
                    files.push((p, meta));
                }
            }
        }
        if files.is_empty() {
            return Err(WalkError::EmptyDirectory {
                path: path.to_owned(),
            });
        }
        files.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(files
            .into_iter()
            .filter_map(|(p, meta)| self.file(Input::File(p), &meta))
            .collect())
    }

    /// The input, unless the same file (by device and inode) was already taken.
    fn file(&mut self, input: Input, meta: &std::fs::Metadata) -> Option<Input> {
        let id = (meta.dev(), meta.ino());
        match self.files.get(&id) {
            Some(first) => {
                self.notes.push(format!(
                    "snapshot {} is the same file as {}: read once",
                    input.name(),
                    first
                ));
                None
            }
            None => {
                self.files.insert(id, input.name());
                Some(input)
            }
        }
    }
}

fn stdin_metadata() -> std::io::Result<std::fs::Metadata> {
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned()?;
    std::fs::File::from(fd).metadata()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_each_directory_once_and_reports_loops() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("a.yaml"), "kind: Pod\n").expect("write");
        std::fs::write(root.join("sub/b.json"), "{}").expect("write");
        std::fs::write(root.join("sub/notes.txt"), "").expect("write");
        std::os::unix::fs::symlink(root, root.join("sub/back")).expect("link");
        std::os::unix::fs::symlink(root.join("a.yaml"), root.join("sub/a-again.yaml"))
            .expect("link");
        let mut walk = Walk::default();
        let inputs = walk.inputs(root).expect("walk");
        let names: Vec<String> = inputs
            .iter()
            .map(|i| i.name().replace(&root.display().to_string(), "<dir>"))
            .collect();
        assert_eq!(names, ["<dir>/a.yaml", "<dir>/sub/b.json"]);
        let notes: Vec<String> = walk
            .notes
            .iter()
            .map(|n| n.replace(&root.display().to_string(), "<dir>"))
            .collect();
        assert_eq!(
            notes,
            [
                "snapshot <dir>: <dir>/sub/back leads back to <dir> (a directory loop): read once",
                "snapshot <dir>/sub/a-again.yaml is the same file as <dir>/a.yaml: read once",
            ]
        );
        // The same paths again: nothing new, and said so.
        assert!(walk.inputs(&root.join("a.yaml")).expect("walk").is_empty());
        assert!(walk.inputs(root).expect("walk").is_empty());
        assert_eq!(walk.notes.len(), 4);
    }

    #[test]
    fn an_empty_directory_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Walk::default().inputs(dir.path()).expect_err("empty");
        assert!(
            err.to_string().ends_with("has no YAML or JSON files"),
            "{err}"
        );
    }
}
