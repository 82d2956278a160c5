#!/usr/bin/env bash
# End to end on a real Slurm: brings up a single-node cluster (munged, slurmctld, slurmd from
# Debian's slurm-wlm and munge, installed when missing), submits a small sweep with
# `gammaflow slurm --submit` as a 4-task array plus the dependent merge, and checks that
#   1. the merged results (and every job's folder, and the report) equal a single-machine
#      `gammaflow sweep` of the same config byte for byte;
#   2. an array task requeued mid-run (`scontrol requeue`) resumes: its second attempt finds the
#      jobs the first finished and runs only the rest, and no job is lost or written twice.
# All daemons are stopped on exit. Where Slurm cannot run (no apt, daemons that do not start) the
# test prints "skipped: slurm cannot run here: ..." and exits 0, except with CI_REQUIRE_SLURM=1
# (set by .ci/run), where that is a failure.
#
# Usage: tests/slurm/run.sh  (as root; GAMMAFLOW=path overrides target/release/gammaflow,
# SLURM_TEST_PORT=P moves the daemons' ports, KEEP_SLURM_TEST=1 keeps the temp folder.)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GF=${GAMMAFLOW:-$ROOT/target/release/gammaflow}
# Bound of every wait (seconds): the whole test takes well under a minute once installed.
LIMIT=${SLURM_TEST_LIMIT:-240}
SHARDS=4
# slurmctld's port (slurmd takes the next); away from Slurm's 6817 so that a real cluster's
# daemons on this machine are not in the way.
PORT=${SLURM_TEST_PORT:-16817}
export PATH=$PATH:/usr/sbin:/sbin

say() { echo "slurm test: $*"; }
T=""
show_logs() {
  [ -n "$T" ] || return 0
  for f in "$T"/log/*.log "$T"/*/slurm/logs/*.out; do
    [ -f "$f" ] && { echo "--- $f (last 15 lines)"; tail -n 15 "$f"; }
  done
  return 0
}
fail() {
  echo "slurm test: FAILED: $*" >&2
  show_logs >&2
  exit 1
}
cannot_run() {
  if [ "${CI_REQUIRE_SLURM:-0}" = 1 ]; then
    fail "slurm cannot run here (CI_REQUIRE_SLURM=1 makes that a failure): $*"
  fi
  echo "skipped: slurm cannot run here: $*"
  show_logs
  exit 0
}

[ -x "$GF" ] || fail "$GF not found: build it first (cargo build --release)"

# --- install -------------------------------------------------------------------------------
missing() {
  local c
  for c in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
    command -v "$c" >/dev/null 2>&1 || return 0
  done
  return 1
}
if missing; then
  [ "$(id -u)" = 0 ] || cannot_run "slurm-wlm or munge is not installed and this is not root (no apt-get install)"
  command -v apt-get >/dev/null 2>&1 || cannot_run "slurm-wlm or munge is not installed and there is no apt-get"
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  install() { apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1; }
  install || { apt-get update -qq >/dev/null 2>&1 && install; } || cannot_run "apt-get install slurm-wlm munge failed"
  missing && cannot_run "slurm-wlm and munge installed, but a daemon or client is still missing"
fi
# The daemons run as root here (SlurmUser=root); elsewhere they would need a slurm user set up.
[ "$(id -u)" = 0 ] || cannot_run "the test cluster's daemons run as root, and this is not root"

# --- cluster -------------------------------------------------------------------------------
T=$(mktemp -d /tmp/gf-slurm.XXXXXX)
mkdir -p "$T"/munge "$T"/state "$T"/spool "$T"/log
chmod 711 "$T"/munge

stop_pid() { # pid file: TERM, then KILL after 10 s; only the process named in the file.
  local pid
  [ -f "$1" ] || return 0
  pid=$(cat "$1" 2>/dev/null) || return 0
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
# The job step daemons of this cluster: slurmstepd processes writing to its slurmd log.
our_stepds() {
  local p f
  for p in $(pgrep -x slurmstepd 2>/dev/null); do
    for f in /proc/"$p"/fd/*; do
      case "$(readlink "$f" 2>/dev/null)" in "$T"/*) echo "$p"; break ;; esac
    done
  done
  return 0
}
cleanup() {
  local rc=$? p
  set +e
  if [ -f "$T/slurmctld.pid" ]; then
    # Jobs first, while the daemons still run: a step daemon that cannot report its job's end
    # to slurmctld retries forever.
    timeout 10 scancel --quiet --state=RUNNING,PENDING --user="$(id -un)" >/dev/null 2>&1
    for _ in $(seq 100); do
      [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && [ -z "$(our_stepds)" ] && break
      sleep 0.2
    done
    for p in $(our_stepds); do kill -9 "$p" 2>/dev/null; done
  fi
  stop_pid "$T/slurmd.pid"
  stop_pid "$T/slurmctld.pid"
  stop_pid "$T/munge/munged.pid"
  if [ "$rc" = 0 ] && [ "${KEEP_SLURM_TEST:-0}" != 1 ]; then rm -rf "$T"; else say "files kept in $T"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
# --force: munged otherwise refuses some root-owned setups; everything it uses is in $T.
munged --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
  --pid-file="$T/munge/munged.pid" --log-file="$T/log/munged.log" --seed-file="$T/munge/munged.seed" \
  >"$T/log/munged.out" 2>&1 || cannot_run "munged did not start: $(tail -n 3 "$T/log/munged.out")"
for _ in $(seq 50); do [ -S "$T/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$T/munge/munge.socket" ] || cannot_run "munged opened no socket"

HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
export SLURM_CONF=$T/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=gftest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
# No cgroups: plain process tracking, no task binding, no accounting.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
ReturnToService=2
KillWait=2
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 || cannot_run "slurmctld did not start: $(tail -n 3 "$T/log/slurmctld.out")"
slurmd -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 || cannot_run "slurmd did not start: $(tail -n 3 "$T/log/slurmd.out")"
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
state=""
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
  state=$(timeout 5 sinfo -h -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  # A daemon that exited (a port in use, a plugin that cannot load) will not come back.
  if [ $SECONDS -gt $((end - 55)) ]; then
    alive "$T/slurmctld.pid" || cannot_run "slurmctld exited: $(grep -E 'fatal|error' "$T/log/slurmctld.log" | tail -n 1)"
    alive "$T/slurmd.pid" || cannot_run "slurmd exited: $(grep -E 'fatal|error' "$T/log/slurmd.log" | tail -n 1)"
  fi
  sleep 0.2
done
[ "$state" = idle ] || cannot_run "the node did not come up (state: ${state:-none})"
say "single-node cluster up: $HOST, $CPUS CPUs, $(sinfo -V)"

# --- the sweep -----------------------------------------------------------------------------
# 20 jobs (5 a shard) of about half a second each on one core: long enough to requeue a task
# between its jobs, short enough to keep the test brief.
CFG=$T/sweep.toml
cat >"$CFG" <<'EOF'
models = ["toy"]
objectives = [["latency", "energy"]]
num_pop = [200]
epochs = [250]
seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]

[[accelerators]]
name = "edge"
num_pe = 168
l1_size = 512
l2_size = 108000
EOF
JOBS=20
LAYERS=3 # rows per job: the toy model's layers
PER_SHARD=$((JOBS / SHARDS))

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

t0=$(now)
"$GF" sweep --config "$CFG" --outdir "$T/single" --backend cpu -q >"$T/single.out"
t1=$(now)
SINGLE_S=$(secs "$t0" "$t1")
# One folder through merge: rows in job order, the same canonical form the array's merge writes.
"$GF" merge --out "$T/single-all" "$T/single" >/dev/null
"$GF" report --input "$T/single-all" >/dev/null
say "single-machine sweep: $(cat "$T/single.out")"

field() { # field NAME of `scontrol show job ID` (first record)
  timeout 10 scontrol -o show job "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}
submit() { # outdir -> sets ARRAY_ID, MERGE_ID
  local out
  out=$("$GF" slurm --config "$CFG" --outdir "$1" --shards $SHARDS --cpus-per-task 1 --mem 500M --time 10 \
    --merge-sbatch mem=500M --merge-sbatch time=5 --submit) || fail "gammaflow slurm --submit failed"
  echo "$out" | sed 's/^/  /'
  ARRAY_ID=$(echo "$out" | sed -n 's/^array job: //p')
  MERGE_ID=$(echo "$out" | sed -n 's/^merge job: //p')
  [ -n "$ARRAY_ID" ] && [ -n "$MERGE_ID" ] || fail "no job ids in the output of gammaflow slurm"
  # The generated script is what the README shows: array 1-N, task id used as the shard index.
  grep -q "^#SBATCH --array=1-$SHARDS$" "$1/slurm/array.sh" || fail "array.sh lacks --array=1-$SHARDS"
  grep -q -- "--shard \"\${SLURM_ARRAY_TASK_ID}/$SHARDS\"" "$1/slurm/array.sh" || fail "array.sh does not run --shard TASK_ID/$SHARDS"
  case "$(field "$MERGE_ID" Dependency)" in "afterany:${ARRAY_ID}_*"*) ;; *)
    [ "$(field "$MERGE_ID" JobState)" != PENDING ] || fail "merge job $MERGE_ID does not depend on array $ARRAY_ID: $(field "$MERGE_ID" Dependency)" ;;
  esac
}
wait_merge() { # waits (bounded) for the merge job to end; it must have COMPLETED
  local s="" end=$((SECONDS + LIMIT))
  while [ $SECONDS -lt $end ]; do
    s=$(field "$MERGE_ID" JobState)
    case "$s" in PENDING | RUNNING | CONFIGURING | COMPLETING | "") sleep 0.1 ;; *) break ;; esac
  done
  [ "$s" = COMPLETED ] || fail "merge job $MERGE_ID: state ${s:-unknown} after at most ${LIMIT}s"
  local bad
  bad=$(timeout 10 scontrol -o show job "$ARRAY_ID" | tr ' ' '\n' | grep '^JobState=' | grep -v '=COMPLETED$' || true)
  [ -z "$bad" ] || fail "array $ARRAY_ID has tasks not COMPLETED: $bad"
}
check_outdir() { # outdir: every shard holds its jobs once; merged results equal the single run
  local out=$1 i rows uniq jobs
  for i in $(seq $SHARDS); do
    local s=$out/shard-$i-of-$SHARDS
    rows=$(wc -l <"$s/results.jsonl")
    uniq=$(sed -n 's/^{"job":\([0-9]*\),"job_id":"[0-9a-f]*","layer":\([0-9]*\),.*/\1 \2/p' "$s/results.jsonl" | sort -u | wc -l)
    jobs=$(sed -n 's/^{"job":\([0-9]*\),.*/\1/p' "$s/results.jsonl" | sort -un | tr '\n' ' ')
    # Task i is shard i: the 0-based jobs k with k mod N = i-1.
    want=$(seq $((i - 1)) $SHARDS $((JOBS - 1)) | tr '\n' ' ')
    [ "$jobs" = "$want" ] || fail "$s holds jobs [$jobs], expected [$want]"
    [ "$rows" = $((PER_SHARD * LAYERS)) ] && [ "$uniq" = "$rows" ] ||
      fail "$s: $rows rows, $uniq distinct (job, layer), expected $((PER_SHARD * LAYERS)) once each"
    [ "$(wc -l <"$s/results.csv")" = $((PER_SHARD * LAYERS + 1)) ] || fail "$s/results.csv: wrong row count"
  done
  for f in results.csv results.jsonl sweep.json; do
    cmp "$T/single-all/$f" "$out/all/$f" || fail "$out/all/$f differs from the single-machine run"
  done
  # Every job's search output folder, gathered from the shards, equals the single run's.
  mkdir -p "$out/jobs-union"
  for i in $(seq $SHARDS); do cp -r "$out/shard-$i-of-$SHARDS/jobs/." "$out/jobs-union/"; done
  diff -r "$T/single/jobs" "$out/jobs-union" >/dev/null || fail "$out: job folders differ from the single run"
  # The report the merge job wrote, up to the input path it names.
  for f in $(cd "$T/single-all/report" && find . -type f | sort); do
    cmp <(sed "s#$T/single-all#INPUT#g" "$T/single-all/report/$f") <(sed "s#$out/all#INPUT#g" "$out/all/report/$f") ||
      fail "$out/all/report/$f differs from the single run's report"
  done
}

# 1. A clean run: timed from submission to the end of the merge job.
say "submitting the array and the merge (clean run)"
t0=$(now)
submit "$T/array"
wait_merge
t1=$(now)
ARRAY_S=$(secs "$t0" "$t1")
check_outdir "$T/array"
say "clean run: merged results, job folders and report equal the single-machine run byte for byte"

# 2. A task requeued mid-run: task 1 is requeued once it has finished one job of five.
say "submitting again; task 1 will be requeued mid-run"
submit "$T/requeue"
S1=$T/requeue/shard-1-of-$SHARDS
seen=0
end=$((SECONDS + LIMIT))
while [ $SECONDS -lt $end ]; do
  [ -f "$S1/results.jsonl" ] && seen=$(wc -l <"$S1/results.jsonl")
  [ "$seen" -ge "$LAYERS" ] && break
  sleep 0.05
done
[ "$seen" -ge "$LAYERS" ] || fail "task 1 finished no job within ${LIMIT}s"
[ "$seen" -lt $((PER_SHARD * LAYERS)) ] || fail "task 1 finished all its jobs before it could be requeued"
timeout 10 scontrol requeue "${ARRAY_ID}_1" || fail "scontrol requeue ${ARRAY_ID}_1 failed"
say "requeued task ${ARRAY_ID}_1 with $seen of $((PER_SHARD * LAYERS)) rows written"
# Slurm holds a requeued job back for a while (BeginTime); release it now.
end=$((SECONDS + LIMIT))
while [ $SECONDS -lt $end ]; do
  case "$(field "${ARRAY_ID}_1" JobState)" in
    PENDING) timeout 10 scontrol update JobId="${ARRAY_ID}_1" StartTime=now 2>/dev/null && break ;;
    RUNNING | COMPLETED) [ "$(field "${ARRAY_ID}_1" Restarts)" -ge 1 ] && break ;;
  esac
  sleep 0.1
done
wait_merge
[ "$(field "${ARRAY_ID}_1" Restarts)" = 1 ] || fail "task ${ARRAY_ID}_1 was not restarted: Restarts=$(field "${ARRAY_ID}_1" Restarts)"
LOG=$T/requeue/slurm/logs/shard-1-of-$SHARDS.out
grep -q "attempt 1$" "$LOG" && grep -q "attempt 2$" "$LOG" || fail "$LOG does not show two attempts"
# The second attempt resumed: some jobs were already finished, and it ran the rest.
summary=$(grep "job(s) finished" "$LOG" | tail -n 1)
before=$(echo "$summary" | sed -n 's/.*finished (\([0-9]*\) now, \([0-9]*\) before).*/\2/p')
ran=$(echo "$summary" | sed -n 's/.*finished (\([0-9]*\) now, \([0-9]*\) before).*/\1/p')
[ -n "$before" ] && [ "$before" -ge $((seen / LAYERS)) ] && [ "$ran" -ge 1 ] &&
  [ $((before + ran)) = $PER_SHARD ] || fail "the requeued task did not resume: $summary"
check_outdir "$T/requeue"
say "requeued run: attempt 2 found $before finished job(s) and ran $ran; no job lost or duplicated; merged results equal the single-machine run byte for byte"

say "timing: single-machine sweep ${SINGLE_S} s; array sweep (${SHARDS} tasks of 1 CPU + merge, submit to merge end) ${ARRAY_S} s on $CPUS CPUs"
say "passed"
