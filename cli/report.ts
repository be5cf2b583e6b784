/**
 * `waiting-room rooms report ID`: a room's fairness and accuracy over the last hour (GET
 * /admin/rooms/{roomId}/report, lambdas/domain/reporting/fairness.ts): how closely admission followed arrival
 * order, how long people waited, how many gave up, and how good the estimate shown at the join was.
 */
import type { FairnessReportView } from '../lambdas/api/schemas.js';
import type { AdminApi } from './admin-api.js';
import type { ParsedArgs } from './args.js';
import { roomIdOf, type Outcome } from './commands.js';

const fixed = (value: number | null, digits = 2) => (value === null ? '—' : value.toFixed(digits));
const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)} %`);
const seconds = (value: number | null) => (value === null ? '—' : value < 120 ? `${Math.round(value)} s` : `${(value / 60).toFixed(1)} min`);
const count = (value: number, exact: boolean) => (exact ? String(Math.round(value)) : `about ${Math.round(value)}`);

/** The report for people: one figure a line, with what it means. */
export function reportLines(r: FairnessReportView): string[] {
  const p = r.predicted;
  return [
    `${r.roomId}: the last hour (${r.windowStart.slice(11, 16)}-${r.windowEnd.slice(11, 16)} UTC), ${r.samples} visitors sampled${r.exact ? '' : ' (busy minutes sampled: counts are estimates)'}`,
    `  admitted ${count(r.admitted, r.exact)}, gave up or went silent while waiting ${count(r.abandoned, r.exact)} (abandonment ${percent(r.abandonmentRate)})`,
    `  order: Kendall tau ${fixed(r.kendallTau)}, gamma ${fixed(r.orderGamma)} (1: admitted in arrival order; tau stays a little below 1 with batched admissions)`,
    `  wait, join to admission: p50 ${seconds(r.waitP50Seconds)}, p90 ${seconds(r.waitP90Seconds)}`,
    `  estimate shown at the join, over ${p.samples} admitted: actual ÷ estimated p10 ${fixed(p.p10Ratio)}, median ${fixed(p.medianRatio)}, p90 ${fixed(p.p90Ratio)} (of ${p.ratioSamples} estimates of 10 s or more); mean error ${seconds(p.meanAbsoluteErrorSeconds)}`,
    ...(p.rangeSamples > 0 ? [`  within the range shown: ${percent(p.withinRangeShare)} of ${p.rangeSamples}`] : []),
  ];
}

export async function roomsReport(api: AdminApi, args: ParsedArgs): Promise<Outcome> {
  const roomId = roomIdOf(args, 2);
  const report = await api.request<FairnessReportView>('GET', `/admin/rooms/${roomId}/report`);
  return { json: report, lines: reportLines(report) };
}
