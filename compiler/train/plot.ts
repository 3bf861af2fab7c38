// The loss curves of a run (`kiln train --plot FILE.svg`): a Vega-Lite spec of the training,
// validation and test loss and each metric per epoch, one panel per measure, rendered to SVG by
// Vega in Node (no browser, no canvas).
import type { EpochResult } from './loop.ts';

/** One point of a curve. */
export interface CurvePoint {
  readonly epoch: number;
  /** 'loss', 'accuracy', 'mae', ... */
  readonly measure: string;
  readonly split: 'training' | 'validation' | 'test';
  readonly value: number;
}

/** The history as long-form rows: the training loss, and every score of the validation and test splits. */
export function curvePoints(history: readonly EpochResult[]): CurvePoint[] {
  const rows: CurvePoint[] = [];
  for (const r of history) {
    rows.push({ epoch: r.epoch, measure: 'loss', split: 'training', value: r.loss });
    for (const [split, scores] of [
      ['validation', r.validation],
      ['test', r.test],
    ] as const) {
      for (const [measure, value] of Object.entries(scores ?? {})) rows.push({ epoch: r.epoch, measure, split, value });
    }
  }
  return rows;
}

/** The Vega-Lite spec: a line per split, a panel per measure (loss first), each with its own y scale. */
export function curveSpec(title: string, history: readonly EpochResult[]): Record<string, unknown> {
  const points = curvePoints(history);
  const measures = [...new Set(points.map((p) => p.measure))].sort((a, b) =>
    a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points },
    facet: { column: { field: 'measure', type: 'nominal', sort: measures, title: null } },
    spec: {
      width: 320,
      height: 220,
      mark: { type: 'line', point: history.length <= 40 },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', axis: { tickMinStep: 1 } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'split', type: 'nominal', sort: ['training', 'validation', 'test'] },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** A Vega-Lite spec rendered as an SVG document. */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The curves as an SVG document. */
export function renderCurves(title: string, history: readonly EpochResult[]): Promise<string> {
  return renderSvg(curveSpec(title, history));
}
