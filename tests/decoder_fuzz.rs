//! Mutated text against every decoder a script can feed input to: `yaml.decode`,
//! `yaml.decode_all`, `toml.decode`, `csv.decode`, `json.decode`, `time.parse` (with and without
//! a pattern) and `url.parse`. Inputs are seed documents with bytes flipped, cut, repeated and
//! nested, from a fixed-seed generator, so a failure reproduces. Every call must return `Ok` or
//! `Err`; a fault, a crash or a runaway process fails the test.

mod common;

use std::process::{Command, Stdio};

use common::CN;

const SEEDS: &[&str] = &[
    "a: 1\nb: [x, 'yes', 2.5, ~]\nc:\n  d: {e: f}\n",
    "base: &b {host: h}\ncopy: *b\nlist:\n  - - 1\n    - 2\n",
    "kind: A\n---\nkind: B\n...\n",
    "title = 'x'\n[server]\nport = 8_080\n[[items]]\nn = 1\nwhen = 1979-05-27T07:32:00Z\n",
    "name,age\nann,30\n\"bo, b\",\"4\"\"2\"\n\"multi\nline\",7\n",
    "{\"a\": [1, 2.5e3, \"x\\u00e9\", null, true], \"b\": {}}",
    "2026-12-06T10:30:00.250+05:30[Asia/Kolkata]",
    "https://user:pw@example.com:8080/p/a/t/h?query=string#frag",
];

/// A small fixed-seed generator (xorshift), so runs are reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SPICE: &[&str] = &[
    "[",
    "{",
    "]",
    "}",
    "&a ",
    "*a",
    "- ",
    ": ",
    "\"",
    "'",
    "\n",
    "\t",
    "\\",
    "%",
    "\u{0}",
    "é",
    "---\n",
    "[[",
    "=",
    ",",
    "\r\n",
    "!!str ",
    "0x",
    "9999999999999999999999",
    "%Y",
    "T",
    "Z",
];

fn mutate(rng: &mut Rng, seed: &str) -> String {
    let mut text: Vec<char> = seed.chars().collect();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(text.len() + 1);
        match rng.below(5) {
            0 if !text.is_empty() => {
                text.remove(at.min(text.len() - 1));
            }
            1 => text.truncate(at),
            2 => {
                let spice = SPICE[rng.below(SPICE.len())];
                let copies = if rng.below(8) == 0 { 300 } else { 1 };
                let insert: Vec<char> = spice.repeat(copies).chars().collect();
                text.splice(at..at, insert);
            }
            3 => {
                let piece: Vec<char> = text[at..].iter().take(20).copied().collect();
                text.splice(at..at, piece);
            }
            _ => {
                if let Some(c) = text.get_mut(at) {
                    *c = SPICE[rng.below(SPICE.len())].chars().next().unwrap_or('x');
                }
            }
        }
    }
    text.into_iter().collect()
}

#[test]
fn mutated_inputs_never_crash_a_decoder() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    for round in 0..3000 {
        let seed = SEEDS[round % SEEDS.len()];
        cases.push(mutate(&mut rng, seed));
    }
    let dir = std::env::temp_dir().join(format!("cn-decoder-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let inputs = dir.join("inputs.json");
    std::fs::write(&inputs, serde_json::to_string(&cases).expect("json")).expect("written");
    let script = dir.join("decode.cn");
    std::fs::write(
        &script,
        r#"import csv
import fs
import json
import time
import toml
import url
import yaml

fn results(text):
    return [
        yaml.decode(text), yaml.decode_all(text), toml.decode(text), csv.decode(text),
        csv.decode(text, header=false, delimiter=";"), json.decode(text), time.parse(text),
        time.parse(text, "%Y-%m-%d %H:%M %z"), url.parse(text),
    ]

cases = json.decode(fs.read_text(args()[0]).unwrap()).unwrap()
ok = 0
for text in cases:
    for r in results(text):
        if r.is_ok() or r.is_err():
            ok += 1
print("decoded", len(cases), ok)
"#,
    )
    .expect("written");
    let output = Command::new(CN)
        .arg("run")
        .arg(&script)
        .arg(&inputs)
        .stdin(Stdio::null())
        .output()
        .expect("cn runs");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "status {:?}\n{}",
        output.status,
        &stderr[..stderr.len().min(3000)]
    );
    assert_eq!(
        stdout.trim(),
        format!("decoded {} {}", cases.len(), cases.len() * 9)
    );
}
