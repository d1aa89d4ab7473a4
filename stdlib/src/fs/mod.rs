//! `fs`: files and directories. Every operation runs on the blocking pool (`blocking`), so a
//! server reading files keeps answering meanwhile, and none faults on a missing or unreadable
//! file: each returns `Ok(..)` or an `Err` naming the path (`errors`), which `unwrap()` turns
//! into a fault with that message when the script has no better answer.
//!
//! `lines` streams (`lines`), `stat` answers an `fs.Stat` (`stat`), and the directory
//! operations are in `tree`. Paths are strs; the `path` module joins and splits them.

pub(crate) mod errors;
pub mod lines;
mod stat;
mod tree;

use std::io::Write;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::blocking;
use errors::{result, AtPath, FsError};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("read_text", read_text)
        .doc("read_text(path)\n`Ok(text)`: the whole file as a str; `Err(InvalidData(path, why))` when it is not UTF-8.")
        .params(Params::exactly(1)),
    Function::new("read_bytes", read_bytes)
        .doc("read_bytes(path)\n`Ok(data)`: the whole file as bytes.")
        .params(Params::exactly(1)),
    Function::new("write_text", write_text)
        .doc("write_text(path, text)\nReplaces the file's contents with `text` (making the file if missing); `Ok(nil)`.")
        .params(Params::exactly(2)),
    Function::new("write_bytes", write_bytes)
        .doc("write_bytes(path, data)\nReplaces the file's contents with the bytes `data`; `Ok(nil)`.")
        .params(Params::exactly(2)),
    Function::new("append_text", append_text)
        .doc("append_text(path, text)\nAdds `text` at the end of the file (making it if missing); `Ok(nil)`.")
        .params(Params::exactly(2)),
    Function::new("lines", lines)
        .doc("lines(path)\n`Ok(iterator)` over the file's lines, without their `\\n` (or `\\r\\n`), read a chunk at a time: memory stays bounded by the longest line.")
        .params(Params::exactly(1)),
    Function::new("exists", exists)
        .doc("exists(path)\nWhether something (a file, a directory) is at `path`.")
        .params(Params::exactly(1)),
    Function::new("stat", stat)
        .doc("stat(path)\n`Ok(fs.Stat)`: `size`, `mtime`, `mode`, `is_file`, `is_dir`, `is_symlink`.")
        .params(Params::exactly(1)),
    Function::new("list_dir", list_dir)
        .doc("list_dir(path)\n`Ok(names)`: the names in a directory, sorted.")
        .params(Params::exactly(1)),
    Function::new("walk", walk)
        .doc("walk(path)\n`Ok(paths)`: everything below a directory, joined to `path`, each directory just before its contents, sorted; symlinked directories are listed, not entered.")
        .params(Params::exactly(1)),
    Function::new("glob", glob)
        .doc("glob(pattern)\n`Ok(paths)` matching `*`, `?`, `[abc]` and `**` (any depth), sorted; `Err(IoError(pattern, why))` for a malformed pattern.")
        .params(Params::exactly(1)),
    Function::new("mkdir", mkdir)
        .doc("mkdir(path, parents=false)\nMakes a directory; with `parents=true` also its missing parents, and an existing one is fine (`mkdir -p`).")
        .params(Params::exactly(1).keywords(&["parents"])),
    Function::new("remove", remove)
        .doc("remove(path, recursive=false)\nRemoves a file or an empty directory; with `recursive=true` a directory and everything in it.")
        .params(Params::exactly(1).keywords(&["recursive"])),
    Function::new("rename", rename)
        .doc("rename(src, dst)\nMoves `src` to `dst` (replacing a file there), within one file system.")
        .params(Params::exactly(2)),
    Function::new("copy", copy)
        .doc("copy(src, dst)\nCopies the file `src` to `dst` with its permission bits; `Ok(bytes copied)`.")
        .params(Params::exactly(2)),
    Function::new("temp_dir", temp_dir)
        .doc("temp_dir(prefix=\"cn-\")\n`Ok(path)` of a new private directory; remove it with `defer fs.remove(dir, recursive=true)`.")
        .params(Params::NONE.keywords(&["prefix"])),
    Function::new("temp_file", temp_file)
        .doc("temp_file(prefix=\"cn-\", suffix=\"\")\n`Ok(path)` of a new empty private file; remove it with `defer fs.remove(path)`.")
        .params(Params::NONE.keywords(&["prefix", "suffix"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Files and directories: read, write, stream lines, stat, list, walk, glob, make, remove, copy, temporary files.")
        .functions(FUNCTIONS);
}

/// Argument `i` as a path.
fn path_arg(args: &Args<'_>, i: usize) -> Result<String, Fault> {
    Ok(args.str(i)?.to_string())
}

/// A str keyword argument, or `default`.
fn text_option(args: &Args<'_>, name: &str, default: &str) -> Result<String, Fault> {
    Ok(args
        .str_option(name)?
        .map_or_else(|| default.to_string(), |s| s.to_string()))
}

/// Runs `work` on `path` in the pool; `ok` makes the `Ok` payload.
fn on_pool<T: Send + 'static>(
    vm: &mut Vm,
    what: &'static str,
    work: impl FnOnce() -> Result<T, FsError> + Send + 'static,
    ok: impl FnOnce(T) -> Value + 'static,
) -> Value {
    blocking::run(vm, what, work, move |done| Ok(result(done, ok)))
}

fn read_text(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(on_pool(
        vm,
        "fs.read_text",
        move || {
            let data = read_whole(&path).at(&path)?;
            String::from_utf8(data).map_err(|error| {
                let at = error.utf8_error().valid_up_to();
                FsError::new(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("not UTF-8 text at byte {at}; read it with fs.read_bytes"),
                    ),
                )
            })
        },
        Value::str,
    ))
}

fn read_bytes(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(on_pool(
        vm,
        "fs.read_bytes",
        move || read_whole(&path).at(&path),
        |data| Value::Bytes(std::rc::Rc::new(data.into())),
    ))
}

/// The most `read_text`/`read_bytes` (and `os.run`'s captured output) hold: past it, a file
/// (`/dev/zero`, a pipe that never ends, a huge log) is an error that points to streaming,
/// not an allocation that aborts the process.
pub(crate) const READ_LIMIT: u64 = 1 << 30;

/// A whole file, refusing more than [`READ_LIMIT`] bytes.
fn read_whole(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // A regular file says its size: refuse a large one before reading, and read into one
    // allocation. Devices and pipes are read up to the limit.
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    if size.is_some_and(|size| size > READ_LIMIT) {
        return Err(too_large("the file"));
    }
    let mut data = Vec::with_capacity(size.unwrap_or(0) as usize);
    file.take(READ_LIMIT + 1).read_to_end(&mut data)?;
    if data.len() as u64 > READ_LIMIT {
        return Err(too_large("the file"));
    }
    Ok(data)
}

/// The error for reading more than [`READ_LIMIT`].
pub(crate) fn too_large(what: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "{what} is larger than the 1 GiB read limit; stream it instead (fs.lines, os.spawn(...).lines())"
    ))
}

/// Writes `data` to `path`, appending or replacing.
fn write(path: &str, data: &[u8], append: bool) -> Result<(), FsError> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .at(path)?;
    file.write_all(data).at(path)?;
    file.flush().at(path)
}

/// The contents argument of the write functions: a str, or bytes where `bytes` allows.
fn contents(args: &Args<'_>, bytes: bool) -> Result<Vec<u8>, Fault> {
    match args.value(1)? {
        Value::Str(s) if !bytes => Ok(s.as_bytes().to_vec()),
        Value::Bytes(b) if bytes => Ok(b.to_vec()),
        other => Err(args.wrong_type(1, if bytes { "bytes" } else { "str" }, other)),
    }
}

fn write_text(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    write_call(vm, &args, "fs.write_text", false, false)
}

fn write_bytes(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    write_call(vm, &args, "fs.write_bytes", true, false)
}

fn append_text(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    write_call(vm, &args, "fs.append_text", false, true)
}

fn write_call(
    vm: &mut Vm,
    args: &Args<'_>,
    what: &'static str,
    bytes: bool,
    append: bool,
) -> Result<Value, Fault> {
    let path = path_arg(args, 0)?;
    let data = contents(args, bytes)?;
    Ok(on_pool(
        vm,
        what,
        move || write(&path, &data, append),
        |()| Value::Nil,
    ))
}

fn lines(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(on_pool(
        vm,
        "fs.lines",
        move || {
            let file = std::fs::File::open(&path).at(&path)?;
            if file.metadata().at(&path)?.is_dir() {
                return Err(FsError::new(
                    &path,
                    std::io::Error::from(std::io::ErrorKind::IsADirectory),
                ));
            }
            Ok((file, path))
        },
        |(file, path)| lines::value(Box::new(file), format!("fs.lines({path:?})")),
    ))
}

fn exists(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(blocking::run(
        vm,
        "fs.exists",
        move || std::path::Path::new(&path).try_exists().unwrap_or(false),
        |found| Ok(Value::Bool(found)),
    ))
}

fn stat(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(on_pool(
        vm,
        "fs.stat",
        move || stat::Stat::read(&path).at(&path),
        cn_runtime::object::NativeObject::value,
    ))
}

/// A list of strs.
fn strs(items: Vec<String>) -> Value {
    Value::list(items.into_iter().map(Value::str).collect())
}

fn list_dir(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(on_pool(
        vm,
        "fs.list_dir",
        move || tree::list_dir(&path),
        strs,
    ))
}

fn walk(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    Ok(on_pool(vm, "fs.walk", move || tree::walk(&path), strs))
}

fn glob(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let pattern = path_arg(&args, 0)?;
    Ok(on_pool(vm, "fs.glob", move || tree::glob(&pattern), strs))
}

fn mkdir(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    let parents = args.flag("parents")?;
    Ok(on_pool(
        vm,
        "fs.mkdir",
        move || tree::mkdir(&path, parents),
        |()| Value::Nil,
    ))
}

fn remove(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = path_arg(&args, 0)?;
    let recursive = args.flag("recursive")?;
    Ok(on_pool(
        vm,
        "fs.remove",
        move || tree::remove(&path, recursive),
        |()| Value::Nil,
    ))
}

fn rename(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (from, to) = (path_arg(&args, 0)?, path_arg(&args, 1)?);
    Ok(on_pool(
        vm,
        "fs.rename",
        move || {
            std::fs::rename(&from, &to).map_err(|error| {
                // Name the side that failed: a missing source, or a destination that cannot be.
                let at = if std::path::Path::new(&from).exists() {
                    &to
                } else {
                    &from
                };
                FsError::new(at.as_str(), error)
            })
        },
        |()| Value::Nil,
    ))
}

fn copy(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let (from, to) = (path_arg(&args, 0)?, path_arg(&args, 1)?);
    Ok(on_pool(
        vm,
        "fs.copy",
        move || tree::copy(&from, &to),
        |n| Value::Int(n.min(i64::MAX as u64) as i64),
    ))
}

fn temp_dir(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let prefix = text_option(&args, "prefix", "cn-")?;
    Ok(on_pool(
        vm,
        "fs.temp_dir",
        move || tree::temp_dir(&prefix),
        Value::str,
    ))
}

fn temp_file(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let prefix = text_option(&args, "prefix", "cn-")?;
    let suffix = text_option(&args, "suffix", "")?;
    Ok(on_pool(
        vm,
        "fs.temp_file",
        move || tree::temp_file(&prefix, &suffix),
        Value::str,
    ))
}
