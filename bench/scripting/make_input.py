"""Writes a deterministic access-log-like text file of about SIZE_MB megabytes to PATH:
`python3 make_input.py PATH [SIZE_MB]` (100 by default). Lines vary in length and content so
that neither runtime meets only one shape."""
import random
import sys

path = sys.argv[1]
size = int(sys.argv[2]) * 1_000_000 if len(sys.argv) > 2 else 100_000_000
rng = random.Random(7)
users = [f"user{i}" for i in range(500)]
paths = ["/api/orders", "/api/users", "/healthz", "/metrics", "/api/items/42", "/login"]
words = "the quick brown fox jumps over a lazy dog while servers answer requests slowly".split()
written = 0
with open(path, "w") as out:
    while written < size:
        status = rng.choice([200, 200, 200, 201, 204, 301, 404, 500, 503])
        msg = " ".join(rng.choice(words) for _ in range(rng.randint(2, 12)))
        line = (f"2026-12-05T10:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z "
                f"level=info user={rng.choice(users)} path={rng.choice(paths)} "
                f"status={status} ms={rng.randint(1, 900)} msg=\"{msg}\"\n")
        out.write(line)
        written += len(line)
