#!/usr/bin/env python3
"""HTTP readiness probe and start-up timer for bench/http/run (stdlib only).

  probe.py wait PORT PATH [TIMEOUT_S]
      Polls GET PATH on 127.0.0.1:PORT every 1 ms until it answers 200; exit 1 on timeout.
  probe.py startup PORT PATH -- CMD...
      Launches CMD, polls GET PATH every 1 ms (a raw socket, no process spawn per attempt) and
      prints "<ms> <exit> <listen_ms>": the time from just before the launch to the first 200,
      the exit status after SIGTERM (128+N: ended by signal N, as in the shell; "timeout" if it
      never answered), and when the server's first stderr line containing "listening" arrived
      ("-" if none).

Each attempt is connect + one HTTP/1.1 request with `Connection: close` + read the status line;
a refused connection costs ~0.05 ms, so the resolution is the 1 ms sleep between attempts.
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def status(port, path):
    """The status code of GET path, or None if the server is not accepting yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            buf = b""
            while b"\r\n" not in buf:
                chunk = s.recv(256)
                if not chunk:
                    break
                buf += chunk
            parts = buf.split(b" ", 2)
            return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else 0
    except OSError:
        return None


def poll(port, path, deadline, proc=None):
    while time.monotonic() < deadline:
        if status(port, path) == 200:
            return True
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.001)
    return False


def main(argv):
    mode, port, path = argv[1], int(argv[2]), argv[3]
    if mode == "wait":
        timeout = float(argv[4]) if len(argv) > 4 else 20.0
        return 0 if poll(port, path, time.monotonic() + timeout) else 1
    if mode == "startup":
        cmd = argv[argv.index("--") + 1:]
        listening = []

        def read_stderr(pipe):
            for line in pipe:
                if not listening and b"listening" in line:
                    listening.append(time.monotonic())

        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        reader = threading.Thread(target=read_stderr, args=(proc.stderr,), daemon=True)
        reader.start()
        ok = poll(port, path, t0 + 20.0, proc)
        t1 = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = "hung"
        if isinstance(rc, int) and rc < 0:
            rc = 128 - rc  # killed by signal -rc: report it as the shell does (143 = SIGTERM)
        reader.join(timeout=1)
        listen = f"{(listening[0] - t0) * 1e3:.2f}" if listening else "-"
        print(f"{(t1 - t0) * 1e3:.2f} {rc} {listen}" if ok else f"timeout {rc} {listen}")
        return 0 if ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
