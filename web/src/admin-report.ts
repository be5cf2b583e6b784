/**
 * The fairness and accuracy report on the admin page (GET /admin/rooms/{roomId}/report): how closely
 * admission followed arrival order over the last hour, the waits, abandonment, and how good the
 * estimate shown at the join was. Shown in its own panel when a row's Report button is pressed.
 */
import type { FairnessReportView } from '../../lambdas/api/schemas.js';

const fixed = (value: number | null, digits = 2) => (value === null ? '—' : value.toFixed(digits));
const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)} %`);
const seconds = (value: number | null) => (value === null ? '—' : value < 120 ? `${Math.round(value)} s` : `${(value / 60).toFixed(1)} min`);

/** The figures of a report as label, value and what it means: the page renders them as a definition list. */
export function reportFigures(r: FairnessReportView): { label: string; value: string; hint: string }[] {
  const about = r.exact ? '' : 'about ';
  const p = r.predicted;
  return [
    { label: 'Sampled', value: `${r.samples}`, hint: r.exact ? 'every visitor of the hour' : 'busy minutes were sampled: counts are estimates' },
    { label: 'Admitted', value: `${about}${Math.round(r.admitted)}`, hint: 'in the last hour' },
    { label: 'Abandonment', value: percent(r.abandonmentRate), hint: `${about}${Math.round(r.abandoned)} left or went silent while waiting` },
    { label: 'Kendall tau', value: fixed(r.kendallTau), hint: 'arrival order vs admission order; 1 is exact (a little below with batched admissions)' },
    { label: 'Gamma', value: fixed(r.orderGamma), hint: '1: nobody went in before someone who arrived earlier' },
    { label: 'Wait p50 / p90', value: `${seconds(r.waitP50Seconds)} / ${seconds(r.waitP90Seconds)}`, hint: 'join to admission' },
    { label: 'Actual ÷ estimate', value: `${fixed(p.p10Ratio)} · ${fixed(p.medianRatio)} · ${fixed(p.p90Ratio)}`, hint: `p10 · median · p90 of ${p.ratioSamples} estimates of 10 s or more (below 1: the estimate was pessimistic)` },
    { label: 'Mean error', value: seconds(p.meanAbsoluteErrorSeconds), hint: `|actual − estimate| over ${p.samples} admitted` },
    ...(p.rangeSamples > 0 ? [{ label: 'Within the range shown', value: percent(p.withinRangeShare), hint: `of ${p.rangeSamples}` }] : []),
  ];
}

/** Fills `panel` with the report (text only: nothing in it is HTML). */
export function renderReport(panel: HTMLElement, report: FairnessReportView): void {
  const title = document.createElement('h3');
  title.textContent = `${report.roomId}: the last hour`;
  const list = document.createElement('dl');
  list.className = 'report';
  for (const figure of reportFigures(report)) {
    const term = document.createElement('dt');
    term.textContent = figure.label;
    const value = document.createElement('dd');
    value.textContent = figure.value;
    value.title = figure.hint;
    const hint = document.createElement('span');
    hint.className = 'hint';
    hint.textContent = ` ${figure.hint}`;
    value.append(hint);
    list.append(term, value);
  }
  panel.replaceChildren(title, list);
  panel.hidden = false;
}
