# The same algorithm as wordcount.cn.
import sys

counts = {}
lines = 0
with open(sys.argv[1]) as f:
    for line in f:
        line = line.rstrip("\n")
        lines += 1
        for word in line.split():
            counts[word] = counts.get(word, 0) + 1
top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
print(lines, len(counts), [tuple(kv) for kv in top])
