#!/usr/bin/env python3
"""Writes test/fixtures/layers-*.json: inputs, weights (in kiln's / Keras' layouts) and PyTorch's
outputs for kiln's DSL layers and losses. Run from the repository root:  python3 scripts/make-layer-fixtures.py
Tensors are stored as {"shape": [...], "data": [...]} (row-major). kiln's tests need no PyTorch."""
import json
import torch
import torch.nn.functional as F

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


def t(x):
    x = x.detach().contiguous()
    return {"shape": list(x.shape), "data": [round(v, 10) for v in x.flatten().tolist()]}


def rand(*shape):
    return torch.rand(*shape) * 2 - 1


def nchw(x):  # NHWC -> NCHW
    return x.permute(0, 3, 1, 2)


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def same_pads(size, k, s, d=1):
    """TensorFlow's 'same' padding (top, bottom) for one axis: the extra pixel goes last."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def conv_case(x, kh, kw, filters, stride, padding, dilation=1, activation=None):
    w = rand(kh, kw, x.shape[3], filters)  # kiln / Keras [KH, KW, Cin, Cout]
    b = rand(filters)
    xc = nchw(x)
    if padding == "same":
        pt, pb = same_pads(x.shape[1], kh, stride, dilation)
        pl, pr = same_pads(x.shape[2], kw, stride, dilation)
        xc = F.pad(xc, (pl, pr, pt, pb))
    y = F.conv2d(xc, w.permute(3, 2, 0, 1), b, stride=stride, dilation=dilation)
    y = nhwc(y)
    if activation == "relu":
        y = torch.relu(y)
    return {"x": t(x), "kernel": t(w), "bias": t(b), "y": t(y),
            "config": {"filters": filters, "kernelSize": [kh, kw], "strides": stride, "padding": padding, "dilation": dilation, "activation": activation or "linear"}}


def conv_transpose_case(x, k, filters, stride, padding):
    w = rand(k, k, filters, x.shape[3])  # Keras Conv2DTranspose [KH, KW, Cout, Cin]
    b = rand(filters)
    full = F.conv_transpose2d(nchw(x), w.permute(3, 2, 0, 1), b, stride=stride)  # torch weight [Cin, Cout, KH, KW]
    h = x.shape[1]
    if padding == "same":
        out = h * stride
        pt, _ = same_pads(out, k, stride)
        full = full[:, :, pt:pt + out, pt:pt + out]
    else:
        out = h * stride + max(k - stride, 0)
        full = full[:, :, :out, :out]
    return {"x": t(x), "kernel": t(w), "bias": t(b), "y": t(nhwc(full)),
            "config": {"filters": filters, "kernelSize": k, "strides": stride, "padding": padding}}


def conv_fixtures():
    x = rand(2, 5, 5, 3)
    return {
        "conv2d_same_s2_relu": conv_case(x, 3, 3, 4, 2, "same", activation="relu"),
        "conv2d_valid_dilated": conv_case(x, 2, 2, 3, 1, "valid", dilation=2),
        "conv2d_same_s1": conv_case(x, 3, 2, 2, 1, "same"),
        "conv2d_transpose_same_s2": conv_transpose_case(rand(2, 3, 3, 4), 5, 2, 2, "same"),
        "conv2d_transpose_valid_s2": conv_transpose_case(rand(1, 3, 3, 2), 3, 2, 2, "valid"),
        "max_pool_2": {"x": t(x), "y": t(nhwc(F.max_pool2d(nchw(x), 2)))},
        "avg_pool_3_s2": {"x": t(x), "y": t(nhwc(F.avg_pool2d(nchw(x), 3, 2)))},
    }


def dense_fixtures():
    x = rand(3, 4)
    w = rand(4, 5)
    b = rand(5)
    return {"dense_relu": {"x": t(x), "kernel": t(w), "bias": t(b), "y": t(torch.relu(x @ w + b))}}


def split_gates(m, order):
    """Reorders the gate blocks of a torch matrix [G*u, ...] (dim 0) to Keras' order."""
    blocks = m.chunk(len(order), 0)
    return torch.cat([blocks[i] for i in order], 0)


def recurrent_case(kind, x, units):
    cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    rnn = cls(x.shape[2], units, batch_first=True)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(rand(*p.shape))
    seq, _ = rnn(x)
    order = [1, 0, 2] if kind == "gru" else list(range(4 if kind == "lstm" else 1))  # torch GRU r,z,n -> Keras z,r,h
    wih, whh = split_gates(rnn.weight_ih_l0, order), split_gates(rnn.weight_hh_l0, order)
    bih, bhh = split_gates(rnn.bias_ih_l0, order), split_gates(rnn.bias_hh_l0, order)
    bias = torch.stack([bih, bhh]) if kind == "gru" else bih + bhh
    return {"x": t(x), "kernel": t(wih.T), "recurrent_kernel": t(whh.T), "bias": t(bias),
            "sequences": t(seq), "last": t(seq[:, -1, :]), "units": units}


def recurrent_fixtures():
    x = rand(2, 4, 3)
    return {kind: recurrent_case(kind, x, 5) for kind in ["simple_rnn", "lstm", "gru"]}


def batch_norm_fixtures():
    x = rand(4, 3, 3, 2) * 3 + 1
    gamma, beta = rand(2) + 1.5, rand(2)
    mm, mv = rand(2), torch.rand(2) + 0.5
    bn = torch.nn.BatchNorm2d(2, eps=1e-3, momentum=0.01)
    with torch.no_grad():
        bn.weight.copy_(gamma)
        bn.bias.copy_(beta)
        bn.running_mean.copy_(mm)
        bn.running_var.copy_(mv)
    bn.train()
    y_train = nhwc(bn(nchw(x)))
    bn.eval()
    with torch.no_grad():
        bn.running_mean.copy_(mm)
        bn.running_var.copy_(mv)
    y_infer = nhwc(bn(nchw(x)))
    batch_var = x.var(dim=(0, 1, 2), unbiased=False)  # Keras moves the biased variance (PyTorch the unbiased)
    return {"batch_norm": {
        "x": t(x), "gamma": t(gamma), "beta": t(beta), "moving_mean": t(mm), "moving_variance": t(mv),
        "y_train": t(y_train), "y_infer": t(y_infer),
        "new_moving_mean": t(0.99 * mm + 0.01 * x.mean(dim=(0, 1, 2))),
        "new_moving_variance": t(0.99 * mv + 0.01 * batch_var)}}


def loss_fixtures():
    logits = rand(4, 3) * 4
    onehot = F.one_hot(torch.tensor([2, 0, 1, 2]), 3).double()
    probs = torch.softmax(logits, -1)
    blogits = rand(4, 1) * 4
    btarget = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    return {"losses": {
        "logits": t(logits), "labels": {"shape": [4], "data": [2, 0, 1, 2]}, "onehot": t(onehot), "probs": t(probs),
        "blogits": t(blogits), "btarget": t(btarget), "bprobs": t(torch.sigmoid(blogits)),
        "mse": F.mse_loss(probs, onehot).item(),
        "bce_logits": F.binary_cross_entropy_with_logits(blogits, btarget).item(),
        "bce_probs": F.binary_cross_entropy(torch.sigmoid(blogits), btarget).item(),
        "cce_logits": F.cross_entropy(logits, onehot.argmax(-1)).item(),
        "cce_probs": F.nll_loss(torch.log(probs), onehot.argmax(-1)).item()}}


def main():
    groups = {"conv": conv_fixtures, "dense": dense_fixtures, "recurrent": recurrent_fixtures,
              "batch-norm": batch_norm_fixtures, "losses": loss_fixtures}
    for name, make in groups.items():
        with open(f"test/fixtures/layers-{name}.json", "w") as f:
            json.dump({"generator": "scripts/make-layer-fixtures.py", "torch": torch.__version__, **make()}, f)
            f.write("\n")


if __name__ == "__main__":
    main()
