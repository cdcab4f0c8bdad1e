#!/usr/bin/env python3
"""Writes results/fashion-mnist.md from the outputs of tools/experiments/fashion-ablation.sh.

Usage: tools/experiments/summarize-ablation.py RUNS_DIR OUT.md [ITERATIONS]
Reads RUNS_DIR/<network>-seed<N>.{log,eval.txt} for every seed found and RUNS_DIR/<network>.cost.json
(`emanet cost <network> --classes 11 --json`; head = the rows outside `backbone.`).
Mean and sample standard deviation (n - 1) over seeds; the paired difference emanet-tiny minus the control
uses the runs of the same seed (same initialisation seed, data order and augmentation)."""
import json, os, re, statistics, sys

runs, out = sys.argv[1], sys.argv[2]
iterations = sys.argv[3] if len(sys.argv) > 3 else "3000"
networks = ["fcn-tiny", "deeplabv3-tiny", "emanet-tiny", "emanet-tiny-no-ema"]
roles = {"fcn-tiny": "FCN head", "deeplabv3-tiny": "ASPP head", "emanet-tiny": "EMA head",
         "emanet-tiny-no-ema": "control: emanet-tiny without its EMA unit"}

def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return f"{model}, {os.cpu_count()} cores, {int(mem) // 1048576} GiB"

def seeds_of(network):
    found = [int(m.group(1)) for f in os.listdir(runs) if (m := re.fullmatch(re.escape(network) + r"-seed(\d+)\.eval\.txt", f))]
    return sorted(found)

def run(network, seed):
    stem = os.path.join(runs, f"{network}-seed{seed}")
    log, evaluation = open(stem + ".log").read(), open(stem + ".eval.txt").read()
    m = re.search(r"mIoU ([\d.]+)\s+mAcc ([\d.]+)\s+aAcc ([\d.]+)", evaluation)
    return dict(seed=seed, miou=float(m.group(1)), macc=float(m.group(2)), aacc=float(m.group(3)),
                wall=int(re.search(r"wall seconds: (\d+)", log).group(1)),
                curve=re.findall(r"iteration (\d+): validation mIoU ([\d.]+)%", log), table=evaluation.strip())

def spread(values):
    mean = statistics.mean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    return mean, sd

results = {n: [run(n, s) for s in seeds_of(n)] for n in networks}
results = {n: r for n, r in results.items() if r}
costs = {}
for n in results:
    cost = json.load(open(os.path.join(runs, n + ".cost.json")))
    head = [l for l in cost["layers"] if not l["name"].startswith("backbone.")]
    costs[n] = dict(params=cost["params"], flops=cost["flops"], head_params=sum(l["params"] for l in head),
                    head_flops=sum(l["flops"] for l in head))

with open(out, "w") as f:
    f.write("# Fashion-MNIST scenes: training from scratch and the head ablation\n\n")
    threads = os.environ.get("OMP_NUM_THREADS")
    f.write(f"Machine: {machine()} (no GPU); TorchSharp 0.107 / libtorch 2.10 CPU, "
            + (f"{threads} thread(s) per run (`OMP_NUM_THREADS={threads}`).\n\n" if threads else "default threads.\n\n"))
    prefix = f"OMP_NUM_THREADS={threads} " if threads else ""
    f.write(f"Command: `{prefix}tools/experiments/fashion-ablation.sh {iterations} runs/fashion-ablation 1 2 3` then "
            f"`tools/experiments/summarize-ablation.py runs/fashion-ablation results/fashion-mnist.md {iterations}`.\n\n")
    f.write("Data: `--data fashion-mnist` (Debian's `dataset-fashion-mnist`): 2000 training scenes composed from the 60k "
            "training items, 400 validation scenes from the 10k test items, 129x129, 11 classes (background + 10 items). "
            "Recipe: the paper's (SGD momentum 0.9, lr 0.009 with poly 0.9, weight decay 1e-4 on conv weights, bias lr x2, "
            "random scale 0.5-2.0, crop padded with the mean colour, flip, loss averaged over all pixels) with BN momentum 0.1 "
            f"(`--bn-momentum keep`), batch 8, {iterations} iterations, from random initialisation (no ImageNet weights), "
            "seeds 1, 2 and 3 (`--seed`: initialisation, dropout, data order and augmentation). Same backbone for all: "
            "ResNet-18 x0.25, deep stem, output stride 8. Evaluation: `emanet eval` single scale, whole image, on the same "
            "400 validation scenes for every run.\n\n")
    f.write("| network | head | seeds | val mIoU % mean | sd | min-max | per seed | mAcc % mean | head params | head GFLOPs | mean wall time |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|---|\n")
    for n, rs in results.items():
        mious = [r["miou"] for r in rs]
        mean, sd = spread(mious)
        macc, _ = spread([r["macc"] for r in rs])
        wall = statistics.mean(r["wall"] for r in rs)
        c = costs[n]
        f.write(f"| `{n}` | {roles[n]} | {len(rs)} | **{mean:.2f}** | {sd:.2f} | {min(mious):.2f}-{max(mious):.2f} | "
                + ", ".join(f"{r['miou']:.2f}" for r in rs)
                + f" | {macc:.2f} | {c['head_params']:,} | {c['head_flops'] / 1e9:.3f} | {int(wall) // 60} min {int(wall) % 60} s |\n")
    if "emanet-tiny" in results and "emanet-tiny-no-ema" in results:
        ema = {r["seed"]: r["miou"] for r in results["emanet-tiny"]}
        control = {r["seed"]: r["miou"] for r in results["emanet-tiny-no-ema"]}
        paired = [ema[s] - control[s] for s in sorted(ema) if s in control]
        if paired:
            mean, sd = spread(paired)
            f.write(f"\nPaired by seed, `emanet-tiny` minus the control: "
                    + ", ".join(f"{d:+.2f}" for d in paired) + f" mIoU points (mean {mean:+.2f}, sd {sd:.2f}).\n")
    f.write("\nsd = sample standard deviation over seeds (n - 1). Head = every layer outside `backbone.` "
            "(at 3x129x129, 11 classes, batch 1, the paper's counting rules). Wall time includes the validations and was "
            "measured on a machine shared with other builds, so it is indicative only.\n\n")
    notes = os.path.join(runs, "FINDINGS.md")
    if os.path.exists(notes):
        f.write(open(notes).read().strip() + "\n\n")
    f.write("Validation mIoU during training (%):\n\n")
    for n, rs in results.items():
        for r in rs:
            f.write(f"- `{n}` seed {r['seed']}: " + ", ".join(f"{i}: {m}" for i, m in r["curve"]) + "\n")
    for n, rs in results.items():
        for r in rs:
            f.write(f"\n## `{n}`, seed {r['seed']}\n\n```\n{r['table']}\n```\n")
