#!/usr/bin/env bash
# The fashion-mnist experiment of results/fashion-mnist.md: the same ResNet-18 x0.25 backbone
# (OS 8, 129x129 scenes) with four heads -- FCN, DeepLabV3 (ASPP), EMA, and the control (emanet-tiny
# without its EMA unit) -- trained from scratch on the same budget (iterations, batch, recipe) for
# each seed, then evaluated single scale on the 400 val scenes. Seed-major order, so that a run cut
# short still has every network at the seeds it finished.
# Needs the Debian package dataset-fashion-mnist.
# Usage: tools/experiments/fashion-ablation.sh [ITERATIONS] [OUT] [SEED...]   (defaults: 3000 runs/fashion-ablation 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/../.."
iterations=${1:-3000}
out=${2:-runs/fashion-ablation}
shift $(( $# < 2 ? $# : 2 ))
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
# Three validations per run, the last at the end.
eval_interval=$(( iterations / 3 ))
mkdir -p "$out"
# EMANET overrides the CLI (e.g. a copy of its build, so that rebuilding the checkout cannot change a long experiment).
if [ -z "${EMANET:-}" ]; then dotnet build -c Release Samples/Cli >/dev/null; fi
emanet=${EMANET:-"dotnet Samples/Cli/bin/Release/net10.0/emanet.dll"}
for seed in "${seeds[@]}"; do
  for network in fcn-tiny deeplabv3-tiny emanet-tiny emanet-tiny-no-ema; do
    run="$network-seed$seed"
    [ -f "$out/$run.eval.txt" ] && continue   # finished before: a restarted experiment goes on
    start=$(date +%s)
    $emanet train "$network" --data fashion-mnist --out "$out/$run" --iterations "$iterations" --batch-size 8 --seed "$seed" \
      --eval-interval "$eval_interval" --checkpoint-interval "$eval_interval" --bn-momentum keep --log-interval 250 | tee "$out/$run.log"
    echo "wall seconds: $(( $(date +%s) - start ))" | tee -a "$out/$run.log"
    $emanet eval "$network" --weights "$out/$run/checkpoint.ckpt" --data fashion-mnist > "$out/$run.eval.tmp"
    mv "$out/$run.eval.tmp" "$out/$run.eval.txt"
    [ -f "$out/$network.cost.json" ] || $emanet cost "$network" --classes 11 --json > "$out/$network.cost.json"
  done
done
