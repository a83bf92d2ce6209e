import { best, type Timing } from './timing';

/**
 * One row of the results: our figure against a reference tool's (or an absolute goal).
 * `ratio` is ours / reference; `met` is undefined when the row states no goal.
 */
export interface Row {
  measurement: string;
  ours: string;
  reference: string;
  ratio: string;
  goal: string;
  met?: boolean;
}

/** A row comparing two timings: ratio = ours / reference, goal `ratio <= max`. */
export function compare(opts: {
  measurement: string;
  ours: Timing;
  reference: Timing;
  referenceName: string;
  maxRatio?: number;
  /** The goal as the issue words it, when `maxRatio` alone would not say it well. */
  goal?: string;
}): Row {
  const ours = best(opts.ours);
  const reference = best(opts.reference);
  const ratio = ours / reference;
  return {
    measurement: opts.measurement,
    ours: seconds(ours),
    reference: `${opts.referenceName} ${seconds(reference)}`,
    ratio: `${ratio.toFixed(2)}x`,
    goal: opts.goal ?? (opts.maxRatio !== undefined ? `<= ${opts.maxRatio}x` : '-'),
    met: opts.maxRatio === undefined ? undefined : ratio <= opts.maxRatio,
  };
}

/** A row with an absolute goal in seconds (no reference tool). */
export function absolute(opts: { measurement: string; ours: Timing; maxSeconds?: number }): Row {
  const ours = best(opts.ours);
  return {
    measurement: opts.measurement,
    ours: seconds(ours),
    reference: '-',
    ratio: '-',
    goal: opts.maxSeconds === undefined ? '-' : `< ${opts.maxSeconds} s`,
    met: opts.maxSeconds === undefined ? undefined : ours < opts.maxSeconds,
  };
}

/** A row for a yes/no property. */
export function check(opts: { measurement: string; ours: string; goal: string; met: boolean }) {
  return { ...opts, reference: '-', ratio: '-' } satisfies Row;
}

export function seconds(s: number): string {
  return s < 0.1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`;
}

/** The rows as a Markdown table (readable as plain text too). */
export function markdownTable(rows: Row[]): string {
  const head = ['measurement', 'ours', 'reference', 'ratio', 'goal', 'met?'];
  // A `|` inside a cell (tar | pigz) would end the cell.
  const cells = rows.map((r) =>
    [
      r.measurement,
      r.ours,
      r.reference,
      r.ratio,
      r.goal,
      r.met === undefined ? '-' : r.met ? 'yes' : 'NO',
    ].map((v) => v.replaceAll('|', '\\|')),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
