#!/usr/bin/env bash
# int8 against float32 on the fashion-mnist experiment (results/int8.md): for each emanet-tiny run of
# tools/experiments/fashion-ablation.sh, export the float32 model and the int8 one (static QDQ, MinMax calibration on
# the first N training scenes), and evaluate both in ONNX Runtime on the 400 val scenes, single scale, with the
# same whole-image inference as `emanet eval`.
# Usage: tools/experiments/int8-fashion.sh [RUNS] [CALIBRATION_IMAGES] [THREADS]   (defaults: runs/fashion-ablation 256 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-runs/fashion-ablation}
calibration=${2:-256}
threads=${3:-2}
if [ -z "${EMANET:-}" ]; then dotnet build -c Release Samples/Cli >/dev/null; fi
emanet=${EMANET:-"dotnet Samples/Cli/bin/Release/net10.0/emanet.dll"}
out="$runs/int8"
mkdir -p "$out"
for checkpoint in "$runs"/emanet-tiny-seed*/checkpoint.ckpt; do
  run=$(basename "$(dirname "$checkpoint")")
  $emanet export emanet-tiny --weights "$checkpoint" --output "$out/$run.fp32.onnx" --dynamic > "$out/$run.export-fp32.txt"
  $emanet export emanet-tiny --weights "$checkpoint" --output "$out/$run.int8.onnx" --dynamic \
    --int8 --calibration fashion-mnist --calibration-images "$calibration" > "$out/$run.export-int8.txt"
  for precision in fp32 int8; do
    start=$(date +%s%N)
    $emanet eval emanet-tiny --weights "$checkpoint" --data fashion-mnist --onnx "$out/$run.$precision.onnx" --threads "$threads" \
      > "$out/$run.eval-$precision.txt"
    echo "wall milliseconds: $(( ($(date +%s%N) - start) / 1000000 ))" >> "$out/$run.eval-$precision.txt"
  done
  echo "$run: $(grep -h '^mIoU' "$out/$run.eval-fp32.txt") | int8: $(grep -h '^mIoU' "$out/$run.eval-int8.txt")"
done
