//! `cn run --env-file .env script.cn`: the file's variables are in the environment before the
//! script starts, without overriding variables the process already has; a missing or malformed
//! file is a usage error (exit 2) reported line by line, and the script does not run.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

/// A scratch folder with a script that prints the variables it is asked about.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let dir = std::env::temp_dir().join(format!("cn-envfile-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch folder");
        std::fs::write(
            dir.join("show.cn"),
            "import config\n\
             for name in args():\n    \
                 print(f\"{name}={config.env(name, default='<unset>')}\")\n",
        )
        .expect("script");
        Folder(dir)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).expect("env file");
    }

    /// `cn run` with `options` before the script, `names` after it, and `env` added to the
    /// environment.
    fn run(&self, options: &[&str], names: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(common::CN)
            .current_dir(&self.0)
            .arg("run")
            .args(options)
            .arg("show.cn")
            .args(names)
            .env_remove("CFGTEST_PORT")
            .env_remove("CFGTEST_GREETING")
            .env_remove("CFGTEST_NOTE")
            .envs(env.iter().copied())
            .output()
            .expect("cn runs")
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn variables_from_the_file_reach_the_script_and_the_environment_wins() {
    let folder = Folder::new("basic");
    folder.write(
        ".env",
        "# local settings\nexport CFGTEST_PORT=8080\nCFGTEST_GREETING=\"hello\\nworld\"\n",
    );
    let out = folder.run(
        &["--env-file", ".env"],
        &["CFGTEST_PORT", "CFGTEST_GREETING", "CFGTEST_NOTE"],
        &[("CFGTEST_PORT", "9090")],
    );
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        "CFGTEST_PORT=9090\nCFGTEST_GREETING=hello\nworld\nCFGTEST_NOTE=<unset>\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_later_file_overrides_an_earlier_one() {
    let folder = Folder::new("layers");
    folder.write("base.env", "CFGTEST_PORT=8080\nCFGTEST_NOTE=base\n");
    folder.write("local.env", "CFGTEST_PORT=8081\n");
    let out = folder.run(
        &["--env-file", "base.env", "--env-file", "local.env"],
        &["CFGTEST_PORT", "CFGTEST_NOTE"],
        &[],
    );
    assert_eq!(text(&out.stdout), "CFGTEST_PORT=8081\nCFGTEST_NOTE=base\n");
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let folder = Folder::new("missing");
    let out = folder.run(&["--env-file", "nope.env"], &["CFGTEST_PORT"], &[]);
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "cn: --env-file: cannot read nope.env: No such file or directory (os error 2)\n"
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_bad_line_is_reported_and_the_script_does_not_run() {
    let folder = Folder::new("bad");
    folder.write(
        ".env",
        "CFGTEST_PORT=8080\nnot a setting\nCFGTEST_NOTE=\"open\n",
    );
    let out = folder.run(&["--env-file", ".env"], &["CFGTEST_PORT"], &[]);
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        "cn: --env-file: .env:2: expected KEY=value, got \"not a setting\"\n\
         cn: --env-file: .env:3: the double-quoted value is never closed\n"
    );
    assert_eq!(out.status.code(), Some(2));
}
