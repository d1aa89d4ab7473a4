# json: build a ~2.5 MB nested document (10k users), then encode + decode it REPS times
# (stdlib json, C accelerated). Usage: python3 json_bench.py [REPS]   (default 8)
import json
import sys

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 8
CITIES = ["Oslo", "Lima", "Pune", "Kyiv", "Nice", "Graz"]


def make_doc(n):
    users = []
    for i in range(n):
        users.append({
            "id": i,
            "name": "user%d" % i,
            "email": "user%d@example.com" % i,
            "active": i % 2 == 0,
            "score": (i * 7919) % 1000,
            "tags": ["t%d" % (i % 10), "t%d" % (i % 3), "common"],
            "address": {"city": CITIES[i % 6], "zip": "%05d" % ((i * 31) % 100000),
                        "geo": {"lat": i % 90, "lon": i % 180}},
            "history": [{"day": d, "count": (i + d) % 13} for d in range(3)],
        })
    return {"version": 1, "count": n, "users": users,
            "meta": {"source": "bench", "ok": True, "none": None}}


doc = make_doc(10_000)
total_len = 0
score = 0
for _ in range(REPS):
    s = json.dumps(doc, separators=(",", ":"))
    total_len += len(s)
    back = json.loads(s)
    for u in back["users"]:
        score += u["score"] + u["history"][2]["count"]
    doc = back
print("json", REPS, total_len, score)
