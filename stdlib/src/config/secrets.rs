//! `secrets_dir=` and `secrets_file=`: secrets as a [`Source`].
//!
//! A secrets directory is how Kubernetes mounts a Secret: one file per key, the file's content
//! the value. The kubelet writes the real files into a timestamped `..2026_11_22_...` folder,
//! points the `..data` symlink at it and makes every key a symlink through `..data`, so entries
//! are read through their symlinks and the `..`-prefixed bookkeeping entries (like any other
//! dotfile) are skipped. One trailing newline is trimmed from each value, since `echo` and most
//! editors add one.
//!
//! A secrets file holds `KEY=value` lines in the dotenv format (see `dotenv.rs`); a secrets file
//! named `.yaml`, `.yml`, `.json` or `.toml` is read as a structured file instead, and then
//! answers both by top-level key and by field path, with the line and column of each value.
//!
//! Keys are looked up by the field's environment name (`DATABASE_URL`, with any `env_prefix`),
//! then by its field path joined with `_` (`database_url`, `db_password`), since Secret keys
//! are often written in lower case.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::dotenv;
use super::file::{FileSource, Format};
use super::source::{FieldPath, Origin, Raw, Source};

/// Secrets from a directory or a file.
#[derive(Debug)]
pub struct SecretsSource {
    keys: Keys,
}

#[derive(Debug)]
enum Keys {
    /// Key to value and the file it came from (a directory's files, a dotenv file's lines).
    Flat(HashMap<String, (String, PathBuf)>),
    /// A YAML, JSON or TOML secrets file.
    Structured(FileSource),
}

impl SecretsSource {
    /// Reads every key of the secrets directory `dir`.
    pub fn open_dir(dir: &Path) -> Result<SecretsSource, Vec<String>> {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            vec![format!(
                "cannot read secrets directory {}: {e}",
                dir.display()
            )]
        })?;
        let mut keys = HashMap::new();
        let mut errors = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    errors.push(format!(
                        "cannot read secrets directory {}: {e}",
                        dir.display()
                    ));
                    continue;
                }
            };
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                continue; // Not a name any field could have.
            };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            // `metadata` follows symlinks: a key is a symlink through `..data` to a file.
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => continue,
                Ok(_) => {}
                // A dangling symlink is a key the kubelet is about to remove (its update swaps
                // `..data` first and deletes the old key links after): the key is gone.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    errors.push(format!("cannot read secret file {}: {e}", path.display()));
                    continue;
                }
            }
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => {
                        keys.insert(name.to_string(), (trim_newline(text), path));
                    }
                    Err(_) => {
                        errors.push(format!("secret file {} is not UTF-8 text", path.display()))
                    }
                },
                Err(e) => errors.push(format!("cannot read secret file {}: {e}", path.display())),
            }
        }
        if errors.is_empty() {
            Ok(SecretsSource {
                keys: Keys::Flat(keys),
            })
        } else {
            Err(errors)
        }
    }

    /// Reads the secrets file `path`: dotenv lines, or a structured file by its extension.
    pub fn open_file(path: &Path) -> Result<SecretsSource, Vec<String>> {
        if Format::of(path).is_ok() {
            return Ok(SecretsSource {
                keys: Keys::Structured(FileSource::open(path)?),
            });
        }
        let keys = dotenv::read_file(path)?
            .into_iter()
            .map(|entry| (entry.key, (entry.value, path.to_path_buf())))
            .collect();
        Ok(SecretsSource {
            keys: Keys::Flat(keys),
        })
    }
}

impl Source for SecretsSource {
    fn lookup(&self, field: &FieldPath<'_>) -> Option<(Raw, Origin)> {
        let joined = field.names.join("_");
        match &self.keys {
            Keys::Flat(keys) => [field.env_name, joined.as_str()]
                .into_iter()
                .find_map(|key| keys.get(key))
                .map(|(value, path)| (Raw::Text(value.clone()), Origin::Secret(path.clone()))),
            Keys::Structured(file) => [field.env_name, joined.as_str()]
                .into_iter()
                .find_map(|key| {
                    file.lookup(&FieldPath {
                        names: &[key],
                        env_name: field.env_name,
                    })
                })
                .or_else(|| file.lookup(field)),
        }
    }
}

/// Drops one trailing `\n` or `\r\n`: the newline an editor or `echo` adds is never part of a
/// password.
fn trim_newline(mut text: String) -> String {
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("cn-secrets-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
            Scratch(dir)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn get(source: &SecretsSource, names: &[&str], env_name: &str) -> Option<(Raw, Origin)> {
        source.lookup(&FieldPath { names, env_name })
    }

    #[test]
    fn a_kubernetes_secret_mount() {
        let scratch = Scratch::new("mount");
        let data = scratch.0.join("..2026_11_22_13_00_00.1");
        std::fs::create_dir(&data).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(data.join("DATABASE_URL"), "postgres://db\n").unwrap_or_default();
        std::fs::write(data.join("api_key"), "k\r\n").unwrap_or_default();
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, scratch.0.join(name))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        link("..2026_11_22_13_00_00.1", "..data");
        link("..data/DATABASE_URL", "DATABASE_URL");
        link("..data/api_key", "api_key");
        scratch.write(".hidden", "no");

        let source = SecretsSource::open_dir(&scratch.0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            get(&source, &["database_url"], "DATABASE_URL"),
            Some((
                Raw::Text("postgres://db".into()),
                Origin::Secret(scratch.0.join("DATABASE_URL"))
            ))
        );
        // Found by field name when the key is lower case.
        assert_eq!(
            get(&source, &["api_key"], "MYAPP_API_KEY").map(|(raw, _)| raw),
            Some(Raw::Text("k".into()))
        );
        assert_eq!(get(&source, &["hidden"], ".hidden"), None);
        assert_eq!(get(&source, &["data"], "..data"), None);
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let error =
            SecretsSource::open_dir(Path::new("/nonexistent/secrets")).expect_err("must fail");
        assert!(error[0].starts_with("cannot read secrets directory /nonexistent/secrets: "));
    }

    #[test]
    fn a_dotenv_secrets_file() {
        let scratch = Scratch::new("dotenv");
        let path = scratch.write("credentials.env", "DB_PASSWORD=\"s3cret\"\n");
        let source = SecretsSource::open_file(&path).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            get(&source, &["db", "password"], "DB_PASSWORD"),
            Some((Raw::Text("s3cret".into()), Origin::Secret(path)))
        );
    }

    #[test]
    fn a_yaml_secrets_file_answers_by_key_and_by_path() {
        let scratch = Scratch::new("yaml");
        let path = scratch.write(
            "credentials.yaml",
            "DATABASE_URL: postgres://x\ndb:\n  password: pw\n",
        );
        let source = SecretsSource::open_file(&path).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            get(&source, &["database_url"], "DATABASE_URL").map(|(raw, _)| raw),
            Some(Raw::Str("postgres://x".into()))
        );
        assert_eq!(
            get(&source, &["db", "password"], "DB_PASSWORD"),
            Some((
                Raw::Str("pw".into()),
                Origin::File {
                    path,
                    line: 3,
                    column: 13
                }
            ))
        );
    }

    #[test]
    fn a_bad_dotenv_secrets_file_names_its_lines() {
        let scratch = Scratch::new("bad");
        let path = scratch.write("creds", "A=1\noops\n");
        let error = SecretsSource::open_file(&path).expect_err("must fail");
        assert_eq!(
            error,
            [format!(
                "{}:2: expected KEY=value, got \"oops\"",
                path.display()
            )]
        );
    }
}
