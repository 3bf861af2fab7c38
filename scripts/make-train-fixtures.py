#!/usr/bin/python3
"""PyTorch training fixtures for kiln's seed models (test/fixtures/train-<model>.json).

Input: the files scripts/export-initial-weights.ts writes: kiln's training loss graph (forward,
loss, regularization penalties, state updates) serialized op by op, its initial params, one batch,
the trainable param names and the optimizers compared (as torch.optim classes and arguments).

The graph is evaluated with torch ops in float64 (each kiln op has its reference meaning in
ir/ops/README.md); torch.autograd gives the gradients and torch.optim the updates, so the fixture
checks kiln's symbolic gradients and optimizer updates against PyTorch from the same initial weights
and batch. Output per model: the loss, the gradient of every trainable param after one step, and
every trainable param after `steps` steps of each optimizer on the same batch (state updates such as
BatchNorm statistics and dropout counters applied between steps, as kiln's training step does).

Tensors up to `fullLimit` elements are stored in full; bigger ones as `samples` fixed entries,
`projections` dot products with fixed vectors and the L2 norm (test/grad/train-fixtures.ts).

Run: /usr/bin/python3 scripts/make-train-fixtures.py /tmp/kiln-train-export test/fixtures
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

# ---- kiln's counter-based RNG (ir/random.ts) ----

M32 = np.uint64(0xFFFFFFFF)


def mix32(x):
    x = x & M32
    x = (x ^ (x >> np.uint64(16))) & M32
    x = (x * np.uint64(0x7FEB352D)) & M32
    x = (x ^ (x >> np.uint64(15))) & M32
    x = (x * np.uint64(0x846CA68B)) & M32
    x = (x ^ (x >> np.uint64(16))) & M32
    return x


def random_bits(seed, counter, index):
    index = np.asarray(index, dtype=np.uint64)
    c = np.uint64(counter & 0xFFFFFFFF)
    s = np.uint64(seed & 0xFFFFFFFF)
    return mix32(mix32(mix32(index) ^ c) ^ s)


def random_uniform(seed, counter, index):
    return (random_bits(seed, counter, index) >> np.uint64(8)).astype(np.float64) / 16777216.0


def random_normal(seed, counter, index):
    index = np.asarray(index, dtype=np.uint64)
    u1 = ((random_bits(seed, counter, 2 * index) >> np.uint64(8)).astype(np.float64) + 1) / 16777216.0
    u2 = (random_bits(seed, counter, 2 * index + 1) >> np.uint64(8)).astype(np.float64) / 16777216.0
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * math.pi * u2)


# ---- kiln ops in torch ----

DTYPES = {'f32': torch.float64, 'i32': torch.int64, 'bool': torch.bool}


def axes_of(x, axes):
    return list(range(x.dim())) if len(axes) == 0 else [a % x.dim() for a in axes]


def reduce(fn):
    def run(x, a):
        axes = axes_of(x, a['axes'])
        if x.dim() == 0:
            return x
        return fn(x, axes, a['keepdims'])
    return run


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def conv2d(x, w, a):
    t, b, l, r = a['pads']
    xp = F.pad(to_nchw(x), (l, r, t, b)).contiguous()
    y = F.conv2d(xp, w.permute(3, 2, 0, 1).contiguous(), stride=tuple(a['strides']), dilation=tuple(a['dilations']))
    return to_nhwc(y)


def linear_vjp(f, shape, cot):
    """The transpose of a linear map f at cot, differentiable in cot and f's other operands."""
    z = torch.zeros(shape, requires_grad=True)
    y = f(z)
    (g,) = torch.autograd.grad(y, z, cot, create_graph=True)
    return g


def pool(x, a, kind):
    t, b, l, r = a['pads']
    xc = to_nchw(x)
    k, s = tuple(a['window']), tuple(a['strides'])
    if kind == 'max':
        return to_nhwc(F.max_pool2d(F.pad(xc, (l, r, t, b), value=-math.inf), k, s))
    total = F.avg_pool2d(F.pad(xc, (l, r, t, b)), k, s, divisor_override=1)
    count = F.avg_pool2d(F.pad(torch.ones_like(xc), (l, r, t, b)), k, s, divisor_override=1)
    return to_nhwc(total / count)


def max_pool_grad(x, dy, a):
    xd = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(pool(xd, a, 'max'), xd, dy, create_graph=True)
    return g


def gather(t, idx, a):
    ax = a['axis'] % t.dim()
    flat = torch.index_select(t, ax, idx.reshape(-1))
    return flat.reshape(list(t.shape[:ax]) + list(idx.shape) + list(t.shape[ax + 1:]))


def scatter_add(idx, upd, a):
    ax = a['axis'] % upd.dim()
    lead = list(upd.shape[:ax])
    rest = list(upd.shape[ax + idx.dim():])
    out = torch.zeros(lead + [a['size']] + rest, dtype=upd.dtype)
    return out.index_add(ax, idx.reshape(-1), upd.reshape(lead + [-1] + rest))


def constant(a):
    v = a['value']
    dt = DTYPES[a['dtype']]
    if len(v) == 1:
        return torch.full(a['shape'], v[0], dtype=dt)
    return torch.tensor(v, dtype=dt).reshape(a['shape'])


def iota(a):
    shape, ax = a['shape'], a['axis'] % len(a['shape'])
    view = [1] * len(shape)
    view[ax] = shape[ax]
    return torch.arange(shape[ax]).reshape(view).expand(shape).to(DTYPES[a['dtype']])


def random_op(draw):
    def run(counter, a):
        n = int(np.prod(a['shape']))
        vals = draw(a['seed'], int(counter.item()), np.arange(n, dtype=np.uint64))
        return torch.tensor(vals).reshape(a['shape'])
    return run


def div(x, y):
    return torch.div(x, y, rounding_mode='trunc') if not x.is_floating_point() else x / y


def cast(x, a):
    dt = DTYPES[a['dtype']]
    if dt == torch.bool:
        return x != 0
    if dt == torch.int64 and x.is_floating_point():
        return torch.trunc(x).to(torch.int64)
    return x.to(dt)


def matmul(x, y, a):
    if a['transpose_a']:
        x = x.transpose(-1, -2)
    if a['transpose_b']:
        y = y.transpose(-1, -2)
    return torch.matmul(x, y)


OPS = {
    'neg': lambda x, a: -x, 'exp': lambda x, a: torch.exp(x), 'log': lambda x, a: torch.log(x),
    'sqrt': lambda x, a: torch.sqrt(x), 'rsqrt': lambda x, a: torch.rsqrt(x), 'reciprocal': lambda x, a: 1 / x,
    'abs': lambda x, a: torch.abs(x), 'sign': lambda x, a: torch.sign(x), 'tanh': lambda x, a: torch.tanh(x),
    'sigmoid': lambda x, a: torch.sigmoid(x), 'relu': lambda x, a: torch.relu(x), 'sin': lambda x, a: torch.sin(x),
    'cos': lambda x, a: torch.cos(x), 'floor': lambda x, a: torch.floor(x), 'ceil': lambda x, a: torch.ceil(x),
    'stop_gradient': lambda x, a: x.detach(), 'cast': cast,
    'add': lambda x, y, a: x + y, 'sub': lambda x, y, a: x - y, 'mul': lambda x, y, a: x * y, 'div': lambda x, y, a: div(x, y),
    'pow': lambda x, y, a: torch.pow(x, y), 'maximum': lambda x, y, a: torch.maximum(x, y), 'minimum': lambda x, y, a: torch.minimum(x, y),
    'less': lambda x, y, a: x < y, 'less_equal': lambda x, y, a: x <= y, 'equal': lambda x, y, a: x == y,
    'not_equal': lambda x, y, a: x != y, 'greater': lambda x, y, a: x > y, 'greater_equal': lambda x, y, a: x >= y,
    'where': lambda c, x, y, a: torch.where(c, x, y),
    'sum': reduce(lambda x, ax, k: torch.sum(x, dim=ax, keepdim=k)),
    'mean': reduce(lambda x, ax, k: torch.mean(x.to(torch.float64), dim=ax, keepdim=k)),
    'max': reduce(lambda x, ax, k: torch.amax(x, dim=ax, keepdim=k)),
    'min': reduce(lambda x, ax, k: torch.amin(x, dim=ax, keepdim=k)),
    'argmax': lambda x, a: torch.argmax(x, dim=a['axis'] % x.dim(), keepdim=a['keepdims']),
    'reshape': lambda x, a: x.reshape(a['shape']), 'transpose': lambda x, a: x.permute(a['perm']),
    'broadcast_to': lambda x, a: x.broadcast_to(a['shape']),
    'slice': lambda x, a: x[tuple(slice(s, e, st) for s, e, st in zip(a['start'], a['end'], a['step']))],
    'pad': lambda x, a: F.pad(x, [p for lo, hi in reversed(list(zip(a['lo'], a['hi']))) for p in (lo, hi)], value=a['value']),
    'concat': None,  # variadic, handled in evaluate
    'gather': gather, 'scatter_add': scatter_add,
    'one_hot': lambda i, a: F.one_hot(i, a['depth']).to(DTYPES[a['dtype']]),
    'constant': constant, 'iota': iota,
    'random_uniform': random_op(random_uniform), 'random_normal': random_op(random_normal),
    'matmul': matmul, 'conv2d': conv2d,
    'conv2d_input_grad': lambda dy, w, a: linear_vjp(lambda x: conv2d(x, w, a), a['input_shape'], dy),
    'conv2d_filter_grad': lambda x, dy, a: linear_vjp(lambda w: conv2d(x, w, a), a['filter_shape'], dy),
    'max_pool2d': lambda x, a: pool(x, a, 'max'), 'avg_pool2d': lambda x, a: pool(x, a, 'avg'),
    'max_pool2d_grad': lambda x, dy, a: max_pool_grad(x, dy, a),
    'avg_pool2d_grad': lambda dy, a: linear_vjp(lambda x: pool(x, a, 'avg'), a['input_shape'], dy),
}


def evaluate(graph, env):
    """Values of every node, given env with 'i:<name>' and 'p:<name>' entries."""
    vals = []

    def get(r):
        return vals[r] if isinstance(r, int) else env[r]

    for n in graph['nodes']:
        xs = [get(r) for r in n['inputs']]
        op = n['op']
        if op == 'concat':
            v = torch.cat(xs, dim=n['attrs']['axis'] % len(n['shape']))
        elif op not in OPS:
            raise SystemExit(f'make-train-fixtures: no torch meaning for op {op}; add it to OPS')
        else:
            v = OPS[op](*xs, n['attrs'])
        if list(v.shape) != n['shape']:
            raise SystemExit(f'make-train-fixtures: {op} gave shape {list(v.shape)}, kiln inferred {n["shape"]}')
        vals.append(v)
    return get


# ---- summaries ----

def rounded(xs):
    return [float('%.10g' % x) for x in xs]


def summarize(t, spec):
    flat = t.detach().reshape(-1).numpy().astype(np.float64)
    n = flat.size
    shape = list(t.shape)
    if n <= spec['fullLimit']:
        return {'shape': shape, 'values': rounded(flat.tolist())}
    idx = np.floor(random_uniform(777, 0, np.arange(spec['samples'], dtype=np.uint64)) * n).astype(np.int64)
    proj = [float(np.dot(2 * random_uniform(1000 + j, 0, np.arange(n, dtype=np.uint64)) - 1, flat)) for j in range(spec['projections'])]
    return {'shape': shape, 'idx': idx.tolist(), 'values': rounded(flat[idx].tolist()), 'proj': rounded(proj), 'norm': float('%.10g' % np.linalg.norm(flat))}


# ---- one model ----

def tensor_of(p):
    return torch.tensor(p['data'], dtype=DTYPES[p['dtype']]).reshape(p['shape'])


def run_steps(ex, opt_cfg, steps):
    g = ex['graph']
    params = {k: tensor_of(v) for k, v in ex['params'].items()}
    trainable = ex['trainable']
    leaves = {k: params[k].clone().requires_grad_(True) for k in trainable}
    inputs = {f'i:{k}': tensor_of(v) for k, v in ex['inputs'].items()}
    opt = getattr(torch.optim, opt_cfg['cls'])(list(leaves.values()), **opt_cfg['kwargs']) if opt_cfg else None
    record = {}
    for step in range(steps):
        env = dict(inputs)
        env.update({f'p:{k}': (leaves[k] if k in leaves else v) for k, v in params.items()})
        get = evaluate(g, env)
        loss = get(g['outputs']['loss'])
        for p in leaves.values():
            p.grad = None
        loss.backward()
        if step == 0:
            record['loss'] = float(loss.item())
            record['grads'] = {k: leaves[k].grad.detach().clone() for k in trainable}
        new_state = {k: get(r).detach() for k, r in g['assigns'].items()}
        if opt is None:
            break
        opt.step()
        params.update(new_state)
    record['params'] = {k: v.detach().clone() for k, v in leaves.items()}
    return record


def make(ex):
    spec = ex['summary']
    first = run_steps(ex, None, 1)
    out = {
        'model': ex['model'], 'batch': ex['batch'], 'loss': first['loss'],
        'init': {k: [float(np.sum(np.array(v['data'], dtype=np.float64))), float(np.sum(np.array(v['data'], dtype=np.float64) ** 2))]
                 for k, v in ex['params'].items()},
        'grads': {k: summarize(v, spec) for k, v in first['grads'].items()},
        'steps': {},
    }
    for name, cfg in ex['optimizers'].items():
        r = run_steps(ex, cfg, ex['steps'])
        out['steps'][name] = {k: summarize(v, spec) for k, v in r['params'].items()}
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    for f in sorted(os.listdir(src)):
        if not f.endswith('.json'):
            continue
        with open(os.path.join(src, f)) as fh:
            ex = json.load(fh)
        fx = make(ex)
        path = os.path.join(dst, f'train-{ex["model"]}.json')
        with open(path, 'w') as fh:
            json.dump(fx, fh, separators=(',', ':'))
            fh.write('\n')
        print(f'{path}: loss {fx["loss"]:.6f}, {len(fx["grads"])} params, {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
