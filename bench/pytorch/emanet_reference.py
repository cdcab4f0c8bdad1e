#!/usr/bin/env python3
"""EMANet(512) on a deep-stem ResNet-101 at output stride 8 in plain PyTorch: the reference the
TorchSharp numbers are compared with (same architecture, parameter names, initialisation and
measurement protocol as bench/Program.cs). Written for this repository from EMANET.md.

    python3 emanet_reference.py ceilings|infer|train|params [--fused] [--precision fp32|bf16]
        [--size 513] [--batch 1] [--warmup 2] [--runs 5] [--threads 2] [--out results.jsonl]

Prints one JSON object on the last line (prefixed "RESULT ") and appends it to --out.
"""
import argparse
import json
import math
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

CLASSES = 21


class Bottleneck(nn.Module):
    def __init__(self, in_c, planes, stride, dilation):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or in_c != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(in_c, planes * 4, 1, stride, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet101(nn.Module):
    """Deep stem (3x3 convs 3-64-64-128), output stride 8: layer3 dilation 1 then 2, layer4 multi-grid 2, 8, 16."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.Conv2d(3, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.Conv2d(64, 128, 3, 1, 1, bias=False))
        self.bn1 = nn.BatchNorm2d(128)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.in_c = 128
        self.layer1 = self._stage(64, 1, [1] * 3)
        self.layer2 = self._stage(128, 2, [1] * 4)
        self.layer3 = self._stage(256, 1, [1] + [2] * 22)
        self.layer4 = self._stage(512, 1, [2, 8, 16])

    def _stage(self, planes, stride, dilations):
        blocks = []
        for i, d in enumerate(dilations):
            blocks.append(Bottleneck(self.in_c, planes, stride if i == 0 else 1, d))
            self.in_c = planes * 4
        return nn.Sequential(*blocks)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class ConvBnRelu(nn.Module):
    def __init__(self, in_c, out_c, dropout=0.0):
        super().__init__()
        self.conv = nn.Conv2d(in_c, out_c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_c)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        return self.dropout(F.relu(self.bn(self.conv(x)), inplace=True))


class EMAU(nn.Module):
    """EM attention unit (EMANET.md section 2): K bases, T iterations, bases buffer mu."""

    def __init__(self, c, k=64, t=3, momentum=0.9):
        super().__init__()
        self.t, self.momentum = t, momentum
        mu = torch.randn(1, c, k) * math.sqrt(2.0 / k)
        self.register_buffer("mu", mu / (1e-6 + mu.norm(dim=1, keepdim=True)))
        self.conv1 = nn.Conv2d(c, c, 1)
        self.conv2 = nn.Sequential(nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c))
        self.pending = None

    def forward(self, x):
        idn = x
        x = self.conv1(x)
        b, c, h, w = x.shape
        x = x.view(b, c, h * w)
        mu = self.mu.repeat(b, 1, 1)
        with torch.no_grad():
            for _ in range(self.t):
                z = F.softmax(torch.bmm(x.permute(0, 2, 1), mu), dim=2)
                z_ = z / (1e-6 + z.sum(dim=1, keepdim=True))
                mu = torch.bmm(x, z_)
                mu = mu / (1e-6 + mu.norm(dim=1, keepdim=True))
        x = F.relu(mu.matmul(z.permute(0, 2, 1)).view(b, c, h, w), inplace=True)
        x = F.relu(self.conv2(x) + idn, inplace=True)
        if self.training:
            self.pending = mu.mean(dim=0, keepdim=True).detach()
        return x

    @torch.no_grad()
    def update_bases(self):
        if self.pending is not None:
            self.mu.mul_(self.momentum).add_(self.pending, alpha=1 - self.momentum)
            self.pending = None


class EMANet(nn.Module):
    def __init__(self, classes=CLASSES):
        super().__init__()
        self.backbone = ResNet101()
        self.fc0 = ConvBnRelu(2048, 512)
        self.emau = EMAU(512)
        self.fc1 = ConvBnRelu(512, 256, dropout=0.1)
        self.fc2 = nn.Conv2d(256, classes, 1)
        for m in self.modules():  # the authors' initialisation
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2.0 / n))
                if m.bias is not None:
                    m.bias.data.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def forward(self, x):
        y = self.fc2(self.fc1(self.emau(self.fc0(self.backbone(x)))))
        return F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=True)


def fuse(model):
    """The PyTorch idiom for the same inference fusion: fold each BatchNorm into its conv
    (torch.nn.utils.fusion.fuse_conv_bn_eval) and replace it by Identity."""
    model.eval()

    def pairs(parent, conv_name, bn_name):
        conv, bn = getattr(parent, conv_name), getattr(parent, bn_name)
        setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
        setattr(parent, bn_name, nn.Identity())

    stem = model.backbone.conv1
    stem[0], stem[1] = fuse_conv_bn_eval(stem[0], stem[1]), nn.Identity()
    stem[3], stem[4] = fuse_conv_bn_eval(stem[3], stem[4]), nn.Identity()
    stem[6] = fuse_conv_bn_eval(stem[6], model.backbone.bn1)
    model.backbone.bn1 = nn.Identity()
    for layer in (model.backbone.layer1, model.backbone.layer2, model.backbone.layer3, model.backbone.layer4):
        for block in layer:
            for i in (1, 2, 3):
                pairs(block, f"conv{i}", f"bn{i}")
            if block.downsample is not None:
                block.downsample = nn.Sequential(fuse_conv_bn_eval(block.downsample[0], block.downsample[1]))
    for head in (model.fc0, model.fc1):
        pairs(head, "conv", "bn")
        head.dropout = nn.Identity()
    model.emau.conv2 = nn.Sequential(fuse_conv_bn_eval(model.emau.conv2[0], model.emau.conv2[1]))
    return model


def proc_status_bytes(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def timed(fn, warmup, runs, label):
    for i in range(warmup):
        t0 = time.perf_counter()
        fn()
        print(f"  {label} warm-up {i + 1}/{warmup}: {time.perf_counter() - t0:.3f} s", file=sys.stderr)
    seconds = []
    for i in range(runs):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
        print(f"  {label} run {i + 1}/{runs}: {seconds[-1]:.3f} s", file=sys.stderr)
    return seconds


def conv_macs(model, size, batch):
    """Multiply-accumulates of the convolutions (forward hooks) plus the EM matrix products: the engine's MAC rules."""
    macs = [0]

    def hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        macs[0] += k * out.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()
        model(torch.zeros(batch, 3, size, size))
    for h in handles:
        h.remove()
    n = ((size + 1) // 2 + 1) // 2  # stem stride 2, max-pool stride 2
    n = (n + 1) // 2                 # layer2 stride 2
    c, k, t = 512, 64, model.emau.t
    macs[0] += batch * (2 * t + 1) * n * n * c * k
    return macs[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["ceilings", "infer", "train", "params"])
    p.add_argument("--fused", action="store_true")
    p.add_argument("--channels-last", action="store_true", help="model.to(memory_format=torch.channels_last), the PyTorch CPU inference idiom")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "bf16-mixed"],
                   help="infer: fp32 or bf16 (model cast); train: fp32 or bf16-mixed (torch.autocast, bfloat16)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--size", type=int)
    p.add_argument("--batch", type=int)
    p.add_argument("--warmup", type=int)
    p.add_argument("--runs", type=int)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    torch.ones(1)
    r = {
        "tool": "pytorch", "mode": a.mode, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "python": platform.python_version(), "mkldnn": torch.backends.mkldnn.is_available(),
        "blas": next((s.split("=")[1] for s in torch.__config__.show().replace(",", "\n").split("\n") if "BLAS_INFO" in s), None),
        "loadavg_start": loadavg(), "rss_baseline_bytes": proc_status_bytes("VmRSS"), "device": a.device,
    }
    device = torch.device(a.device)
    cuda = device.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize()

    if a.mode == "ceilings":
        warmup, runs, rows = a.warmup or 3, a.runs or 10, []
        with torch.no_grad():
            for dtype, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
                n = 2048
                x, y = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
                s = timed(lambda: x @ y, warmup, runs, f"matmul {name}")
                rows.append({"name": "matmul_2048", "dtype": name, "flop": 2.0 * n ** 3, "seconds": s,
                             "median_s": statistics.median(s), "gflops": 2.0 * n ** 3 / statistics.median(s) / 1e9})
                inp, w = torch.randn(1, 256, 65, 65).to(dtype), (torch.randn(256, 256, 3, 3) * 0.02).to(dtype)
                s = timed(lambda: F.conv2d(inp, w, padding=1), warmup, runs, f"conv3x3 {name}")
                flop = 2.0 * 9 * 256 * 256 * 65 * 65
                rows.append({"name": "conv3x3_256_65", "dtype": name, "flop": flop, "seconds": s,
                             "median_s": statistics.median(s), "gflops": flop / statistics.median(s) / 1e9})
        r["ceilings"] = rows
    else:
        torch.manual_seed(0)
        model = EMANet()
        if a.mode == "params":
            r["parameters_plus_bases"] = sum(p.numel() for p in model.parameters()) + model.emau.mu.numel()
            r["engine_macs_513"] = conv_macs(model, 513, 1)
            r["config"] = "params"
        elif a.mode == "infer":
            size, batch, warmup, runs = a.size or 513, a.batch or 1, a.warmup if a.warmup is not None else 2, a.runs or 5
            r["engine_macs"] = float(conv_macs(model, size, batch))
            model.eval()
            if a.fused:
                fuse(model)
            if a.precision == "bf16-mixed":
                p.error("inference takes --precision fp32 or bf16")
            dtype = torch.bfloat16 if a.precision == "bf16" else torch.float32
            model.to(device=device, dtype=dtype)
            fmt = torch.channels_last if a.channels_last else torch.contiguous_format
            if a.channels_last:
                model.to(memory_format=fmt)
            r["rss_after_build_bytes"] = proc_status_bytes("VmRSS")
            r.update(config=f"infer pytorch {a.precision} {'fused' if a.fused else 'unfused'}{' channels-last' if a.channels_last else ''}",
                     impl="pytorch", precision=a.precision, fused=a.fused, channels_last=a.channels_last, input=f"{batch}x3x{size}x{size}")
            torch.manual_seed(1)
            x = torch.randn(batch, 3, size, size).to(device)

            def step():
                with torch.no_grad():
                    y = model(x.to(dtype).contiguous(memory_format=fmt)).float().contiguous()
                sync()
                return y

            s = timed(step, warmup, runs, r["config"])
        else:
            size, batch, warmup, runs = a.size or 257, a.batch or 2, a.warmup if a.warmup is not None else 1, a.runs or 5
            r["engine_macs"] = 3.0 * conv_macs(model, size, batch)
            if a.precision == "bf16":
                p.error("training takes --precision fp32 or bf16-mixed")
            model.to(device)
            model.train()
            opt = torch.optim.SGD(model.parameters(), lr=0.009, momentum=0.9, weight_decay=1e-4)
            r["rss_after_build_bytes"] = proc_status_bytes("VmRSS")
            r.update(config=f"train pytorch {a.precision}" + ("" if device.type == "cpu" else f" {a.device}"), impl="pytorch",
                     precision=a.precision, fused=False, input=f"{batch}x3x{size}x{size}")
            torch.manual_seed(1)
            x = torch.randn(batch, 3, size, size).to(device)
            target = torch.randint(0, CLASSES, (batch, size, size)).to(device)
            mixed = a.precision == "bf16-mixed"

            def step():
                opt.zero_grad()
                # autocast runs convolutions and matmuls in bf16, batch norm and the loss in fp32
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=mixed):
                    logits = model(x)
                loss = F.cross_entropy(logits.float(), target, ignore_index=255)
                loss.backward()
                opt.step()
                model.emau.update_bases()
                sync()

            s = timed(step, warmup, runs, r["config"])
        if a.mode != "params":
            med = statistics.median(s)
            if a.mode == "train":
                r["images_per_s"] = batch / med
            if cuda:
                r["cuda_max_allocated_bytes"] = torch.cuda.max_memory_allocated()
                r["cuda_device"] = torch.cuda.get_device_name()
            r.update(warmup=warmup, runs=runs, seconds=s, median_s=med, min_s=min(s), max_s=max(s),
                     achieved_gflops=2 * r["engine_macs"] / med / 1e9,
                     flop_convention="achieved GFLOP/s = 2 * MACs (conv MACs counted by forward hooks + EM products, "
                                     "the engine's rules) / median time" + ("; training counts 3 x the forward MACs" if a.mode == "train" else ""))
    r["loadavg_end"] = loadavg()
    r["rss_peak_bytes"] = proc_status_bytes("VmHWM")
    line = json.dumps(r)
    if a.out:
        with open(a.out, "a") as f:
            f.write(line + "\n")
    print("RESULT " + line)


if __name__ == "__main__":
    main()
