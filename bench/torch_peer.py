"""PyTorch peer of kiln's bench (run by bench/peers/torch.ts with /usr/bin/python3).

Reads one JSON command per line on stdin, answers one JSON line on stdout:
  hello                      -> version and threads
  prepare (dir, case)        -> id: the case built (a case's arrays are raw little-endian files in dir)
  call (id, summarize)       -> ms: one call of the case, timed here; first: its output's summary if asked
  dispose (id)               -> {}
The protocol itself (warm-up, interleaved rounds, medians) is bench/harness.ts's: it sends the calls.
Threads: KILN_TORCH_THREADS (default 1), with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS the same (set by the
caller), torch.set_num_threads(n).
"""
import itertools
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("KILN_TORCH_THREADS", "1")))
torch.set_num_interop_threads(1)


def load(d, t):
    dtype = np.int32 if t["dtype"] == "i32" else np.float32
    return np.fromfile(os.path.join(d, t["file"]), dtype=dtype).reshape(t["shape"])


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


def prepare(cmd):
    """The case as a function of no arguments doing one full call and returning its output."""
    case, d = cmd["case"], cmd["dir"]
    if case["kind"] == "matmul":
        a, b = torch.from_numpy(load(d, case["a"])), torch.from_numpy(load(d, case["b"]))

        def matmul():
            with torch.inference_mode():
                return torch.mm(a, b).numpy()

        return matmul
    model = Model(case, d)
    x = input_tensor(case, d)
    if case["kind"] == "infer":

        def infer():
            with torch.inference_mode():
                return F.softmax(model(x), dim=-1).numpy()

        return infer
    y = torch.from_numpy(load(d, case["labels"]).astype(np.int64))
    adam = case["adam"]
    opt = torch.optim.Adam(model.parameters(), lr=adam["lr"], betas=(adam["beta1"], adam["beta2"]), eps=adam["eps"])

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return [loss.item()]

    return step


prepared = {}
ids = itertools.count()


def call(cmd):
    fn = prepared[cmd["id"]]
    t0 = time.perf_counter()
    out = fn()
    ms = (time.perf_counter() - t0) * 1e3
    return {"ms": ms, **({"first": summarize(out)} if cmd.get("summarize") else {})}


def answer(cmd):
    if cmd["cmd"] == "hello":
        return {"version": torch.__version__, "threads": torch.get_num_threads()}
    if cmd["cmd"] == "prepare":
        i = next(ids)
        prepared[i] = prepare(cmd)
        return {"id": i}
    if cmd["cmd"] == "call":
        return call(cmd)
    if cmd["cmd"] == "dispose":
        prepared.pop(cmd["id"], None)
        return {}
    raise ValueError(f"unknown command {cmd['cmd']}")


def main():
    for line in sys.stdin:
        cmd = json.loads(line)
        try:
            out = answer(cmd)
        except Exception as e:  # reported as the impl's 'cannot' reason
            out = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
