#!/usr/bin/env python3
"""Turns the JSON lines of bench/run.sh into bench/results/<stamp>.md and .json (every figure comes from those lines)."""
import json
import os
import platform
import re
import subprocess
import sys


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""


def machine():
    lscpu = sh("lscpu")
    field = lambda name: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith(name + ":")), "")
    mem_kb = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:")), 0)
    os_name = next((l.split("=", 1)[1].strip().strip('"') for l in open("/etc/os-release") if l.startswith("PRETTY_NAME=")), "")
    flags = field("Flags").split()
    return {
        "hostname": platform.node(), "model_name": field("Model name"), "cpus": field("CPU(s)"),
        "threads_per_core": field("Thread(s) per core"), "cores_per_socket": field("Core(s) per socket"),
        "avx512f": "avx512f" in flags, "avx512_bf16": "avx512_bf16" in flags,
        "memory_gib": round(mem_kb / 1024 ** 2, 1), "os": os_name, "kernel": platform.release(),
        "hypervisor": field("Hypervisor vendor"), "dotnet_sdk": sh("dotnet --version"),
    }


def fmt(x, digits=3):
    return "" if x is None else f"{x:.{digits}f}"


def mib(b):
    return "" if b is None or b < 0 else f"{b / 2 ** 20:,.0f}"


def main():
    raw, commands_path, out = sys.argv[1:4]
    rows = [json.loads(l) for l in open(raw) if l.strip()]
    commands = [l.rstrip("\n").split("\t", 1) for l in open(commands_path) if l.strip()]
    m = machine()
    by = {r.get("label"): r for r in rows}
    max_load = next((r.get("max_load") for r in rows if r.get("max_load") is not None), 0.3)

    def quiet(r):
        # The gate load (read by run.sh just before starting the process) decides; older runs only have the
        # in-process reading (taken after the runtime started), judged against 1.0 (a core's worth of other work).
        if r.get("gate_load") is not None:
            return r["gate_load"] < max_load
        return r.get("loadavg_start", [99])[0] < 1.0

    def load(r):
        la = r.get("loadavg_start")
        if not la:
            return ""
        gate = f"{r['gate_load']:.2f} / " if r.get("gate_load") is not None else ""
        return gate + f"{la[0]:.2f}" + ("" if quiet(r) else " **under load**")

    def med(label):
        r = by.get(label)
        return None if not r or r.get("failed") else r.get("median_s")

    md = []
    w = md.append
    stamp = os.path.basename(out)
    w(f"# Benchmarks {stamp}\n")
    w("Written by `bench/report.py` from the JSON lines `bench/run.sh` collected in this run; every figure below is from that run.\n")
    w(f"Code measured: commit {os.environ.get('BENCH_COMMIT') or sh('git rev-parse --short HEAD')}.\n")
    w("## Machine\n")
    w(f"- CPU: {m['model_name']} ({m['cpus']} CPUs, {m['cores_per_socket']} cores per socket, {m['threads_per_core']} thread(s) per core"
      f"{', ' + m['hypervisor'] + ' guest' if m['hypervisor'] else ''}); AVX-512F {'yes' if m['avx512f'] else 'no'}, AVX-512 BF16 {'yes' if m['avx512_bf16'] else 'no'}")
    w(f"- Memory: {m['memory_gib']} GiB; OS: {m['os']}, kernel {m['kernel']}; .NET SDK {m['dotnet_sdk']}")
    ts0 = next((r for r in rows if r.get("tool") == "torchsharp"), {})
    pt0 = next((r for r in rows if r.get("tool") == "pytorch"), {})
    w(f"- TorchSharp {ts0.get('torchsharp', '?')} on libtorch {ts0.get('libtorch', '?')} ({ts0.get('dotnet', '?')}); "
      f"PyTorch {pt0.get('torch', '?')} (Debian python3-torch, Python {pt0.get('python', '?')}, BLAS_INFO={pt0.get('blas', '?')}, mkldnn={pt0.get('mkldnn', '?')})")
    ort0 = next((r for r in rows if r.get("tool") == "onnxruntime" and not r.get("failed")), None)
    if ort0:
        w(f"- ONNX Runtime {ort0.get('onnxruntime', '?')} (NuGet Microsoft.ML.OnnxRuntime, native {ort0.get('onnxruntime_native', '?')}, CPU execution provider), "
          "through the project's exporter and `OnnxRuntimeEngine` in the same bench process type as the TorchSharp rows")
    w(f"- Threads: {ts0.get('threads', '?')} intra-op for both (torch.set_num_threads), 1 inter-op; OMP/MKL/OPENBLAS_NUM_THREADS set to the same"
      + ("; ONNX Runtime: the same count as its session's intra-op threads" if ort0 else ""))
    w(f"- Load gate: each timed configuration's process started only when the 1-minute load average was below {max_load}. "
      "The tables give the 1-minute load read inside the process once the runtime and libtorch were up (process start-up adds a little; "
      "where run.sh recorded it, the gate's reading comes first, as gate / in-process). **under load** marks a configuration that waited "
      "out BENCH_MAX_WAIT and ran anyway (or, without a gate reading, an in-process reading of 1.0 or more).")
    w("- Peak RSS: `VmHWM` of /proc/self/status at the end of the configuration's own process (one process per configuration); "
      "baseline: `VmRSS` after the runtime and libtorch are initialised, before the model is built.\n")

    w("## Machine ceilings (same run, same libtorch as the models)\n")
    w("| | dtype | TorchSharp GFLOP/s | PyTorch (Debian) GFLOP/s | PyTorch + OpenBLAS GFLOP/s |")
    w("|---|---|---|---|---|")
    ceil = {}
    for label in ("ts-ceilings", "pt-ceilings", "pt-openblas-ceilings"):
        for c in by.get(label, {}).get("ceilings", []):
            ceil[(label, c["name"], c["dtype"])] = c["gflops"]
    for name, desc in (("matmul_2048", "2048^3 matmul"), ("conv3x3_256_65", "3x3 conv 256->256, 1x256x65x65"),
                       ("conv3x3_256_65_channels_last", "the same conv, channels-last input and weight")):
        for dt in ("fp32", "bf16"):
            w(f"| {desc} | {dt} | {fmt(ceil.get(('ts-ceilings', name, dt)), 1)} | {fmt(ceil.get(('pt-ceilings', name, dt)), 1)} | {fmt(ceil.get(('pt-openblas-ceilings', name, dt)), 1)} |")
    w(f"\nLoad at start: TorchSharp {load(by.get('ts-ceilings', {}))}, PyTorch {load(by.get('pt-ceilings', {}))}"
      + (f", PyTorch + OpenBLAS {load(by['pt-openblas-ceilings'])}" if 'pt-openblas-ceilings' in by else "") + ".\n")

    def perf_table(labels, title, extra=(), ms=False):
        """One row per configuration; the name gets " + OpenBLAS" for the PyTorch-on-OpenBLAS runs.
        extra: (header, function of the row giving the cell text) columns appended before the load. ms: times in milliseconds."""
        unit = "ms" if ms else "s"
        headers = ["configuration", "input", f"median {unit}", f"min {unit}", f"max {unit}", "achieved GFLOP/s", "% of own 3x3-conv ceiling (same dtype)",
                   "peak RSS MiB", "RSS over baseline MiB"] + [h for h, _ in extra] + ["load at start"]
        w("| " + " | ".join(headers) + " |")
        w("|" + "---|" * len(headers))
        for label in labels:
            r = by.get(label)
            if not r:
                continue
            if r.get("failed"):
                w(f"| {label} | | failed: {r.get('log_tail', '').strip().splitlines()[-1] if r.get('log_tail') else ''} |" + " |" * (len(headers) - 3))
                continue
            ceiling_label = "pt-openblas-ceilings" if "openblas" in label else ("pt-ceilings" if r.get("tool") == "pytorch" else "ts-ceilings")
            # ONNX Runtime runs its own kernels (MLAS), not libtorch's: no libtorch ceiling applies.
            own = None if r.get("tool") == "onnxruntime" else ceil.get((ceiling_label, "conv3x3_256_65", r.get("precision", "fp32")))
            pct = 100 * r["achieved_gflops"] / own if own else None
            name = r.get('config', label) + (" + OpenBLAS" if "openblas" in label else "")
            t = (lambda v: fmt(v * 1000, 2)) if ms else fmt
            cells = [name, r.get('input', ''), t(r['median_s']), t(r['min_s']), t(r['max_s']), fmt(r['achieved_gflops'], 1), fmt(pct, 0),
                     mib(r.get('rss_peak_bytes')), mib(r.get('rss_peak_bytes', 0) - r.get('rss_baseline_bytes', 0))]
            cells += [f(r) for _, f in extra] + [load(r)]
            w("| " + " | ".join(cells) + " |")

    w("## Inference: emanet-r101, batch 1, 3x513x513, eval, no_grad\n")
    w("Warm-up runs, then the median of N timed runs (counts in the JSON). `generated` is the module the source generator writes; "
      "`handwritten` is bench/HandWrittenEmaNet.cs (plain TorchSharp, same weights layout); `pytorch` is bench/pytorch/emanet_reference.py. "
      "fused = batch norms folded into the convolutions (`FuseForInference()`; PyTorch: `fuse_conv_bn_eval`); bf16 = weights, buffers and activations in bfloat16, logits cast back to float32; "
      "channels-last = convolution weights stored NHWC-strided (TorchSharp: `ToChannelsLast()`, a permute-copy-permute since it has no `to(memory_format)`; PyTorch: `model.to(memory_format=torch.channels_last)` and a channels-last input).\n")
    w("`onnxruntime` rows (`ort-*`): the same generated network, exported by the project's exporter (`OnnxExporter`: fused, opset 17; "
      "fixed 1x3xHxW input unless the row says dynamic) and run by the project's `OnnxRuntimeEngine` (the engine of `emanet predict --engine onnxruntime`; "
      "the time includes its copies of the input and logits). Their export and session-creation seconds and model bytes are in the JSON; "
      "the TorchSharp network is disposed after the export, so their RSS after build is the session's.\n")
    baseline = "ort-fp32"
    inference_labels = ["ts-gen-fp32-unfused", "ts-gen-fp32-fused", "ts-gen-bf16-fused", "ts-gen-fp32-fused-cl", "ts-gen-bf16-fused-cl", "ts-hand-fp32-unfused",
                        "ort-fp32", "ort-fp32-extended", "ort-fp32-dynamic"]
    inference_labels += ["ort-int8"]
    inference_labels += sorted(l for l in by if l and l.startswith("ort-") and l not in inference_labels)
    inference_labels += ["pt-fp32-unfused", "pt-fp32-fused", "pt-bf16-fused", "pt-fp32-fused-cl", "pt-bf16-fused-cl",
                         "pt-openblas-fp32-unfused", "pt-openblas-fp32-fused", "pt-openblas-fp32-fused-cl"]
    base_median = med(baseline)

    def vs_baseline(r):
        return fmt(r["median_s"] / base_median, 2) if base_median and r.get("median_s") else ""

    perf_table(inference_labels, "inference",
               extra=[("RSS after build MiB", lambda r: mib(r.get("rss_after_build_bytes"))),
                      ("time vs ONNX Runtime fp32", vs_baseline)])
    w("")
    if "ort-int8" in by:
        w("`ort-int8`: the static int8 QDQ model of the same export (`StaticQuantization`: per-channel int8 weights, uint8 activations, MinMax "
          "calibration on 2 random images, which sets the scales but changes no kernel's work: a latency figure; the accuracy change is measured "
          "on trained networks in results/int8.md). Its peak RSS includes that calibration, done in the same process (ONNX Runtime hands back every "
          "measured activation of the image at once, as its own Python calibrator's augmented model does); RSS after build is the int8 session's.\n")
    if base_median:
        w(f"\"time vs ONNX Runtime fp32\" = the row's median / the median of `{baseline}` ({base_median:.3f} s) in this run: below 1 = faster than ONNX Runtime. "
          "RSS after build: `VmRSS` once the model is ready to run (after fusion, casts and, for ONNX Runtime, the session's creation), before the first forward.\n")
    w("Achieved GFLOP/s = 2 x MACs / median time (a multiply-add counted as 2 FLOP); MACs are the engine's "
      "(`EmaNetR101.Descriptor.Analyze(...)`: convolutions and the EM matrix products; 237.95 G at 513x513). The paper's "
      "\"FLOPs\" (multiply-add = 1, plus BN/ReLU/pool terms) are also in the JSON (`engine_paper_flops`). The PyTorch script counts "
      "the same MACs with forward hooks (and its parameter count), see \"Same network\" below.\n")

    w("### Ratios (time of the first / time of the second; above 1 = the second is faster)\n")
    ratios = []

    def ratio(a, b, text):
        ta, tb = med(a), med(b)
        if ta and tb:
            ratios.append({"numerator": a, "denominator": b, "ratio": ta / tb, "meaning": text})
            def sec(t):
                return f"{t:.3f} s" if t >= 0.1 else f"{t * 1000:.2f} ms"
            w(f"- {text}: {ta / tb:.3f} (`{a}` {sec(ta)} / `{b}` {sec(tb)})")

    ratio("ts-hand-fp32-unfused", "ts-gen-fp32-unfused", "hand-written / generated, fp32 unfused (generator's run-time cost: 1.0 = none)")
    ratio("ts-gen-fp32-unfused", "ts-gen-fp32-fused", "fusion speed-up, fp32")
    ratio("ts-gen-fp32-fused", "ts-gen-bf16-fused", "bf16 speed-up over fp32, both fused")
    ratio("ts-gen-fp32-fused", "ts-gen-fp32-fused-cl", "channels-last speed-up, fp32 fused")
    ratio("ts-gen-bf16-fused", "ts-gen-bf16-fused-cl", "channels-last speed-up, bf16 fused")
    ratio("ts-gen-fp32-unfused", "ts-gen-bf16-fused-cl", "all of it: fp32 unfused / bf16 fused channels-last")
    ratio("pt-fp32-unfused", "ts-gen-fp32-unfused", "PyTorch (Debian) / TorchSharp generated, fp32 unfused")
    ratio("pt-fp32-fused", "ts-gen-fp32-fused", "PyTorch (Debian) / TorchSharp generated, fp32 fused")
    ratio("pt-bf16-fused", "ts-gen-bf16-fused", "PyTorch (Debian) / TorchSharp generated, bf16 fused")
    ratio("pt-openblas-fp32-unfused", "ts-gen-fp32-unfused", "PyTorch + OpenBLAS / TorchSharp generated, fp32 unfused")
    ratio("pt-openblas-fp32-fused", "ts-gen-fp32-fused", "PyTorch + OpenBLAS / TorchSharp generated, fp32 fused")
    ratio("pt-fp32-fused-cl", "ts-gen-fp32-fused-cl", "PyTorch (Debian) / TorchSharp generated, fp32 fused channels-last")
    ratio("pt-bf16-fused-cl", "ts-gen-bf16-fused-cl", "PyTorch (Debian) / TorchSharp generated, bf16 fused channels-last")
    ratio("pt-openblas-fp32-fused-cl", "ts-gen-fp32-fused-cl", "PyTorch + OpenBLAS / TorchSharp generated, fp32 fused channels-last")
    ratio("ort-fp32", "ts-gen-fp32-fused-cl", "ONNX Runtime fp32 / TorchSharp generated fp32 fused channels-last (above 1: TorchSharp faster)")
    ratio("ort-fp32", "ts-gen-fp32-fused", "ONNX Runtime fp32 / TorchSharp generated fp32 fused")
    ratio("ort-fp32", "ts-gen-bf16-fused-cl", "ONNX Runtime fp32 / TorchSharp generated bf16 fused channels-last")
    ratio("ort-fp32", "ort-fp32-extended", "ONNX Runtime fp32, graph optimisation all / extended")
    ratio("ort-fp32-dynamic", "ort-fp32", "ONNX Runtime fp32, dynamic-shape export (emanet predict's) / fixed-shape export")
    ratio("pt-fp32-fused-cl", "ort-fp32", "PyTorch (Debian) fp32 fused channels-last / ONNX Runtime fp32")
    ratio("ort-fp32", "ort-int8", "ONNX Runtime fp32 / int8 (int8 speed-up)")
    ratio("ts-gen-fp32-fused-cl", "ort-int8", "TorchSharp generated fp32 fused channels-last / ONNX Runtime int8")
    ratio("ts-gen-bf16-fused-cl", "ort-int8", "TorchSharp generated bf16 fused channels-last / ONNX Runtime int8")
    ratio("tiny-ort-fp32", "tiny-ort-int8", "emanet-tiny 129x129: ONNX Runtime fp32 / int8")
    ratio("tiny-ts-fp32-fused-cl", "tiny-ort-int8", "emanet-tiny 129x129: TorchSharp fp32 fused channels-last / ONNX Runtime int8")
    ratio("tiny-ts-fp32-fused-cl", "tiny-ort-fp32", "emanet-tiny 129x129: TorchSharp fp32 fused channels-last / ONNX Runtime fp32")
    ratio("pt-train", "ts-gen-train", "training step: PyTorch (Debian) / TorchSharp generated")
    ratio("pt-openblas-train", "ts-gen-train", "training step: PyTorch + OpenBLAS / TorchSharp generated")
    ratio("ts-hand-train", "ts-gen-train", "training step: hand-written / generated")
    ratio("ts-gen-train", "ts-gen-train-flat", "training step: TorchSharp SGD / FlatSgd (generated, fp32)")
    ratio("ts-gen-train", "ts-gen-train-bf16-mixed", "training step: generated fp32 / generated bf16-mixed (FlatSgd)")
    ratio("pt-train", "ts-gen-train-bf16-mixed", "training step: PyTorch (Debian) fp32 / TorchSharp generated bf16-mixed")
    ratio("pt-train-bf16-mixed", "ts-gen-train-bf16-mixed", "training step: PyTorch (Debian) autocast bf16 / TorchSharp generated bf16-mixed (above 1: ours faster)")
    w("")
    # The goal of issue 13: the project's fastest fp32 path at least as fast as ONNX Runtime fp32 in the same run.
    torch_fp32 = [(med(l), l) for l in ("ts-gen-fp32-unfused", "ts-gen-fp32-fused", "ts-gen-fp32-fused-cl") if med(l)]
    ort_fp32 = [(r["median_s"], l) for l, r in by.items()
                if l and r.get("tool") == "onnxruntime" and r.get("precision") == "fp32" and r.get("network", "emanet-r101") == "emanet-r101"
                and not r.get("failed") and r.get("median_s")]
    goal = None
    if torch_fp32 and base_median:
        best_s, best = min(torch_fp32)
        ort_s, ort = min(ort_fp32)
        goal = {"fastest_torchsharp_fp32": best, "median_s": best_s, "onnxruntime_fp32": baseline, "onnxruntime_median_s": base_median,
                "ratio": best_s / base_median, "torchsharp_at_least_as_fast": best_s <= base_median,
                "fastest_onnxruntime_fp32": ort, "fastest_onnxruntime_median_s": ort_s, "ratio_to_fastest_onnxruntime": best_s / ort_s}
        w(f"**Fastest fp32 path against ONNX Runtime fp32 (same run):** TorchSharp's fastest fp32 row `{best}` {best_s:.3f} s against "
          f"`{baseline}` {base_median:.3f} s: {best_s / base_median:.3f} x its time "
          f"({'TorchSharp at least as fast' if best_s <= base_median else 'ONNX Runtime faster'})"
          + (f"; against the fastest ONNX Runtime fp32 row `{ort}` {ort_s:.3f} s: {best_s / ort_s:.3f} x" if ort != baseline else "")
          + f". The project's fastest fp32 path in this run (ONNX Runtime through the project included): `{min(torch_fp32 + ort_fp32)[1]}`.\n")

    tiny_labels = ["tiny-ts-fp32-fused-cl", "tiny-ts-bf16-fused-cl", "tiny-ort-fp32", "tiny-ort-int8"]
    if any(l in by for l in tiny_labels):
        w("## Inference: emanet-tiny (the fashion-mnist network of results/int8.md), batch 1, 3x129x129\n")
        w("The same harness and rows as above on the small network (ResNet-18 x0.25 backbone, output stride 8), where the per-call overheads "
          "weigh more; random weights (latency only), int8 calibrated on 8 random images.\n")
        tiny_base = med("tiny-ort-fp32")
        perf_table(tiny_labels, "inference tiny",
                   extra=[("RSS after build MiB", lambda r: mib(r.get("rss_after_build_bytes"))),
                          ("time vs ONNX Runtime fp32", lambda r: fmt(r["median_s"] / tiny_base, 2) if tiny_base and r.get("median_s") else "")],
                   ms=True)
        w("")

    w("## Training step: emanet-r101, batch 2, 3x257x257\n")
    w("forward + cross-entropy (ignore 255) + backward + SGD step (lr 0.009, momentum 0.9, weight decay 1e-4) + EMA bases update; "
      "achieved GFLOP/s counts 3 x the forward MACs (forward + backward).\n")
    w("`flat-sgd`: the trainer's FlatSgd (one flat buffer per parameter group) instead of TorchSharp's SGD; "
      "`bf16-mixed`: `SetTrainingPrecision(BFloat16Mixed)`, convolutions in bf16 on casts of the float32 master weights, "
      "activations between them and the EM iterations in bf16 (as autocast), loss and optimizer in float32; PyTorch's `bf16-mixed` is "
      "`torch.autocast(\"cpu\", bfloat16)` around the forward and the loss on `logits.float()`.\n")
    perf_table(["ts-gen-train", "ts-gen-train-flat", "ts-gen-train-bf16-mixed", "ts-hand-train", "pt-train", "pt-train-bf16-mixed", "pt-openblas-train"], "train")
    w("")

    o = by.get("ts-optimizer-step")
    if o and not o.get("failed"):
        w("## Optimizer step: emanet-r101 parameters, the recipe's 3 groups\n")
        w(f"One `step()` over {o['parameter_tensors']} parameter tensors ({o['parameter_elements']:,} elements; groups of "
          f"{', '.join(str(n) for n in o['groups'])} tensors) with random gradients, {o['device']}, {o['warmup']} warm-up then "
          f"{o['runs']} timed steps each, load at start {load(o)}. TorchSharp's SGD runs 3-4 kernels per parameter tensor; "
          "`FlatSgd` 3-4 per group over flat buffers.\n")
        w("| optimizer | median ms/step | min | max |")
        w("|---|---|---|---|")
        for key, name in (("sgd", "TorchSharp `SGD`"), ("flat", "`FlatSgd`")):
            sec = o[key + "_seconds"]
            w(f"| {name} | {o[key + '_median_ms']:.2f} | {1e3 * min(sec):.2f} | {1e3 * max(sec):.2f} |")
        w(f"\nSpeed-up {o['speedup']:.2f}x; `FlatSgd.zero_grad()` median {o['flat_zero_grad_median_ms']:.2f} ms; "
          f"building the flat buffers {1e3 * o['flat_construction_s']:.0f} ms (once).\n")

    acc = [by[l] for l in ("ts-accuracy-init-bn", "ts-accuracy-calibrated-bn") if l in by and not by[l].get("failed")]
    if acc:
        w(f"## Numerical agreement at {acc[0].get('input')} (logits at the backbone's resolution, before the upsampling)\n")
        w("| BN statistics | comparison | max abs diff | mean abs diff | max abs logit | max diff / max logit | argmax agreement |")
        w("|---|---|---|---|---|---|---|")
        for r in acc:
            for key, text in (("handwritten_vs_generated", "hand-written vs generated, fp32"),
                              ("fused_vs_unfused_fp32", "fused vs unfused, fp32"),
                              ("channels_last_vs_not_fp32_fused", "channels-last vs NCHW weights, fp32 fused"),
                              ("bf16_fused_vs_fp32_unfused", "bf16 fused vs fp32 unfused"),
                              ("bf16_fused_channels_last_vs_fp32_unfused", "bf16 fused channels-last vs fp32 unfused")):
                c = r.get(key)
                if c:
                    w(f"| {r.get('bn')} | {text} | {c['max_abs_diff']:.3g} | {c['mean_abs_diff']:.3g} | {c['max_abs_logit']:.4g} | "
                      f"{c['relative_max_diff']:.2e} | {100 * c['argmax_agreement']:.2f}% |")
        w("\nAgainst a float64 copy of the same network (max diff / max |value| per stage output):\n")
        w("| BN statistics | variant | backbone | fc0 | emau | fc1 | fc2 |")
        w("|---|---|---|---|---|---|---|")
        for r in acc:
            for variant, stages in r.get("stage_errors_vs_fp64", {}).items():
                w(f"| {r.get('bn')} | {variant.replace('_vs_fp64', '')} | " + " | ".join(f"{stages[s]['relative_max_diff']:.2e}" for s in ("backbone", "fc0", "emau", "fc1", "fc2")) + " |")
        w("\nRandom weights (the authors' initialisation), random normal input. \"init\": BN as initialised (mean 0, var 1, weight 1, bias 0); "
          "\"calibrated\": BN statistics from one random image (a train-mode forward with momentum 1), with which this random network "
          "amplifies rounding noise by about three orders of magnitude (see the fp32 rows against float64), so its bf16 figures say "
          "more about the random network than about bf16. No trained checkpoint was available to measure bf16 on real weights.\n")

    p = by.get("pt-params")
    if p and not p.get("failed"):
        w("## Same network\n")
        w(f"- PyTorch reference: {p['parameters_plus_bases']:,} parameters + bases, {p['engine_macs_513']:,} MACs at 513x513 "
          "(forward hooks on every conv + the EM products); the generated `EmaNetR101.ParameterCount` is 53,806,293 and "
          "`MultiplyAccumulates` 237,952,195,520.\n")

    g = by.get("ts-generator")
    b = by.get("build-generator")
    if g or b:
        w("## Compile time of the generator\n")
    if g and not g.get("failed"):
        w(f"`CSharpGeneratorDriver` over the {len(g['declaration_files'])} files of Models/ ({g['networks']} networks, "
          f"{g['generated_chars']:,} characters generated, {g['generated_compile_errors']} compile errors in the result), Roslyn {g.get('roslyn')}, "
          f"{g['runs']} runs each, load at start {load(g)}:\n")
        w(f"- cold (new driver, new compilation; run 1 pays the JIT): first {g['cold_first_ms']:.0f} ms, then median {g['cold_median_ms']:.1f} ms "
          f"(generator's own time by `GetTimingInfo`: {g['generator_only_median_ms']:.1f} ms), i.e. {g['cold_median_ms'] / g['networks']:.1f} ms per network")
        w(f"- incremental, unrelated edit: median {g['incremental_unrelated_edit_median_ms']:.2f} ms; one declaration edited: median {g['incremental_one_declaration_edit_median_ms']:.1f} ms")
        w(f"- the declaration analyzer (binds the declarations): first {g['analyzer_first_ms']:.0f} ms, then median {g['analyzer_median_ms']:.1f} ms\n")
    if b:
        w(f"In a real build (`dotnet build Models -c Release --no-incremental -p:ReportAnalyzer=true`, wall {b['build_wall_s']:.1f} s, load at start {load(b)}), MSBuild reports:\n")
        for e in b.get("entries", []):
            w(f"- {e.get('section') or ''} {e['name'].split(' (')[0]}: {e['seconds']} s")
        w("")

    w("## Commands\n")
    w("All from the repository root, in this order, by `bash bench/run.sh`:\n")
    w("```")
    for label, cmd in commands:
        w(f"{label}: {cmd.replace(os.getcwd() + '/', '')}")
    w("```")

    with open(out + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    with open(out + ".json", "w") as f:
        json.dump({"machine": m, "commit": os.environ.get("BENCH_COMMIT") or sh("git rev-parse --short HEAD"), "max_load": max_load, "ratios": ratios,
                   "inference_baseline": {"label": baseline, "median_s": base_median}, "fastest_fp32_vs_onnxruntime": goal, "commands": commands, "results": rows}, f, indent=1)


if __name__ == "__main__":
    main()
