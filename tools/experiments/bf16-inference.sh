#!/usr/bin/env bash
# bf16 vs fp32 inference on the fashion-mnist validation scenes, from one trained checkpoint:
# unfused fp32 (the reference), fused fp32, fused bf16, unfused bf16.
# Usage: tools/experiments/bf16-inference.sh CHECKPOINT OUT_DIR [NETWORK]
set -euo pipefail
checkpoint=${1:?checkpoint}; out=${2:?output directory}; network=${3:-emanet-tiny}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
dotnet build Samples/Cli -c Release -v q -nologo >/dev/null
emanet() { dotnet Samples/Cli/bin/Release/net10.0/emanet.dll "$@"; }
for variant in "fp32-unfused:" "fp32-fused:--fuse" "bf16-fused:--fuse --precision bf16" "bf16-unfused:--precision bf16"; do
  name=${variant%%:*}; flags=${variant#*:}
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  emanet eval "$network" --weights "$checkpoint" --data fashion-mnist $flags > "$out/$name.txt"
  end=$(date +%s.%N)
  echo "$name: $(grep -E '^mIoU' "$out/$name.txt") ($(python3 -c "print(f'{$end-$start:.1f}')") s)"
done
