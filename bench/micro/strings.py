# strings: format N strings, join them, split the text, count the words in a dict; REPS rounds.
# Usage: python3 strings.py [REPS]   (default 5)
# Formatting uses an f-string, the construct strings.cn uses (the shared reference program
# uses "w%d n%d %s" % (...), which CPython runs slightly slower).
import sys

N = 200_000
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]

total_len = 0
distinct = 0
check = 0
for r in range(REPS):
    parts = []
    for i in range(N):
        parts.append(f"w{(i + r) % 1000} n{i} {WORDS[i % 8]}")
    text = " ".join(parts)
    total_len += len(text)
    counts = {}
    for w in text.split(" "):
        counts[w] = counts.get(w, 0) + 1
    distinct += len(counts)
    check += counts["w7"] * 3 + counts["gamma"] + counts["n199999"]
print("strings", N, REPS, total_len, distinct, check)
