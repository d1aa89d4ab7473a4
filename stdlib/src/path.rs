//! `path`: joining and splitting file paths as text, the way Go's `path/filepath` and Python's
//! `os.path` do. Nothing here touches the file system except `absolute` and `relative`, which
//! read the working directory; none follows symlinks (`..` is removed lexically, as Go's
//! `Clean` does).

use std::path::{Component, Path, PathBuf};

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("join", join)
        .doc("join(*parts)\nThe parts joined with `/`; a part that starts with `/` starts over (`join(\"a\", \"/b\")` is `/b`).")
        .params(Params::at_least(1)),
    Function::new("dirname", dirname)
        .doc("dirname(p)\nEverything before the last `/` (`\"a/b/c.txt\"` -> `\"a/b\"`; `\"c.txt\"` -> `\"\"`).")
        .params(Params::exactly(1)),
    Function::new("basename", basename)
        .doc("basename(p)\nThe last part (`\"a/b/c.txt\"` -> `\"c.txt\"`).")
        .params(Params::exactly(1)),
    Function::new("ext", ext)
        .doc("ext(p)\nThe last part's extension with its dot (`\".txt\"`), or `\"\"`; a leading dot is not one (`\".bashrc\"` -> `\"\"`).")
        .params(Params::exactly(1)),
    Function::new("stem", stem)
        .doc("stem(p)\nThe last part without its extension (`\"a/c.tar.gz\"` -> `\"c.tar\"`).")
        .params(Params::exactly(1)),
    Function::new("is_absolute", is_absolute)
        .doc("is_absolute(p)\nWhether `p` starts at the root (`/`).")
        .params(Params::exactly(1)),
    Function::new("normalize", normalize)
        .doc("normalize(p)\n`p` with `.` parts, doubled slashes and `x/..` pairs removed, lexically (`\"a/./b/../c/\"` -> `\"a/c\"`).")
        .params(Params::exactly(1)),
    Function::new("absolute", absolute)
        .doc("absolute(p)\n`p` joined to the working directory and normalized (symlinks are not resolved).")
        .params(Params::exactly(1)),
    Function::new("relative", relative)
        .doc("relative(p, start=\".\")\nThe path from `start` to `p` (`relative(\"/a/b/c\", \"/a/d\")` is `\"../b/c\"`).")
        .params(Params::between(1, 2).keywords(&["start"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("File paths as text: join, dirname, basename, ext, stem, normalize, absolute, relative.")
        .functions(FUNCTIONS);
}

fn text(args: &Args<'_>, i: usize) -> Result<String, Fault> {
    Ok(args.str(i)?.to_string())
}

fn string(path: &Path) -> Value {
    Value::str(path.to_string_lossy())
}

fn join(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let mut joined = PathBuf::new();
    for i in 0..args.len() {
        joined.push(args.str(i)?.as_str());
    }
    Ok(string(&joined))
}

fn dirname(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let p = text(&args, 0)?;
    let head = match p.rfind('/') {
        None => "",
        Some(i) => match p[..i].trim_end_matches('/') {
            "" => "/",
            head => head,
        },
    };
    Ok(Value::str(head))
}

/// The last part: what follows the last `/` (trailing slashes ignored).
fn last_part(p: &str) -> &str {
    let trimmed = p.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

fn basename(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::str(last_part(&text(&args, 0)?)))
}

/// Where the extension of a last part starts, if it has one.
fn ext_start(part: &str) -> Option<usize> {
    match part.rfind('.') {
        Some(0) | None => None,
        Some(i) if part[..i].chars().all(|c| c == '.') => None,
        Some(i) => Some(i),
    }
}

fn ext(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let p = text(&args, 0)?;
    let part = last_part(&p);
    Ok(Value::str(ext_start(part).map_or("", |i| &part[i..])))
}

fn stem(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let p = text(&args, 0)?;
    let part = last_part(&p);
    Ok(Value::str(ext_start(part).map_or(part, |i| &part[..i])))
}

fn is_absolute(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::Bool(text(&args, 0)?.starts_with('/')))
}

/// `p` cleaned lexically, as Go's `filepath.Clean`: `.` for an empty result.
fn clean(p: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for component in p.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                // `/..` is `/`.
                Some(Component::RootDir) => {}
                _ => parts.push(component),
            },
            other => parts.push(other),
        }
    }
    let cleaned: PathBuf = parts.iter().collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

fn normalize(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(string(&clean(Path::new(&text(&args, 0)?))))
}

/// `p` made absolute against the working directory, cleaned.
fn absolute_path(args: &Args<'_>, p: &str) -> Result<PathBuf, Fault> {
    let cwd = std::env::current_dir().map_err(|error| {
        Fault::new(format!(
            "{}: cannot read the working directory: {error}",
            args.function
        ))
    })?;
    Ok(clean(&cwd.join(p)))
}

fn absolute(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let p = text(&args, 0)?;
    Ok(string(&absolute_path(&args, &p)?))
}

fn relative(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let target = absolute_path(&args, &text(&args, 0)?)?;
    let start = match args.get_or_named(1, "start") {
        None | Some(Value::Nil) => ".".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => return Err(args.wrong_type(1, "str", other)),
    };
    let start = absolute_path(&args, &start)?;
    let (to, from): (Vec<_>, Vec<_>) =
        (target.components().collect(), start.components().collect());
    let common = to.iter().zip(&from).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    Ok(string(&clean(&out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_dots_and_parent_pairs_lexically() {
        let cases = [
            ("a/./b/../c/", "a/c"),
            ("/../x", "/x"),
            ("../a/..", ".."),
            ("", "."),
            ("a//b", "a/b"),
            ("/", "/"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(Path::new(input)), PathBuf::from(want), "{input}");
        }
    }

    #[test]
    fn an_extension_is_after_the_last_dot_not_a_leading_one() {
        assert_eq!(ext_start("c.tar.gz"), Some(5));
        assert_eq!(ext_start(".bashrc"), None);
        assert_eq!(ext_start("..x"), None);
        assert_eq!(ext_start("noext"), None);
    }
}
