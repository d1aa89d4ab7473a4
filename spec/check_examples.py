#!/usr/bin/env python3
"""Checks every example in spec/*.md against the cn binary: `python3 spec/check_examples.py [path/to/cn]`
(default: target/debug/cn). Exits 1 if any example does not produce its shown output.

Conventions:
- ```cn [file=NAME] [args=a,b] [cmd=check|dis] [nocheck]``` followed (blank lines allowed) by a
  ```text block: save it as demo.cn in an empty directory, run `cn run demo.cn` there (or the
  command given) with NO_COLOR=1, and compare stdout then stderr (+ "[exit status N]" when the
  expected text ends with such a line).
- ```cn``` without an output block: `cn check` must succeed (unless nocheck).
- ```cn file=NAME```: written beside the next program, not run on its own.
- Tables whose header has `example` and `result` columns: `print(repr(EXAMPLE))` must print
  RESULT; a result `fault: msg` means the program must fault with that message. An example
  that starts with a library module's name (`path.join(...)`) imports that module first.
"""
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "debug", "cn")
SPEC = HERE
failures = 0
checked = 0
# Library modules a table example may start with.
TABLE_MODULES = {"path", "fs", "os", "math", "json", "time", "io"}


def run(program, args=(), cmd="run", files=()):
    with tempfile.TemporaryDirectory() as d:
        for name, text in files:
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        with open(os.path.join(d, "demo.cn"), "w") as f:
            f.write(program)
        env = dict(os.environ, NO_COLOR="1", HOME=d)
        p = subprocess.run([CN, cmd, "demo.cn", *args], cwd=d, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            out += f"[exit status {p.returncode}]\n"
        return out


def report(where, program, expected, actual):
    global failures
    failures += 1
    print(f"--- FAIL {where}")
    print(program)
    print("--- expected")
    print(expected)
    print("--- actual")
    print(actual)


def check_file(path):
    global checked
    lines = open(path).read().split("\n")
    i = 0
    pending_files = []
    in_table = None
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^```cn(.*)$", line)
        if m:
            attrs = m.group(1).split()
            start = i + 1
            j = start
            while not lines[j].startswith("```"):
                j += 1
            program = "\n".join(lines[start:j]) + "\n"
            i = j + 1
            opts = dict(a.split("=", 1) for a in attrs if "=" in a)
            if "file" in opts:
                pending_files.append((opts["file"], program))
                continue
            k = i
            while k < len(lines) and lines[k].strip() == "":
                k += 1
            expected = None
            if k < len(lines) and lines[k].startswith("```text"):
                e = k + 1
                while not lines[e].startswith("```"):
                    e += 1
                expected = "\n".join(lines[k + 1:e]) + "\n"
                if expected == "\n":
                    expected = ""
                i = e + 1
            where = f"{os.path.basename(path)}:{start}"
            args = opts["args"].split(",") if "args" in opts else []
            files = pending_files
            pending_files = []
            if "nocheck" in attrs:
                continue
            checked += 1
            if expected is None:
                out = run(program, cmd="check", files=files)
                if out:
                    report(where + " (check)", program, "", out)
                continue
            out = run(program, args=args, cmd=opts.get("cmd", "run"), files=files)
            if not re.search(r"\[exit status \d+\]\n$", expected):
                out = re.sub(r"\[exit status \d+\]\n$", "", out)
            if out != expected:
                report(where, program, expected, out)
            continue
        # tables
        if line.startswith("|"):
            cells = split_row(line)
            if in_table is None:
                low = [c.strip().lower() for c in cells]
                if "example" in low and "result" in low:
                    in_table = (low.index("example"), low.index("result"))
                    i += 2
                    continue
                in_table = False
            elif in_table:
                ex, res = in_table
                expr = unquote(cells[ex])
                want = unquote(cells[res])
                if expr:
                    module = re.match(r"(\w+)\.", expr)
                    if module and module.group(1) in TABLE_MODULES:
                        expr_import = f"import {module.group(1)}\n"
                    else:
                        expr_import = ""
                    checked += 1
                    where = f"{os.path.basename(path)}:{i + 1}"
                    if want.startswith("fault: "):
                        program = f"{expr_import}print({expr})\n"
                        out = run(program)
                        msg = want[len("fault: "):]
                        if f"\nfault: {msg}\n" not in "\n" + out:
                            report(where, program, want, out)
                    else:
                        program = f"{expr_import}print(repr({expr}))\n"
                        out = run(program)
                        if out != want + "\n":
                            report(where, program, want, out)
        else:
            in_table = None
        i += 1


def split_row(line):
    line = line.strip().strip("|")
    parts = re.split(r"(?<!\\)\|", line)
    return [p.replace("\\|", "|").strip() for p in parts]


def unquote(cell):
    cell = cell.strip()
    m = re.fullmatch(r"``\s?(.*?)\s?``", cell) or re.fullmatch(r"`(.*)`", cell)
    return m.group(1) if m else cell


for name in sorted(os.listdir(SPEC)):
    if name.endswith(".md"):
        check_file(os.path.join(SPEC, name))
print(f"{checked} examples checked, {failures} failures")
sys.exit(1 if failures else 0)
