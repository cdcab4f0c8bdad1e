#!/usr/bin/env python3
"""Writes results/fashion-mnist.md from the outputs of tools/experiments/fashion-ablation.sh.

Usage: tools/experiments/summarize-ablation.py RUNS_DIR OUT.md
Head costs come from `emanet cost <network> --classes 11 --json` (the rows outside `backbone.`)."""
import json, os, re, subprocess, sys

runs, out = sys.argv[1], sys.argv[2]
networks = ["fcn-tiny", "deeplabv3-tiny", "emanet-tiny"]
emanet = ["dotnet", "Samples/Cli/bin/Release/net10.0/emanet.dll"]

def machine():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
    mem = next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    return f"{model}, {os.cpu_count()} cores, {int(mem) // 1048576} GiB"

rows = []
for n in networks:
    log = open(os.path.join(runs, n + ".log")).read()
    evaluation = open(os.path.join(runs, n + ".eval.txt")).read()
    miou = re.search(r"mIoU ([\d.]+)\s+mAcc ([\d.]+)\s+aAcc ([\d.]+)", evaluation)
    wall = int(re.search(r"wall seconds: (\d+)", log).group(1))
    curve = re.findall(r"iteration (\d+): validation mIoU ([\d.]+)%", log)
    cost = json.loads(subprocess.check_output(emanet + ["cost", n, "--classes", "11", "--json"]))
    head = [l for l in cost["layers"] if not l["name"].startswith("backbone.")]
    rows.append(dict(name=n, miou=miou.group(1), macc=miou.group(2), aacc=miou.group(3), wall=wall, curve=curve,
                     head_params=sum(l["params"] for l in head), head_flops=sum(l["flops"] for l in head),
                     params=cost["params"], flops=cost["flops"], table=evaluation))

with open(out, "w") as f:
    f.write("# Fashion-MNIST scenes: training from scratch and the head ablation\n\n")
    f.write(f"Machine: {machine()} (no GPU); TorchSharp 0.107 / libtorch 2.10 CPU, default threads.\n\n")
    f.write("Command: `tools/experiments/fashion-ablation.sh 3000 runs/fashion-ablation` then "
            "`tools/experiments/summarize-ablation.py runs/fashion-ablation results/fashion-mnist.md`.\n\n")
    f.write("Data: `--data fashion-mnist` (Debian's `dataset-fashion-mnist`): 2000 training scenes composed from the 60k "
            "training items, 400 validation scenes from the 10k test items, 129x129, 11 classes (background + 10 items). "
            "Recipe: the paper's (SGD momentum 0.9, lr 0.009 with poly 0.9, weight decay 1e-4 on conv weights, bias lr x2, "
            "random scale 0.5-2.0, crop, flip) with BN momentum 0.1 (`--bn-momentum keep`), batch 8, 3000 iterations, "
            "from random initialisation (no ImageNet weights). Same backbone for all: ResNet-18 x0.25, deep stem, output stride 8. "
            "Evaluation: `emanet eval` single scale, whole image, confusion matrix excluding 255.\n\n")
    f.write("| head | val mIoU % | mAcc % | pixel acc % | head params | head GFLOPs | network params | network GFLOPs | wall time |\n")
    f.write("|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        f.write(f"| `{r['name']}` | {r['miou']} | {r['macc']} | {r['aacc']} | {r['head_params']:,} | {r['head_flops'] / 1e9:.3f} | "
                f"{r['params']:,} | {r['flops'] / 1e9:.3f} | {r['wall'] // 60} min {r['wall'] % 60} s |\n")
    f.write("\nHead = every layer outside `backbone.` (at 3x129x129, 11 classes, batch 1, the paper's counting rules). "
            "Wall time includes the validations at iterations 1000, 2000 and 3000 and was measured on a machine shared with "
            "other builds, so it is indicative only.\n\n")
    f.write("Validation mIoU during training (%, on the validation scenes of the run's seed):\n\n")
    for r in rows:
        f.write(f"- `{r['name']}`: " + ", ".join(f"{i}: {m}" for i, m in r["curve"]) + "\n")
    for r in rows:
        f.write(f"\n## `{r['name']}`\n\n```\n{r['table'].strip()}\n```\n")
