#!/usr/bin/env bash
# The fashion-mnist experiment of results/fashion-mnist.md: the same ResNet-18 x0.25 backbone
# (OS 8, 129x129 scenes) with three heads -- FCN, DeepLabV3 (ASPP) and EMA -- trained from scratch
# on the same budget (iterations, batch, recipe), then evaluated single scale on the 400 val scenes.
# Needs the Debian package dataset-fashion-mnist. Usage: tools/experiments/fashion-ablation.sh [ITERATIONS] [OUT]
set -euo pipefail
cd "$(dirname "$0")/../.."
iterations=${1:-3000}
out=${2:-runs/fashion-ablation}
mkdir -p "$out"
dotnet build -c Release Samples/Cli >/dev/null
emanet="dotnet Samples/Cli/bin/Release/net10.0/emanet.dll"
for network in fcn-tiny deeplabv3-tiny emanet-tiny; do
  start=$(date +%s)
  $emanet train "$network" --data fashion-mnist --out "$out/$network" --iterations "$iterations" --batch-size 8 \
    --eval-interval 1000 --checkpoint-interval 1000 --bn-momentum keep --log-interval 250 | tee "$out/$network.log"
  echo "wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/$network.log"
  $emanet eval "$network" --weights "$out/$network/checkpoint.ckpt" --data fashion-mnist | tee "$out/$network.eval.txt"
  $emanet cost "$network" --json > "$out/$network.cost.json"
done
