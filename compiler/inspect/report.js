// The script of `kiln inspect --html` reports: entry tabs, and the detail panel of a clicked fusion
// group, value or kernel (its source lines, Kernel IR, WAT, WGSL and cost). Plain DOM, no network.
(() => {
  const data = JSON.parse(document.getElementById('data').textContent);
  const first = document.currentScript.dataset.first;
  const detail = document.getElementById('detail');
  const kernels = new Map(data.kernels.map((k) => [k.name, k]));
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const locText = (l) => `${l.file}:${l.line}:${l.col}`;
  const line = (l) => (data.sources[l.file] || [])[l.line - 1];

  function showEntry(name) {
    for (const s of document.querySelectorAll('section.entry')) s.hidden = s.dataset.entry !== name;
    for (const b of document.querySelectorAll('button.tab')) b.classList.toggle('on', b.dataset.entry === name);
  }

  function sources(locs, opsAt) {
    const box = el('div', 'sources');
    box.append(el('h3', '', 'Source lines'));
    if (!locs.length) box.append(el('p', 'note', 'no source location'));
    for (const l of locs) {
      const row = el('div', 'src');
      row.append(el('span', 'loc', locText(l)), el('code', '', (line(l) || '').trim()));
      if (opsAt) row.append(el('span', 'ops', opsAt.get(locText(l)) || ''));
      box.append(row);
    }
    return box;
  }

  function kernelBlock(k) {
    const box = el('div', 'kernel');
    box.dataset.kernel = k.name;
    box.append(el('h3', '', `${k.name}: ${k.kind}`));
    const cost = el('table', 'cost');
    const cells = [
      ['FLOPs', k.cost.flops],
      ['bytes read', k.cost.bytesRead],
      ['bytes written', k.cost.bytesWritten],
      ['FLOP/byte', k.cost.intensity.toFixed(2)],
    ];
    for (const p of data.profiles || []) {
      const t = p.kernels[k.name];
      if (t)
        cells.push([`${p.target} ms`, t.ms.toFixed(3)], ['GFLOP/s', t.gflops.toFixed(2)], ['GB/s', t.gbps.toFixed(2)]);
    }
    for (const [a, b] of cells) {
      const tr = el('tr');
      tr.append(el('th', '', a), el('td', '', String(b)));
      cost.append(tr);
    }
    box.append(cost);
    for (const [title, text, open] of [
      ['Kernel IR', k.kir, true],
      ['WAT', k.wat, true],
      ['WGSL', k.wgsl, false],
    ]) {
      if (!text) continue;
      const d = el('details', title.toLowerCase().replace(' ', '-'));
      d.open = open;
      d.append(el('summary', '', title), el('pre', '', text));
      box.append(d);
    }
    return box;
  }

  function select(node) {
    for (const s of document.querySelectorAll('.selected')) s.classList.remove('selected');
    if (node) node.classList.add('selected');
  }

  function showGroup(ei, gi) {
    const e = data.entries[ei];
    const g = e.groups[gi];
    const values = new Map(e.values.map((v) => [v.id, v]));
    const opsAt = new Map();
    const locs = [];
    for (const id of g.nodes) {
      const v = values.get(id);
      if (!v.loc || v.op === 'constant') continue;
      const key = locText(v.loc);
      if (!opsAt.has(key)) locs.push(v.loc);
      opsAt.set(key, [opsAt.get(key), v.op].filter(Boolean).join(' '));
    }
    locs.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
    detail.replaceChildren(
      el('h2', '', `${e.name} group ${g.index}: ${g.head}`),
      el(
        'p',
        'ops',
        `computes ${g.nodes.map((id) => `${id} ${values.get(id).op}`).join(', ')}; stores ${g.roots.join(', ')}`,
      ),
      sources(locs, opsAt),
      ...g.kernels.map((n) => kernelBlock(kernels.get(n))),
    );
    select(document.getElementById(`e${ei}-g${gi}`));
  }

  function showKernel(name) {
    const k = kernels.get(name);
    const ei = data.entries.findIndex((e) => e.name === k.entry);
    showEntry(k.entry);
    if (k.group !== undefined) showGroup(ei, k.group);
    else
      detail.replaceChildren(
        el('h2', '', `${k.entry}: ${k.name}`),
        el(
          'p',
          'note',
          k.stores.some((s) => s.value)
            ? 'copies a param update into the param (no fusion group)'
            : 'copies an operand into a temp that the contractions after it read (no fusion group: the transpose kernel pass)',
        ),
        kernelBlock(k),
      );
    const box = detail.querySelector(`[data-kernel="${CSS.escape(name)}"]`);
    if (box) box.scrollIntoView({ block: 'nearest' });
  }

  function showValue(ei, vi) {
    const v = data.entries[ei].values[vi];
    if (v.group !== undefined) return showGroup(ei, v.group);
    detail.replaceChildren(
      el('h2', '', `${v.id}: ${v.kind === 'node' ? v.op : v.kind} ${v.type}`),
      sources(v.loc ? [v.loc] : []),
    );
    select(document.getElementById(`e${ei}-v${vi}`));
  }

  document.addEventListener('click', (ev) => {
    const t = ev.target;
    const tab = t.closest('button.tab');
    if (tab) return showEntry(tab.dataset.entry);
    const row = t.closest('[data-kernel]:not(.kernel)');
    if (row && !detail.contains(row)) return showKernel(row.dataset.kernel);
    const svgItem = t.closest('g.node, g.cluster, li.grp');
    const m = svgItem && /^e(\d+)-([vg])(\d+)$/.exec(svgItem.id);
    if (!m) return;
    if (m[2] === 'g') showGroup(Number(m[1]), Number(m[3]));
    else showValue(Number(m[1]), Number(m[3]));
  });
  showEntry(first || data.entries[data.entries.length - 1].name);
})();
