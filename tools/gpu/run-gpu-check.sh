#!/usr/bin/env bash
# GPU check of the TorchSharp build on a machine with CUDA and a PyTorch installation but no .NET
# (the borrowed H100/H200 of PLATFORM.md). NOT RUN ON A GPU IN THIS REPOSITORY YET: see README, "GPU check".
#
#   bash tools/gpu/run-gpu-check.sh publish   # here, with the .NET SDK: out/gpu/emanet-gpu.tar.xz (self-contained linux-x64)
#   bash tools/gpu/run-gpu-check.sh run       # on the GPU machine, from the repository root, with out/gpu/ carried along
#
# publish: `dotnet publish` of the benchmark harness (bench/, assembly emanet-bench, which has the `gpu-check`
# mode; GPU_CHECK_PROJECT=Samples/Cli/Cli.csproj publishes the `emanet` CLI instead) for linux-x64,
# self-contained, then removes the CPU libtorch of the libtorch-cpu-linux-x64 package from the output
# (libtorch_cpu.so alone is ~440 MB) and keeps TorchSharp's libLibTorchSharp.so (GLIBCXX-patched by the
# build). The tarball must stay under 64 MiB to travel to the GPU machine.
#
# run: unpacks the tarball, asks python3 where torch/lib is, and runs the harness with
# EMANET_LIBTORCH_DIR pointing there: EMANet.Runtime.Natives.LibTorchNatives.LoadFromEnvironment()
# loads libc10, libtorch_cpu, libc10_cuda, libtorch_cuda and libtorch from that folder by full path
# before the first tensor operation, then libLibTorchSharp, so TorchSharp runs on the installed
# (CUDA) libtorch. Caveat: libLibTorchSharp 0.107 is compiled against libtorch 2.10; the GPU
# machine's PyTorch 2.11 may not provide every symbol it needs (then the load fails with the
# loader's message, which this script prints); tools/gpu/check-symbols.sh lists, before loading, every
# undefined symbol of libLibTorchSharp.so that no library in torch/lib defines. Then training steps
# (batch 8 and 16 at 513x513, fp32 and bf16-mixed) of the generated network and of the PyTorch
# reference on the same GPU, and PyTorch's inference latency. Writes out/gpu/missing-symbols.txt,
# out/gpu/gpu-check.json and out/gpu/bench.jsonl.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=out/gpu
mode=${1:-}

case "$mode" in
  publish)
    project=${GPU_CHECK_PROJECT:-bench/Bench.csproj}
    rm -rf "$out/app" && mkdir -p "$out"
    dotnet publish "$project" -c Release -r linux-x64 --self-contained true -o "$out/app" -nologo -v:q \
      -p:PublishReadyToRun=false -p:DebugType=none -p:GenerateDocumentationFile=false
    # Drop the CPU libtorch (the GPU machine brings its own); keep libLibTorchSharp.so.
    find "$out/app" -type f \( -name 'libtorch*.so*' -o -name 'libc10*.so*' -o -name 'libgomp*.so*' -o -name 'libnnapi*.so*' -o -name 'libaoti*.so*' \
      -o -name 'libshm*.so*' -o -name 'libbackend_with_compiler*.so*' -o -name 'libjitbackend_test*.so*' -o -name 'libtorchbind_test*.so*' \) \
      ! -name 'libLibTorchSharp.so' -delete
    tar -C "$out" -cJf "$out/emanet-gpu.tar.xz" app
    size=$(stat -c %s "$out/emanet-gpu.tar.xz")
    echo "$out/emanet-gpu.tar.xz: $((size / 1024 / 1024)) MiB ($(du -sh "$out/app" | cut -f1) unpacked)"
    if (( size > 64 * 1024 * 1024 )); then echo "too large to carry (64 MiB limit)" >&2; exit 1; fi
    ;;
  run)
    [[ -f $out/emanet-gpu.tar.xz ]] || { echo "no $out/emanet-gpu.tar.xz: run '$0 publish' on a machine with .NET first" >&2; exit 1; }
    rm -rf "$out/app" && tar -C "$out" -xJf "$out/emanet-gpu.tar.xz"
    python=${PYTHON:-python3}
    torch_lib=${EMANET_LIBTORCH_DIR:-$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}
    echo "libtorch from: $torch_lib ($("$python" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)'))"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
    app="$out/app/emanet-bench"
    [[ -x $app ]] || app="$out/app/emanet"
    # 1. Does TorchSharp's native library (built for libtorch 2.10) find every symbol it needs in this libtorch?
    native=$(find "$out/app" -name libLibTorchSharp.so | head -1)
    bash tools/gpu/check-symbols.sh "$native" "$torch_lib" > "$out/missing-symbols.txt" || true
    head -n 30 "$out/missing-symbols.txt"
    # 2. Load it there: the tiny network on CUDA against CPU, emanet-r101 fused latency (fp32, bf16).
    rm -f "$out/gpu-check.json" "$out/bench.jsonl"
    EMANET_LIBTORCH_DIR="$torch_lib" "$app" gpu-check --threads "${THREADS:-8}" --out "$out/gpu-check.json" 2>&1 | tail -n 40 || true
    [[ -f $out/gpu-check.json ]] && cat "$out/gpu-check.json"
    # 3. Training steps at 513x513, batch 8 and 16, fp32 and bf16-mixed: generated TorchSharp, then PyTorch on the same GPU.
    for batch in 8 16; do
      for precision in fp32 bf16-mixed; do
        EMANET_LIBTORCH_DIR="$torch_lib" "$app" train --impl generated --device cuda --precision "$precision" --optimizer flat \
          --size 513 --batch "$batch" --warmup 3 --runs 10 --threads "${THREADS:-8}" --out "$out/bench.jsonl" 2>&1 | tail -n 3 || true
        "$python" bench/pytorch/emanet_reference.py train --device cuda --precision "$precision" \
          --size 513 --batch "$batch" --warmup 3 --runs 10 --threads "${THREADS:-8}" --out "$out/bench.jsonl" 2>&1 | tail -n 3 || true
      done
    done
    # 4. PyTorch inference latency beside the gpu-check's TorchSharp figures.
    for precision in fp32 bf16; do
      "$python" bench/pytorch/emanet_reference.py infer --device cuda --fused --precision "$precision" \
        --size 513 --batch 1 --warmup 3 --runs 10 --threads "${THREADS:-8}" --out "$out/bench.jsonl" 2>&1 | tail -n 3 || true
    done
    [[ -f $out/bench.jsonl ]] && "$python" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"{r.get(\"config\")}: median {r.get(\"median_s\", float(\"nan\")):.4f} s, {r.get(\"images_per_s\", 0):.1f} img/s, "
          f"GPU max allocated {r.get(\"cuda_max_allocated_bytes\", 0) / 2**30:.2f} GiB")' "$out/bench.jsonl"
    ;;
  *)
    sed -n '2,30p' "$0"; exit 2 ;;
esac
