#!/usr/bin/env bash
# The checks for a lent device machine, in one command that ends inside DEVICE_BUDGET_S seconds
# (480 by default, under the device tool's 10-minute limit):
#   1. `gammaflow bench` at 2^20 and 2^24 genomes on the GPU (and the CPU's threads beside it);
#   2. 1e7-genome populations on the GPU (gamma, then the default strategy), peak memory;
#   3. the same search on CPU and GPU, output files compared byte for byte;
#   4. search evaluations/s at population 1e5 against `bench`'s CPU end-to-end rate, all cores;
#   5. with the time left, jobs of the 1e7-evaluation quality table (search_quality, one layer,
#      strategy and seed per job, one job per core), whatever finishes before the deadline.
# Run from the repository root with the release binaries and the Vulkan loader carried
# (see ../.library/device/README.md; `benches/device_prep.sh` puts the binaries in .dev/):
#   device run, carry [.dev, .gl], command:
#     for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash benches/device.sh $OUT
# Writes summary.txt, bench.json, quality.csv and device.tar.gz (every log) under the folder
# given (default ./device-out). Smoke test on lavapipe: SMALL=1 bash benches/device.sh /tmp/d
set -uo pipefail
out=${1:-device-out}
mkdir -p "$out/logs"
start=$(date +%s)
end=$((start + ${DEVICE_BUDGET_S:-480}))
bin=${GAMMAFLOW_BIN:-.dev/gammaflow}
sq=${SEARCH_QUALITY_BIN:-.dev/search_quality}
[ -x "$bin" ] || bin=target/release/gammaflow
[ -x "$sq" ] || sq=target/release/examples/search_quality
tbin=/usr/bin/time
[ -x "$tbin" ] || tbin=.dev/time
export WGPU_BACKEND=vulkan
if [ ! -e /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}
sum="$out/summary.txt"
log() { echo "$*" | tee -a "$sum"; }
left() { echo $((end - $(date +%s))); }
if [ -n "${SMALL:-}" ]; then
  sizes=4096,16384; pop=20000; evals=40000; rate_pop=2000; rate_evals=20000; qbudget=2e4
else
  sizes=1048576,16777216; pop=10000000; evals=20000000; rate_pop=100000; rate_evals=2000000; qbudget=1e7
fi

log "== machine ($(date -u +%FT%TZ))"
(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true) 2>&1 | tee -a "$sum"
log "cores: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

log "== 1. bench ($sizes genomes, 2 levels, GPU and all CPU threads)"
timeout 150 "$bin" bench --sizes "$sizes" --levels 2 --no-single-thread --backend gpu --json > "$out/bench.json" 2> "$out/logs/bench.err"
log "bench rc=$?"
cat "$out/bench.json" >> "$sum"
tail -5 "$out/logs/bench.err" >> "$sum"

log "== 2. population $pop on the GPU (resnet18 layer 2)"
timeout 100 "$tbin" -v "$bin" search --model resnet18 --layer 2 --strategy gamma --num-pop "$pop" --epochs 3 \
  --backend gpu --quiet --no-png --outdir "$out/logs/pop-gamma" > "$out/logs/pop-gamma.log" 2>&1
log "gamma rc=$?: $(grep -hE 'evaluations in|Maximum resident|Elapsed' "$out/logs/pop-gamma.log" | tr -s ' ' | tr '\n' ';')"
timeout 120 "$tbin" -v "$bin" search --model resnet18 --layer 2 --num-pop "$pop" --max-evals "$evals" \
  --backend gpu --quiet --no-png --outdir "$out/logs/pop-islands" > "$out/logs/pop-islands.log" 2>&1
log "islands rc=$?: $(grep -hE 'evaluations in|Maximum resident|Elapsed' "$out/logs/pop-islands.log" | tr -s ' ' | tr '\n' ';')"

log "== 3. same seed, same files on CPU and GPU (resnet18 layer 2, default strategy, 2e5 evaluations)"
for b in cpu gpu; do
  timeout 60 "$bin" search --model resnet18 --layer 2 --max-evals 200000 --seed 7 --backend "$b" --quiet --no-png \
    --outdir "$out/logs/same-$b" > "$out/logs/same-$b.log" 2>&1
  log "$b rc=$?: $(grep -h 'evaluations in' "$out/logs/same-$b.log")"
done
for f in results.json results.csv; do
  if cmp -s "$out/logs/same-cpu/$f" "$out/logs/same-gpu/$f"; then log "$f: identical"; else log "$f: DIFFERENT"; fi
done

log "== 4. search rate at population $rate_pop over bench's CPU end-to-end rate (all cores)"
timeout 60 "$bin" bench --sizes "$rate_pop" --levels 2 --no-single-thread --backend cpu > "$out/logs/rate-bench.log" 2>&1
cat "$out/logs/rate-bench.log" >> "$sum"
for s in gamma islands; do
  for b in cpu gpu; do
    timeout 60 "$bin" search --model resnet18 --layer 2 --strategy "$s" --num-pop "$rate_pop" --max-evals "$rate_evals" \
      --backend "$b" --quiet --no-png --outdir "$out/logs/rate-$s-$b" > "$out/logs/rate-$s-$b.log" 2>&1
    log "search $s $b rc=$?: $(grep -h 'evaluations in' "$out/logs/rate-$s-$b.log")"
  done
done

log "== 5. quality at $qbudget evaluations, one job per core until $(date -u -d @$end +%T) ($(left) s left)"
layers="vgg16#3 vgg16#4 vgg16#6 vgg16#7 vgg16#9 vgg16#10 vgg16#12 vgg16#13 alexnet#2 resnet50#10 mnasnet#6 mobilenet_v2#8 bert#1 resnet50#3 alexnet#3 mobilenet_v2#5 bert#2 vgg16#5 resnet50#20 mnasnet#10 mobilenet_v2#12"
# gamma seeds 0-2 first (the default strategy has seeds 0-2 at 1e7 already), then both per seed.
jobs="$out/logs/jobs.txt"
: > "$jobs"
for seed in ${QSEEDS:-0 1 2 3 4 5 6 7 8 9}; do
  strategies="gamma islands"
  [ "$seed" -lt 3 ] && [ -z "${SMALL:-}" ] && strategies=gamma
  for s in $strategies; do for l in $layers; do echo "$s $seed $l" >> "$jobs"; done; done
done
mkdir -p "$out/logs/q"
export sq end qbudget out
# A job starts only with MIN_JOB_S (60 by default) left and is killed at the deadline.
MIN_JOB_S=${MIN_JOB_S:-60} xargs -P "$(nproc)" -L 1 bash -c '
  rest=$((end - $(date +%s))); [ "$rest" -gt "$MIN_JOB_S" ] || exit 0
  RAYON_NUM_THREADS=1 timeout "$rest" "$sq" --budgets "$qbudget" --seeds 1 --seed-start "$1" --strategies "$0" \
    --layers "$2" --csv "$out/logs/q/$0-$1-$2.csv" > /dev/null 2>> "$out/logs/q/errors.log" || rm -f "$out/logs/q/$0-$1-$2.csv"
' < "$jobs"
echo "set,layer,strategy,budget,seed,runtime,bound,gap,energy_nJ,evaluations,mapping" > "$out/quality.csv"
for f in "$out"/logs/q/*.csv; do [ -e "$f" ] && tail -n +2 "$f"; done | sort >> "$out/quality.csv"
log "quality rows: $(($(wc -l < "$out/quality.csv") - 1)) of $(wc -l < "$jobs") jobs"
log "== done in $(($(date +%s) - start)) s"
tar -czf "$out/device.tar.gz" -C "$out" logs && rm -rf "$out/logs"
