# shellcheck shell=bash
# Quiet-machine gate. Source this file, then call `gate LABEL` before each measurement.
#
# Rule: proceed once the 1-minute load average is <= GATE_MAX (default 0.7). While it is above:
#   - measure CPU use over 5 s from /proc/stat;
#   - if the CPUs are busy (>= GATE_BUSY_PCT, default 10 %, of all CPU time) something else is
#     running (a compile, another benchmark): sleep 60 s and look again;
#   - if they are idle, the load is the decaying residue of our own previous run: poll every
#     10 s until it has dropped.
# GATE=0 disables the gate. GATE_TIMEOUT (seconds, default 1800) bounds the wait: after it the
# measurement goes ahead with a warning (the log says so). Decisions go to GATE_LOG.

GATE_MAX=${GATE_MAX:-0.7}
GATE_BUSY_PCT=${GATE_BUSY_PCT:-10}
GATE_TIMEOUT=${GATE_TIMEOUT:-1800}
GATE_LOG=${GATE_LOG:-/dev/null}

# Prints the busy percentage of all CPU time over $1 seconds.
_gate_busy_pct() {
  local a b
  read -r -a a < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  sleep "$1"
  read -r -a b < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
  awk -v bu=$((b[0] - a[0])) -v id=$((b[1] - a[1])) \
    'BEGIN { t = bu + id; if (t == 0) t = 1; printf "%d", 100 * bu / t }'
}

_gate_log() {
  echo "$(date -u +%FT%TZ) $*" >>"$GATE_LOG"
}

gate() {
  local label=${1:-measure} load busy waited=0
  [ "${GATE:-1}" = 0 ] && return 0
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$GATE_MAX" 'BEGIN { exit !(l <= m) }'; then
      _gate_log "ok      load1=$load waited=${waited}s [$label]"
      return 0
    fi
    if [ "$waited" -ge "$GATE_TIMEOUT" ]; then
      _gate_log "TIMEOUT load1=$load waited=${waited}s, measuring anyway [$label]"
      echo "gate: load still $load after ${waited}s; measuring anyway (noisy?)" >&2
      return 0
    fi
    busy=$(_gate_busy_pct 5)
    waited=$((waited + 5))
    if [ "$busy" -ge "$GATE_BUSY_PCT" ]; then
      _gate_log "busy    load1=$load cpu=${busy}% -> sleep 60 [$label]"
      echo "gate: load $load, CPU ${busy}% busy (another process?); sleeping 60 s" >&2
      sleep 60
      waited=$((waited + 60))
    else
      _gate_log "settle  load1=$load cpu=${busy}% -> poll in 10 s [$label]"
      sleep 10
      waited=$((waited + 10))
    fi
  done
}
