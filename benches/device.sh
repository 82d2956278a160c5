#!/usr/bin/env bash
# The GPU check for a lent device machine, one command, well under 10 minutes:
#   gammaflow bench at 2^20 and 2^24 genomes, and a 1e7-population search on the GPU.
# Run from the repository root with the release binary built here and the Vulkan loader
# unpacked (see ../.library/device/README.md):
#   device run, carry [target/release/gammaflow, .gl], command:
#     for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; bash benches/device.sh $OUT
# Writes bench.json, search.log and nvidia-smi.txt under the given folder (default ./device-out).
set -uo pipefail
out=${1:-device-out}
mkdir -p "$out"
bin=${GAMMAFLOW_BIN:-target/release/gammaflow}
export WGPU_BACKEND=vulkan
if [ ! -e /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true) > "$out/nvidia-smi.txt" 2>&1
nproc >> "$out/nvidia-smi.txt"
# Evaluation throughput: CPU (all threads) and GPU, evaluation alone and end to end.
timeout 240 "$bin" bench --sizes "${SIZES:-1048576,16777216}" --levels 2 --no-single-thread --backend gpu --json > "$out/bench.json" 2> "$out/bench.err"
echo "bench rc=$?"
cat "$out/bench.json"
# A 1e7-population search (GAMMA's GA, 3 generations) on the GPU: host-side rate at scale.
/usr/bin/time -v timeout 240 "$bin" search --model resnet18 --layer 2 --strategy gamma --num-pop "${POP:-10000000}" --epochs 3 \
  --backend gpu --quiet --outdir "$out/search" > "$out/search.log" 2>&1
echo "search rc=$?"
grep -E "evaluations in|Maximum resident|layer   2" "$out/search.log"
