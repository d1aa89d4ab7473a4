# shellcheck shell=bash
# Quiet-machine wait for bench/http/run and bench/http/profile. Source it, then call
# `wait_quiet LABEL` before each measurement.
#
# Waits while the 1-min load average is above LOAD_MAX (default 1.5) or other processes use more
# than BUSY_MAX % (default 10) of all CPU time over a 3 s sample (an idle server uses ~0: a
# compile shows up here before it moves the load average). Polls every LOAD_POLL s (30), at most
# LOAD_WAIT s (600), then measures anyway with a warning. Decisions go to LOAD_LOG (default
# /dev/null). LOAD_MAX=inf BUSY_MAX=100 disables the wait.

LOAD_MAX=${LOAD_MAX:-1.5}
BUSY_MAX=${BUSY_MAX:-10}
LOAD_POLL=${LOAD_POLL:-30}
LOAD_WAIT=${LOAD_WAIT:-600}
LOAD_LOG=${LOAD_LOG:-/dev/null}

core_ticks() {  # busy and total jiffies of CPU $1 (all CPUs if $1 is empty)
  awk -v c="cpu$1" '$1 == c { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat
}

busy_pct() {  # busy % of all CPUs over $1 seconds
  local a b
  read -r -a a < <(core_ticks "")
  sleep "$1"
  read -r -a b < <(core_ticks "")
  awk -v b=$((b[0] - a[0])) -v t=$((b[1] - a[1])) 'BEGIN { if (t == 0) t = 1; printf "%d", 100 * b / t }'
}
wait_quiet() {
  local label=$1 load busy waited=0
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    busy=$(busy_pct 3)
    if awk -v l="$load" -v m="$LOAD_MAX" -v b="$busy" -v bm="$BUSY_MAX" 'BEGIN { exit !(l <= m && b <= bm) }'; then
      echo "$(date -u +%TZ) ok      load1=$load busy=$busy% waited=${waited}s [$label]" >>"$LOAD_LOG"
      return 0
    fi
    if [ "$waited" -ge "$LOAD_WAIT" ]; then
      echo "$(date -u +%TZ) TIMEOUT load1=$load busy=$busy% waited=${waited}s, measuring anyway [$label]" >>"$LOAD_LOG"
      echo "load $load, CPU $busy% busy after ${waited}s: measuring anyway [$label]" >&2
      return 0
    fi
    echo "$(date -u +%TZ) wait    load1=$load busy=$busy% [$label]: $(ps -eo pcpu=,comm= --sort=-pcpu | head -n3 | awk '{printf "%s %s%%; ", $2, $1}')" >>"$LOAD_LOG"
    echo "load $load (max $LOAD_MAX), CPU $busy% busy (max $BUSY_MAX%): waiting ${LOAD_POLL}s [$label]" >&2
    sleep "$LOAD_POLL"
    waited=$((waited + LOAD_POLL))
  done
}
