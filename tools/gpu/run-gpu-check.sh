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
# loader's message, which this script prints). Writes out/gpu/gpu-check.json.
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
    rm -f "$out/gpu-check.json"
    EMANET_LIBTORCH_DIR="$torch_lib" "$app" gpu-check --threads "${THREADS:-8}" --out "$out/gpu-check.json" 2>&1 | tail -n 40
    [[ -f $out/gpu-check.json ]] && cat "$out/gpu-check.json"
    ;;
  *)
    sed -n '2,25p' "$0"; exit 2 ;;
esac
