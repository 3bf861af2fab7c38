"""PyTorch peer of kiln's bench (run by bench/peers/torch.ts with /usr/bin/python3).

Reads one JSON command per line on stdin, answers one JSON line on stdout. A case's arrays are
raw little-endian files in the directory the command names. Timing follows bench/harness.ts:
a warm-up call (and a second unless the first took over 5 budgets), then the median of N calls, N filling the time budget.
One thread: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS=1 (set by the caller) and torch.set_num_threads(1).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def load(d, t):
    dtype = np.int32 if t["dtype"] == "i32" else np.float32
    return np.fromfile(os.path.join(d, t["file"]), dtype=dtype).reshape(t["shape"])


def runs_for(warm_ms, p):
    if warm_ms >= p["budgetMs"]:
        return 1
    return max(p["minRuns"], min(p["maxRuns"], math.floor(p["budgetMs"] / max(warm_ms, 1e-3))))


def measure(fn, p):
    t0 = time.perf_counter()
    first = fn()
    warm = (time.perf_counter() - t0) * 1e3
    if warm < 5 * p["budgetMs"]:
        t0 = time.perf_counter()
        fn()
        warm = (time.perf_counter() - t0) * 1e3
    n = runs_for(warm, p)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e3)
    return first, float(np.median(samples)), n


def summarize(x):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    k = min(16, x.size)
    sample = [float(x[(j * x.size) // k]) for j in range(k)]
    return {"n": int(x.size), "sum": float(x.sum()), "l1": float(np.abs(x).sum()), "sample": sample}


def nchw_dense_kernel(w, hwc):
    """A Keras dense kernel after an NHWC flatten, re-ordered for PyTorch's NCHW flatten."""
    h, wd, c = hwc
    return w.reshape(h, wd, c, -1).transpose(2, 0, 1, 3).reshape(h * wd * c, -1)


class Model(torch.nn.Module):
    """The bench's layer list (bench/models.ts) with weights in Keras layouts, as PyTorch modules."""

    def __init__(self, case, d):
        super().__init__()
        self.layers = case["layers"]
        self.params = torch.nn.ParameterList()
        self.lstms = torch.nn.ModuleList()
        self.index = []  # per layer: indices into params, or the lstm module's index
        shape = case["input"]
        for layer, ws in zip(self.layers, case["weights"]):
            arrays = [load(d, w) for w in ws]
            kind = layer["kind"]
            if kind == "dense":
                k = arrays[0]
                if len(shape) == 3:
                    k = nchw_dense_kernel(k, shape)
                arrays = [np.ascontiguousarray(k.T), arrays[1]]
                shape = [layer["units"]]
            elif kind == "conv":
                arrays = [np.ascontiguousarray(arrays[0].transpose(3, 2, 0, 1)), arrays[1]]
                shape = [shape[0] - layer["size"] + 1, shape[1] - layer["size"] + 1, layer["filters"]]
            elif kind == "maxpool":
                shape = [shape[0] // layer["size"], shape[1] // layer["size"], shape[2]]
            elif kind == "flatten":
                pass  # the dense after it keeps the [h, w, c] shape to re-order its kernel
            elif kind == "lstm":
                kernel, rec, bias = arrays
                m = torch.nn.LSTM(kernel.shape[0], layer["units"], batch_first=True)
                with torch.no_grad():
                    m.weight_ih_l0.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
                    m.weight_hh_l0.copy_(torch.from_numpy(np.ascontiguousarray(rec.T)))
                    m.bias_ih_l0.copy_(torch.from_numpy(bias))
                    m.bias_hh_l0.zero_()
                self.index.append(len(self.lstms))
                self.lstms.append(m)
                continue
            start = len(self.params)
            for a in arrays:
                self.params.append(torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(a))))
            self.index.append(list(range(start, len(self.params))))

    def forward(self, x):
        """Logits (the softmax is the caller's)."""
        for layer, ix in zip(self.layers, self.index):
            kind = layer["kind"]
            if kind == "dense":
                x = F.linear(x, self.params[ix[0]], self.params[ix[1]])
                if layer["act"] == "relu":
                    x = F.relu(x)
            elif kind == "conv":
                x = F.relu(F.conv2d(x, self.params[ix[0]], self.params[ix[1]]))
            elif kind == "maxpool":
                x = F.max_pool2d(x, layer["size"])
            elif kind == "flatten":
                x = x.flatten(1)
            elif kind == "embedding":
                x = F.embedding(x, self.params[ix[0]])
            elif kind == "lstm":
                out, (h, _) = self.lstms[ix](x)
                x = out if layer["returnSequences"] else h[0]
        return x


def input_tensor(case, d):
    x = load(d, case["x"])
    if case["x"]["dtype"] == "i32":
        return torch.from_numpy(x.astype(np.int64))
    t = torch.from_numpy(x)
    return t.permute(0, 3, 1, 2).contiguous() if t.dim() == 4 else t


def bench(cmd):
    case, d, policy = cmd["case"], cmd["dir"], cmd["policy"]
    if case["kind"] == "matmul":
        a, b = torch.from_numpy(load(d, case["a"])), torch.from_numpy(load(d, case["b"]))
        with torch.inference_mode():
            first, ms, n = measure(lambda: summarize(torch.mm(a, b).numpy()), policy)
        return {"median_ms": ms, "runs": n, "first": first}
    model = Model(case, d)
    x = input_tensor(case, d)
    if case["kind"] == "infer":
        with torch.inference_mode():
            probs = lambda: F.softmax(model(x), dim=-1).numpy()
            first, ms, n = measure(lambda: summarize(probs()), policy)
        return {"median_ms": ms, "runs": n, "first": first}
    y = torch.from_numpy(load(d, case["labels"]).astype(np.int64))
    adam = case["adam"]
    opt = torch.optim.Adam(model.parameters(), lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]), eps=adam["eps"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return summarize([loss.item()])

    first, ms, n = measure(step, policy)
    return {"median_ms": ms, "runs": n, "first": first}


def main():
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            if cmd["cmd"] == "hello":
                out = {"version": torch.__version__, "threads": torch.get_num_threads()}
            else:
                out = bench(cmd)
        except Exception as e:  # reported as the impl's 'cannot' reason
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
