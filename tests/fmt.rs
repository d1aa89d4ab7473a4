//! `cn fmt` as a user runs it: `--check` lists unformatted files and exits 1 without touching
//! them, `--diff` prints a unified diff, a bare run rewrites the files (and a second run finds
//! nothing to do), a file that does not parse is reported with its error and left alone, and
//! the repository's own examples are formatted.

mod common;

use std::path::Path;
use std::process::Command;

use common::CN;

fn cn_fmt(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(CN)
        .arg("fmt")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("cn runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const MESSY: &str = "import http\nfn main( ):\n  server=http.Server( ':8080' )   # the port\n\n\n\n  server.route('GET','/',fn(req) :\n       return {'ok':true}\n  )\n";
const TIDY: &str = "import http\nfn main():\n    server = http.Server(':8080')  # the port\n\n    server.route('GET', '/', fn(req):\n        return {'ok': true}\n    )\n";

#[test]
fn check_diff_write_and_refuse() {
    let dir = std::env::temp_dir().join(format!("cn-fmt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("sub")).expect("a directory");
    std::fs::write(dir.join("sub/app.cn"), MESSY).expect("written");
    std::fs::write(dir.join("tidy.cn"), TIDY).expect("written");
    std::fs::write(dir.join("broken.cn"), "x = (1,\n").expect("written");

    let (status, out, err) = cn_fmt(&dir, &["--check", "sub", "tidy.cn"]);
    assert_eq!((status, out.as_str()), (1, "sub/app.cn\n"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/app.cn")).expect("read"),
        MESSY
    );

    let (status, out, _) = cn_fmt(&dir, &["--diff", "sub"]);
    assert_eq!(status, 1);
    assert!(
        out.starts_with("--- a/sub/app.cn\n+++ b/sub/app.cn\n"),
        "{out}"
    );
    assert!(
        out.contains("\n-  server=http.Server( ':8080' )   # the port\n"),
        "{out}"
    );
    assert!(
        out.contains("\n+    server = http.Server(':8080')  # the port\n"),
        "{out}"
    );

    let (status, out, err) = cn_fmt(&dir, &[]);
    assert_eq!(status, 1, "broken.cn cannot be formatted: {err}");
    assert_eq!(
        out, "sub/app.cn\n",
        "paths under the current folder print without ./"
    );
    assert!(
        err.contains("broken.cn does not parse; it is left as it is"),
        "{err}"
    );
    assert!(
        err.contains("broken.cn:"),
        "the error points into the file: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("sub/app.cn")).expect("read"),
        TIDY
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.cn")).expect("read"),
        "x = (1,\n"
    );

    std::fs::remove_file(dir.join("broken.cn")).expect("removed");
    assert_eq!(
        cn_fmt(&dir, &["--check"]),
        (0, String::new(), String::new())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn standard_input_to_standard_output() {
    use std::io::Write;
    let mut child = Command::new(CN)
        .args(["fmt", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("cn runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(MESSY.as_bytes())
        .expect("written");
    let output = child.wait_with_output().expect("cn ends");
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), TIDY);
}

#[test]
fn the_examples_are_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (status, out, err) = cn_fmt(root, &["--check", "examples"]);
    assert_eq!(status, 0, "not formatted: {out}{err}");
}
