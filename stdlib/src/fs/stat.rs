//! `fs.stat(path)`'s answer: an `fs.Stat` with the size, modification time, permission bits and
//! kind of a file, as Python's `os.stat_result` and Go's `fs.FileInfo` give them.

use std::os::unix::fs::PermissionsExt;
use std::time::SystemTime;

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::NativeType;
use cn_runtime::Value;

/// What `stat` read, on the blocking pool.
pub struct Stat {
    pub size: u64,
    pub modified: Option<SystemTime>,
    pub mode: u32,
    pub is_file: bool,
    pub is_dir: bool,
    pub is_symlink: bool,
}

impl Stat {
    /// Reads `path`'s metadata without following a final symlink for `is_symlink`, following it
    /// for the rest (as `ls -lL` shows a link's target).
    pub fn read(path: &str) -> std::io::Result<Stat> {
        let link = std::fs::symlink_metadata(path)?;
        let meta = if link.file_type().is_symlink() {
            std::fs::metadata(path).unwrap_or(link.clone())
        } else {
            link.clone()
        };
        Ok(Stat {
            size: meta.len(),
            modified: meta.modified().ok(),
            mode: meta.permissions().mode() & 0o7777,
            is_file: meta.is_file(),
            is_dir: meta.is_dir(),
            is_symlink: link.file_type().is_symlink(),
        })
    }
}

type M = Member<Stat>;

static STAT: Table<Stat> = Table::new(
    "fs.Stat",
    "A file's size, modification time, permission bits and kind, as `fs.stat(path)` returns it.",
    &[
        M::attribute("size", |s, _| {
            Ok(Value::Int(s.size.min(i64::MAX as u64) as i64))
        })
        .doc("size\nThe size in bytes."),
        M::attribute("mtime", |s, _| {
            Ok(match s.modified {
                Some(at) => crate::time::time_value(at),
                None => Value::Nil,
            })
        })
        .doc("mtime\nThe last modification, a `time.Time` (nil where the system keeps none)."),
        M::attribute("mode", |s, _| Ok(Value::Int(i64::from(s.mode)))).doc(
            "mode\nThe permission bits as an int (`0o644` is 420; `f\"{st.mode:o}\"` prints 644).",
        ),
        M::attribute("is_file", |s, _| Ok(Value::Bool(s.is_file)))
            .doc("is_file\nWhether it is a regular file (after following a symlink)."),
        M::attribute("is_dir", |s, _| Ok(Value::Bool(s.is_dir)))
            .doc("is_dir\nWhether it is a directory (after following a symlink)."),
        M::attribute("is_symlink", |s, _| Ok(Value::Bool(s.is_symlink)))
            .doc("is_symlink\nWhether the path itself is a symbolic link."),
    ],
);

impl NativeType for Stat {
    fn type_name(&self) -> &str {
        "fs.Stat"
    }

    fn members(&self) -> &'static dyn Members {
        &STAT
    }

    fn display(&self) -> String {
        let kind = if self.is_dir {
            "dir"
        } else if self.is_file {
            "file"
        } else {
            "other"
        };
        format!("<fs.Stat {kind} {} bytes mode {:o}>", self.size, self.mode)
    }
}
