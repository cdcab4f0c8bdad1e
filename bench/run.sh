#!/usr/bin/env bash
# Runs every benchmark of bench/README.md on this machine, TorchSharp (this repository), ONNX Runtime (the project's export) and
# PyTorch (bench/pytorch/emanet_reference.py) with the same thread count, one process per
# configuration (so each peak RSS is that configuration's), each timed run started only when the
# 1-minute load average is below BENCH_MAX_LOAD; then writes bench/results/<date>-<machine>.md and .json.
#
#   bash bench/run.sh            # everything (about an hour on 2 cores, most of it waiting for quiet)
#   BENCH_QUICK=1 bash bench/run.sh   # smoke run: small sizes, 1 run each, no load gate (numbers not representative)
#
# Environment: BENCH_THREADS (2), BENCH_MAX_LOAD (0.3), BENCH_MAX_WAIT seconds per configuration (3600; past it the
# configuration runs anyway and the report labels it "under load"), BENCH_PYTHON (/usr/bin/python3, Debian's
# python3-torch), BENCH_OPENBLAS (1: also run PyTorch with OpenBLAS, see README), BENCH_ONLY (regex of labels to run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

threads=${BENCH_THREADS:-2}
max_load=${BENCH_MAX_LOAD:-0.3}
max_wait=${BENCH_MAX_WAIT:-3600}
python=${BENCH_PYTHON:-/usr/bin/python3}
quick=${BENCH_QUICK:-0}
only=${BENCH_ONLY:-.}
date=$(date -u +%Y-%m-%d)
machine=$(hostname -s)
stamp="$date-$machine"
[[ $quick == 1 ]] && { stamp="$stamp-quick"; max_load=1000; }
mkdir -p bench/results bench/.cache
# A second run on the same day gets its own files.
if [[ -e bench/results/$stamp.md ]]; then n=2; while [[ -e bench/results/$stamp-$n.md ]]; do n=$((n + 1)); done; stamp="$stamp-$n"; fi
# The code measured: the commit, and whether the working tree differed from it.
export BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':!bench/results' 2>/dev/null || echo ' (plus uncommitted changes)')"
raw="bench/.cache/$stamp.jsonl"
commands="bench/.cache/$stamp.commands.tsv"
: > "$raw"; : > "$commands"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads

# PyTorch: Debian's python3-torch 1.13.
if ! "$python" -c "import torch" 2>/dev/null; then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null
  fi
fi
"$python" -c "import torch" || { echo "no PyTorch for $python (apt-get install python3-torch)" >&2; exit 1; }

# Debian's torch links the reference BLAS (libblas.so.3 from libblas3): matmul and bmm run at a few GFLOP/s there.
# For a fair comparison also run PyTorch on OpenBLAS, unpacked locally (not installed, nothing system-wide changes).
openblas_dir="$root/bench/.cache/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread"
if [[ ${BENCH_OPENBLAS:-1} == 1 && ! -e $openblas_dir/libblas.so.3 ]] && command -v apt-get >/dev/null; then
  (cd bench/.cache && apt-get download -q libopenblas0-pthread >/dev/null 2>&1 && dpkg -x libopenblas0-pthread_*.deb openblas) || true
fi
have_openblas=0; [[ ${BENCH_OPENBLAS:-1} == 1 && -e $openblas_dir/libblas.so.3 ]] && have_openblas=1

# Build first (building loads the machine; the load gate below waits it out).
dotnet build bench/Bench.csproj -c Release -nologo -v:q
bench="$root/bench/bin/Release/net10.0/emanet-bench"
pyref="$root/bench/pytorch/emanet_reference.py"

wait_quiet() {
  local waited=0 load
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" -v m="$max_load" 'BEGIN { exit !(l < m) }'; then return 0; fi
    if (( waited >= max_wait )); then echo "  load still $load after ${waited}s: running under load" >&2; return 0; fi
    (( waited % 60 == 0 )) && echo "  waiting for load < $max_load (now $load, waited ${waited}s)" >&2
    sleep 10; waited=$((waited + 10))
  done
}

# measure LABEL GATE CMD...: GATE=1 waits for a quiet machine first; the command appends its JSON line to $raw.
measure() {
  local label=$1 gate=$2; shift 2
  [[ $label =~ $only ]] || return 0
  echo "== $label" >&2
  [[ $gate == 1 ]] && wait_quiet
  local gate_load; gate_load=$(cut -d' ' -f1 /proc/loadavg)
  printf '%s\t%s\n' "$label" "$*" >> "$commands"
  local before; before=$(wc -l < "$raw")
  if ! "$@" --out "$raw" > "bench/.cache/$stamp.$label.log" 2>&1; then
    echo "  FAILED (bench/.cache/$stamp.$label.log)" >&2
    tail -5 "bench/.cache/$stamp.$label.log" >&2
  fi
  if [[ $(wc -l < "$raw") == "$before" ]]; then
    printf '{"label":"%s","failed":true,"log_tail":%s}\n' "$label" "$(tail -3 "bench/.cache/$stamp.$label.log" | "$python" -c 'import json,sys; print(json.dumps(sys.stdin.read()))')" >> "$raw"
  else
    # Tag the line with its label and the gate's verdict.
    "$python" - "$raw" "$label" "$max_load" "$gate" "$gate_load" <<'PY'
import json, sys
path, label, max_load, gate, gate_load = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
lines = open(path).read().splitlines()
d = json.loads(lines[-1]); d["label"] = label; d["max_load"] = max_load
if gate == "1":
    d["gate_load"] = gate_load
lines[-1] = json.dumps(d)
open(path, "w").write("\n".join(lines) + "\n")
PY
  fi
}

if [[ $quick == 1 ]]; then
  I=(--size 129 --warmup 0 --runs 1); T=(--size 65 --warmup 0 --runs 1); C=(--warmup 0 --runs 1); G=(--runs 2); A=(--size 129)
else
  I=(--size 513 --batch 1 --warmup 2 --runs 5); T=(--size 257 --batch 2 --warmup 1 --runs 5); C=(--warmup 3 --runs 10); G=(--runs 20); A=(--size 513)
fi
ts=("$bench")
pt=("$python" "$pyref")
ptob=(env "LD_LIBRARY_PATH=$openblas_dir" "$python" "$pyref")

measure ts-ceilings           1 "${ts[@]}" ceilings --threads "$threads" "${C[@]}"
measure pt-ceilings           1 "${pt[@]}" ceilings --threads "$threads" "${C[@]}"
(( have_openblas )) && measure pt-openblas-ceilings 1 "${ptob[@]}" ceilings --threads "$threads" "${C[@]}"

measure ts-gen-fp32-unfused   1 "${ts[@]}" infer --impl generated --precision fp32 --threads "$threads" "${I[@]}"
measure ts-gen-fp32-fused     1 "${ts[@]}" infer --impl generated --precision fp32 --fused --threads "$threads" "${I[@]}"
measure ts-gen-bf16-fused     1 "${ts[@]}" infer --impl generated --precision bf16 --fused --threads "$threads" "${I[@]}"
measure ts-gen-fp32-fused-cl  1 "${ts[@]}" infer --impl generated --precision fp32 --fused --channels-last --threads "$threads" "${I[@]}"
measure ts-gen-bf16-fused-cl  1 "${ts[@]}" infer --impl generated --precision bf16 --fused --channels-last --threads "$threads" "${I[@]}"
measure ts-hand-fp32-unfused  1 "${ts[@]}" infer --impl handwritten --precision fp32 --threads "$threads" "${I[@]}"
# ONNX Runtime through the project (OnnxExporter + OnnxRuntimeEngine, as `emanet predict --engine onnxruntime`), fixed-shape export,
# --threads as its intra-op threads: the baseline of the report's "time vs ONNX Runtime fp32" column.
measure ort-fp32              1 "${ts[@]}" infer --engine onnxruntime --precision fp32 --threads "$threads" "${I[@]}"
measure ort-fp32-extended     1 "${ts[@]}" infer --engine onnxruntime --precision fp32 --graph-optimization extended --threads "$threads" "${I[@]}"
# int8: the static QDQ model (EMANet.Runtime.Onnx.Quantization) of the same export, calibrated on 2 random images (latency only;
# accuracy on a trained network: results/int8.md).
measure ort-int8              1 "${ts[@]}" infer --engine onnxruntime --precision int8 --threads "$threads" "${I[@]}"
measure pt-fp32-unfused       1 "${pt[@]}" infer --precision fp32 --threads "$threads" "${I[@]}"
measure pt-fp32-fused         1 "${pt[@]}" infer --precision fp32 --fused --threads "$threads" "${I[@]}"
measure pt-bf16-fused         1 "${pt[@]}" infer --precision bf16 --fused --threads "$threads" "${I[@]}"
measure pt-fp32-fused-cl      1 "${pt[@]}" infer --precision fp32 --fused --channels-last --threads "$threads" "${I[@]}"
measure pt-bf16-fused-cl      1 "${pt[@]}" infer --precision bf16 --fused --channels-last --threads "$threads" "${I[@]}"
if (( have_openblas )); then
  measure pt-openblas-fp32-unfused 1 "${ptob[@]}" infer --precision fp32 --threads "$threads" "${I[@]}"
  measure pt-openblas-fp32-fused   1 "${ptob[@]}" infer --precision fp32 --fused --threads "$threads" "${I[@]}"
  measure pt-openblas-fp32-fused-cl 1 "${ptob[@]}" infer --precision fp32 --fused --channels-last --threads "$threads" "${I[@]}"
fi

# The fashion-mnist network of results/int8.md at its size: TorchSharp fp32 and bf16, ONNX Runtime fp32 and int8.
if [[ $quick == 1 ]]; then Y=(--size 129 --warmup 1 --runs 3); else Y=(--size 129 --warmup 5 --runs 30); fi
measure tiny-ts-fp32-fused-cl 1 "${ts[@]}" infer --network emanet-tiny --impl generated --precision fp32 --fused --channels-last --threads "$threads" "${Y[@]}"
measure tiny-ts-bf16-fused-cl 1 "${ts[@]}" infer --network emanet-tiny --impl generated --precision bf16 --fused --channels-last --threads "$threads" "${Y[@]}"
measure tiny-ort-fp32         1 "${ts[@]}" infer --network emanet-tiny --engine onnxruntime --precision fp32 --threads "$threads" "${Y[@]}"
measure tiny-ort-int8         1 "${ts[@]}" infer --network emanet-tiny --engine onnxruntime --precision int8 --calibration-images 8 --threads "$threads" "${Y[@]}"

measure ts-gen-train          1 "${ts[@]}" train --impl generated --threads "$threads" "${T[@]}"
measure ts-hand-train         1 "${ts[@]}" train --impl handwritten --threads "$threads" "${T[@]}"
measure ts-gen-train-flat     1 "${ts[@]}" train --impl generated --optimizer flat --threads "$threads" "${T[@]}"
measure ts-gen-train-bf16-mixed 1 "${ts[@]}" train --impl generated --precision bf16-mixed --optimizer flat --threads "$threads" "${T[@]}"
measure pt-train              1 "${pt[@]}" train --threads "$threads" "${T[@]}"
measure pt-train-bf16-mixed   1 "${pt[@]}" train --precision bf16-mixed --threads "$threads" "${T[@]}"
(( have_openblas )) && measure pt-openblas-train 1 "${ptob[@]}" train --threads "$threads" "${T[@]}"

if [[ $quick == 1 ]]; then O=(--warmup 1 --runs 3); else O=(--warmup 3 --runs 20); fi
measure ts-optimizer-step      1 "${ts[@]}" optimizer-step --threads "$threads" "${O[@]}"
measure pt-params             0 "${pt[@]}" params --threads "$threads"
measure ts-generator          1 "${ts[@]}" generator --threads "$threads" "${G[@]}"
measure ts-accuracy-init-bn   0 "${ts[@]}" accuracy --bn init --threads "$threads" "${A[@]}"
measure ts-accuracy-calibrated-bn 0 "${ts[@]}" accuracy --bn calibrated --threads "$threads" "${A[@]}"

# The generator inside a real build: MSBuild's ReportAnalyzer timings of the Models project (no incremental reuse).
if [[ "build-generator" =~ $only ]]; then
  echo "== build-generator" >&2
  [[ $quick == 1 ]] || wait_quiet
  printf '%s\t%s\n' "build-generator" "dotnet build Models/Models.csproj -c Release --no-incremental -p:ReportAnalyzer=true -v:d" >> "$commands"
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  start=$(date +%s.%N)
  dotnet build Models/Models.csproj -c Release --no-incremental -p:ReportAnalyzer=true -v:d -nologo > "bench/.cache/$stamp.build.log" 2>&1 || true
  end=$(date +%s.%N)
  "$python" - "$raw" "bench/.cache/$stamp.build.log" "$start" "$end" "$load" "$max_load" <<'PY'
import json, re, sys
raw, log, start, end, load, max_load = sys.argv[1:7]
text = open(log, errors="replace").read()
rows, section = [], None
for line in text.splitlines():
    if "Total analyzer execution time" in line: section = "analyzer"
    elif "Total generator execution time" in line: section = "generator"
    m = re.match(r"^\s*(<?[\d.]+)\s+(<?\d+)\s+(EMANet\.Generator.*)$", line)
    if m: rows.append({"section": section, "seconds": m.group(1), "name": m.group(3).split(", Version")[0].split(" (")[0]})
d = {"label": "build-generator", "tool": "msbuild", "config": "dotnet build Models (ReportAnalyzer)", "entries": rows,
     "build_wall_s": float(end) - float(start), "loadavg_start": [float(v) for v in load.split()], "max_load": float(max_load)}
open(raw, "a").write(json.dumps(d) + "\n")
PY
fi

"$python" bench/report.py "$raw" "$commands" "bench/results/$stamp"
echo "wrote bench/results/$stamp.md and .json" >&2
