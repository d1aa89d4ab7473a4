//! Hostile value shapes against every operation that walks a value: lists, dicts and records
//! that contain themselves, values that share one child many times over, and containers nested
//! millions deep, each put through equality, ordering, membership, hashing, sorting, printing,
//! f-strings, JSON, log fields and being freed. A fault is fine; a crashed, aborted or runaway
//! process is not. The program is built from the table below, so a new operation or shape is
//! one line (the way the front-end fuzz test in compiler/tests/fuzz.rs mutates programs).

mod common;

use std::process::{Command, Stdio};

use common::CN;

/// Statements that build `x` and `y`, two values of one shape.
const SHAPES: &[(&str, &str)] = &[
    ("self_list", "x = [1]\nx.append(x)\nx.append(x)\ny = [1]\ny.append(y)\n"),
    ("self_dict", "x = {\"a\": 1}\nx[\"me\"] = x\ny = {\"a\": 1}\ny[\"me\"] = y\n"),
    (
        "self_record",
        "type Node:\n    next: any = nil\nx = Node()\nx.next = x\ny = Node()\ny.next = y\n",
    ),
    (
        "dag",
        "x = [1]\nfor i in range(40):\n    x = [x, x]\ny = [1]\nfor i in range(40):\n    y = [y, y]\n",
    ),
    (
        "deep_lists",
        "x = []\nfor i in range(2000000):\n    x = [x]\ny = []\nfor i in range(2000000):\n    y = [y]\n",
    ),
    (
        "deep_tuples",
        "x = (1,)\nfor i in range(2000000):\n    x = (x, i)\ny = (1,)\nfor i in range(2000000):\n    y = (y, i)\n",
    ),
    (
        "deep_dicts",
        "x = {}\nfor i in range(1000000):\n    x = {\"k\": x}\ny = {}\nfor i in range(1000000):\n    y = {\"k\": y}\n",
    ),
    (
        "deep_variants",
        "x = Ok(1)\nfor i in range(1000000):\n    x = Ok(x)\ny = Err(1)\nfor i in range(1000000):\n    y = Ok(y)\n",
    ),
];

/// Expressions on `x` and `y`; each runs in its own task, so one fault stops only itself.
const OPERATIONS: &[&str] = &[
    "x == y",
    "x != x",
    "x < y",
    "x in [y]",
    "y in x",
    "sorted([x, y])",
    "min(x, y)",
    "{x: 1}",
    "str(x)",
    "repr(y)",
    "f\"{x}\"",
    "len(str(x)) > 0",
    "json.encode(x)",
    "yaml.encode(x)",
    "toml.encode({\"k\": x})",
    "csv.encode([[x, y]])",
    "{x, y}",
    "set([x]) == set([y])",
    "log.info(\"shape\", v=x)",
    "[x, y].index(y)",
    "[x].count(y)",
    "print(len(repr([x])))",
];

fn program(setup: &str) -> String {
    let mut source = String::from(
        "import csv\nimport json\nimport log\nimport time\nimport toml\nimport yaml\n\nfn attempt(f):\n    spawn f()\n    time.sleep(0)\n\n",
    );
    source.push_str(setup);
    for operation in OPERATIONS {
        source.push_str(&format!("attempt(fn(): {operation})\n"));
    }
    source.push_str("print(\"survived\")\n");
    source
}

#[test]
fn no_value_shape_crashes_the_interpreter() {
    let dir = std::env::temp_dir().join(format!("cn-shapes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let mut failures = Vec::new();
    for (name, setup) in SHAPES {
        let path = dir.join(format!("{name}.cn"));
        std::fs::write(&path, program(setup)).expect("written");
        let output = Command::new(CN)
            .arg("run")
            .arg(&path)
            .env("LOG_LEVEL", "error")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("cn runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // Faults in the attempts make the status 1 at exit; a crash is a signal or a panic.
        let clean_exit = matches!(output.status.code(), Some(0 | 1));
        if !clean_exit || !stdout.contains("survived") || stderr.contains("panicked") {
            failures.push(format!(
                "{name}: status {:?}\n{}",
                output.status,
                &stderr[..stderr.len().min(2000)]
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
