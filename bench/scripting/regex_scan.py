# The same algorithm as regex_scan.cn.
import re
import sys

errors = re.compile(r"user=(\w+) path=(\S+) status=(5\d\d)")
per_user = {}
with open(sys.argv[1]) as f:
    for line in f:
        m = errors.search(line)
        if m is not None:
            user = m.group(1)
            per_user[user] = per_user.get(user, 0) + 1
top = sorted(per_user.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
print(len(per_user), [tuple(kv) for kv in top])
