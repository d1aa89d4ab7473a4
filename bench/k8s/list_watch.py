# The same work as list_watch.cn with the official Python client (Debian's python3-kubernetes):
# list every pod (pages of 500), then count a watch's events until it has seen them all.
# Usage: python3 list_watch.py KUBECONFIG COUNT
import sys

from kubernetes import client, config, watch

config.load_kube_config(config_file=sys.argv[1])
count = int(sys.argv[2])
v1 = client.CoreV1Api()
namespace = "team"
pods, token = [], None
while True:
    page = v1.list_namespaced_pod(namespace, limit=500, _continue=token)
    pods.extend(page.items)
    token = page.metadata._continue
    if not token:
        break
running = sum(1 for pod in pods if pod.status.phase == "Running")
seen = 0
w = watch.Watch()
for event in w.stream(v1.list_namespaced_pod, namespace):
    if event["type"] == "ADDED":
        seen += 1
    if seen == count:
        w.stop()
print(len(pods), running, seen)
