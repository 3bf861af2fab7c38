#!/usr/bin/env python3
"""Writes test/fixtures/conv-torch.json: PyTorch's conv2d / conv_transpose2d / max_pool2d /
avg_pool2d forward and backward results on fixed inputs, each phrased as one kiln op evaluation
(op, attrs, NHWC inputs -> expected NHWC result). test/ir/ops-conv.test.ts replays them on
kiln's interpreter, so the test itself needs no torch.

    /usr/bin/python3 scripts/make-conv-fixtures.py

Inputs are float32 values; PyTorch computes in float64 on them.
"""
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)
CASES = []


def rand(*shape):
    """Float32-representable values in [-1, 1), as float64."""
    return (torch.rand(*shape, dtype=torch.float32) * 2 - 1).double()


def nhwc(t):  # NCHW -> NHWC
    return t.permute(0, 2, 3, 1).contiguous()


def hwio(w):  # conv2d weight [F, C, KH, KW] -> kiln filter [KH, KW, C, F]
    return w.permute(2, 3, 1, 0).contiguous()


def enc(t, digits):
    """Shape and values; inputs are float32, so 9 significant digits give them back exactly."""
    return {"shape": list(t.shape), "data": [float(f"{v:.{digits}g}") for v in t.flatten().tolist()]}


def case(name, op, attrs, inputs, expected):
    CASES.append({"name": name, "op": op, "attrs": attrs, "inputs": [enc(t, 9) for t in inputs], "expected": enc(expected, 8)})


def conv(name, n, c, h, w, f, k, stride, dilation, pads):
    """conv2d with explicit (top, bottom, left, right) pads, and both gradients."""
    x = rand(n, c, h, w).requires_grad_()
    wt = rand(f, c, k[0], k[1]).requires_grad_()
    t, b, l, r = pads
    y = F.conv2d(F.pad(x, (l, r, t, b)), wt, stride=stride, dilation=dilation)
    dy = rand(*y.shape)
    dx, dw = torch.autograd.grad(y, (x, wt), dy)
    geo = {"strides": list(stride), "dilations": list(dilation), "pads": list(pads)}
    X, W, Y, DY = nhwc(x.detach()), hwio(wt.detach()), nhwc(y.detach()), nhwc(dy)
    case(name, "conv2d", geo, [X, W], Y)
    case(name, "conv2d_input_grad", {**geo, "input_shape": list(X.shape)}, [DY, W], nhwc(dx))
    case(name, "conv2d_filter_grad", {**geo, "filter_shape": list(W.shape)}, [X, DY], hwio(dw))


def conv_transpose(name, n, f, oh, ow, c, k, stride, dilation, padding, output_padding):
    """conv_transpose2d(dy, w) is kiln's conv2d_input_grad; its gradients are conv2d(g, w) and
    conv2d_filter_grad(g, dy) (the VJP rule of conv2d_input_grad)."""
    dy = rand(n, f, oh, ow).requires_grad_()
    wt = rand(f, c, k[0], k[1]).requires_grad_()  # conv_transpose2d weight: [in = F, out = C, KH, KW]
    x = F.conv_transpose2d(dy, wt, stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    g = rand(*x.shape)
    ddy, dw = torch.autograd.grad(x, (dy, wt), g)
    geo = {"strides": list(stride), "dilations": list(dilation), "pads": [padding[0], padding[0], padding[1], padding[1]]}
    DY, W, G = nhwc(dy.detach()), hwio(wt.detach()), nhwc(g)
    case(name, "conv2d_input_grad", {**geo, "input_shape": list(nhwc(x).shape)}, [DY, W], nhwc(x.detach()))
    case(name + ", gradient w.r.t. dy", "conv2d", geo, [G, W], nhwc(ddy))
    case(name + ", gradient w.r.t. the filter", "conv2d_filter_grad", {**geo, "filter_shape": list(W.shape)}, [G, DY], hwio(dw))


def pool(name, n, c, h, w, window, stride, padding):
    """max_pool2d (padding never wins) and avg_pool2d over the in-bounds elements, with gradients."""
    geo = {"window": list(window), "strides": list(stride), "pads": [padding[0], padding[0], padding[1], padding[1]]}
    x = torch.randperm(n * c * h * w).double().reshape(n, c, h, w).div(n * c * h * w).requires_grad_()  # distinct: no ties
    y = F.max_pool2d(x, window, stride, padding)
    dy = rand(*y.shape)
    (dx,) = torch.autograd.grad(y, (x,), dy)
    X, DY = nhwc(x.detach()), nhwc(dy)
    case(name, "max_pool2d", geo, [X], nhwc(y.detach()))
    case(name, "max_pool2d_grad", geo, [X, DY], nhwc(dx))
    x = rand(n, c, h, w).requires_grad_()
    y = F.avg_pool2d(x, window, stride, padding, count_include_pad=False)
    (dx,) = torch.autograd.grad(y, (x,), dy)
    case(name, "avg_pool2d", geo, [nhwc(x.detach())], nhwc(y.detach()))
    case(name, "avg_pool2d_grad", {**geo, "input_shape": list(X.shape)}, [DY], nhwc(dx))


conv("conv 3x3", 2, 3, 5, 6, 4, (3, 3), (1, 1), (1, 1), (0, 0, 0, 0))
conv("conv strided, dilated, asymmetric pads", 1, 2, 7, 8, 3, (3, 2), (2, 3), (2, 1), (1, 2, 0, 1))
conv("conv same 3x3 stride 2", 2, 2, 6, 5, 2, (3, 3), (2, 2), (1, 1), (0, 1, 1, 1))
conv_transpose("conv_transpose 3x3 stride 2", 1, 3, 3, 4, 2, (3, 3), (2, 2), (1, 1), (1, 1), (1, 0))
conv_transpose("conv_transpose 2x2 stride 2 dilated", 2, 2, 3, 3, 3, (2, 2), (2, 2), (2, 1), (0, 1), (0, 1))
pool("pool 2x2 stride 2", 2, 3, 4, 6, (2, 2), (2, 2), (0, 0))
pool("pool 3x3 stride 2 padded", 1, 2, 7, 6, (3, 3), (2, 2), (1, 1))
pool("pool 3x2 stride 1x2 padded", 1, 2, 5, 5, (3, 2), (1, 2), (1, 1))

out = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "conv-torch.json")
with open(out, "w") as fh:
    json.dump({"generator": "scripts/make-conv-fixtures.py", "torch": torch.__version__, "cases": CASES}, fh, separators=(",", ":"))
    fh.write("\n")
print(f"wrote {len(CASES)} cases to {os.path.normpath(out)}")
