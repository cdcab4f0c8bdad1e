#!/usr/bin/env bash
# fp32 vs bf16-mixed training of the same network from the same initialisation and batches
# (same seed), on the fashion-mnist scenes; then compares the loss curves.
# Usage: tools/experiments/mixed-precision.sh ITERATIONS OUT_DIR [NETWORK]
set -euo pipefail
iterations=${1:?iterations}; out=${2:?output directory}; network=${3:-emanet-tiny}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
dotnet build Samples/Cli -c Release -v q -nologo >/dev/null
for precision in fp32 bf16-mixed; do
  start=$(date +%s)
  dotnet Samples/Cli/bin/Release/net10.0/emanet.dll train "$network" --data fashion-mnist --out "$out/$precision" \
    --iterations "$iterations" --batch-size 8 --eval-interval "$iterations" --checkpoint-interval "$iterations" \
    --log-interval 100 --bn-momentum keep --precision "$precision" > "$out/$precision.log" 2>&1
  echo "$precision: $(( $(date +%s) - start )) s" | tee "$out/$precision.time"
done
python3 "$(dirname "$0")/compare-curves.py" "$out/fp32/curves.csv" "$out/bf16-mixed/curves.csv"
