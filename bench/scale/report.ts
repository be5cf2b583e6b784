/**
 * The report of `npm run bench:scale`: readable tables, then the figures as one JSON object on
 * the last line. Everything here is presentation: the numbers come from the scenarios.
 */
import { byService, scaled, totalUsd, type CostLine } from './costs.js';
import { Tally, type Cause } from './meter.js';
import { PARTITION_LIMITS, type PartitionRecord } from './partitions.js';
import { PRICES, PRICES_CHECKED } from './prices.js';
import { ROUTES } from './model-api.js';
import type { DropJobResult, OthersJobResult } from './worker.js';

export const TARGETS = {
  joinsPerSecondPerRoom: 25_000,
  admissionsPerSecondPerRoom: 1_000,
  waitingBackendRequestsPerSecondAt1M: 5_000,
  costPer1MVisitorsUsd: 300,
  idleCostPerMonthUsd: 5,
  silentSeatFreedAfterLastHeartbeatP99Seconds: 21,
} as const;

const n = (value: number, digits = 0): string =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : String(value);
const usd = (value: number, digits = 2): string => `$${n(value, digits)}`;
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** A plain-text table: columns padded to their widest cell, numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? n(c) : c)))];
  const widths = headers.map((_h, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_h, i) => rows.every((r) => typeof r[i] === 'number' || /^[-$0-9.,%]+( s)?$/.test(String(r[i] ?? ''))));
  const line = (r: string[]) => r.map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function partitionRows(records: readonly PartitionRecord[], limit = 8): (string | number)[][] {
  return records.slice(0, limit).map((r) => [
    r.partition,
    n(r.maxRead, 1),
    `${r.maxReadSecond} s`,
    n(r.maxWrite, 1),
    `${r.maxWriteSecond} s`,
    r.secondsOverRead + r.secondsOverWrite > 0 ? `${r.secondsOverRead} / ${r.secondsOverWrite}` : '-',
  ]);
}

const PARTITION_HEADERS = ['partition (table or index / key)', 'max RRU/s', 'at', 'max WRU/s', 'at', 's over R / W'];

export interface Figures {
  quick: boolean;
  dropVisitors: number;
  joinsPerSecondPerRoom: number;
  joinsLimitedBy: string;
  admissionsPerSecondPerRoom: number;
  /** The busiest few partitions over their limits while admitting, and how many in all. */
  admissionsPartitionsOver: string[];
  admissionsPartitionsOverCount: number;
  maxPartitionWriteUnitsPerSecond: number;
  maxPartitionWritePartition: string;
  maxPartitionReadUnitsPerSecond: number;
  maxPartitionReadPartition: string;
  waitingBackendRequestsPerSecondAt1M: number;
  waitingBackendRequestsPeakPerSecondAt1M: number;
  waitingDynamoOpsPerSecondAt1M: number;
  admittedBackendRequestsPerSecond: number;
  apiRequestsPerVisitor: number;
  dynamoUnitsPerVisitor: number;
  costPer1MVisitorsUsd: number;
  idleCostPerMonthUsd: number;
  silentSeatFreedAfterLastHeartbeatP99Seconds: number;
  ticketGapFraction: number;
  visitorsEvictedWhileFollowingProtocol: number;
}

export function figuresOf(dropJob: DropJobResult, others: OthersJobResult, quick: boolean): Figures {
  const { drop } = dropJob;
  const cost = others.costProfile;
  const perVisitor = 1 / cost.visitorsInWindow;
  const costTally = Tally.from(cost.counts);
  let apiRequests = 0;
  for (const v of costTally.withPrefix('api.req.').values()) apiRequests += v;
  return {
    quick,
    dropVisitors: drop.options.visitors,
    joinsPerSecondPerRoom: others.joins.joinsPerSecondPerRoom,
    joinsLimitedBy: limitedBy(others.joins.limitedBy?.over),
    admissionsPerSecondPerRoom: Math.round(others.admissions.admissionsPerSecondPerRoom),
    admissionsPartitionsOver: others.admissions.over.slice(0, 3).map((o) => o.partition),
    admissionsPartitionsOverCount: others.admissions.over.length,
    maxPartitionWriteUnitsPerSecond: drop.maxWrite.units,
    maxPartitionWritePartition: drop.maxWrite.partition,
    maxPartitionReadUnitsPerSecond: drop.maxRead.units,
    maxPartitionReadPartition: drop.maxRead.partition,
    waitingBackendRequestsPerSecondAt1M: Math.round(drop.backend.waiting.mean),
    waitingBackendRequestsPeakPerSecondAt1M: drop.backend.waiting.peak,
    waitingDynamoOpsPerSecondAt1M: Math.round(drop.dynamoOps.waiting.mean),
    admittedBackendRequestsPerSecond: Math.round(drop.backend.admitted.mean),
    apiRequestsPerVisitor: round(apiRequests * perVisitor, 1),
    dynamoUnitsPerVisitor: round((costTally.get('ddb.rru') + costTally.get('ddb.wru')) * perVisitor, 1),
    costPer1MVisitorsUsd: round(totalUsd(cost.lines) * perVisitor * 1e6, 2),
    idleCostPerMonthUsd: round(others.idle.totalUsd, 2),
    silentSeatFreedAfterLastHeartbeatP99Seconds: round(drop.silentSeat.p99, 2),
    ticketGapFraction: round(drop.ticketGapFraction, 3),
    visitorsEvictedWhileFollowingProtocol: drop.lost,
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** The partitions that stopped a rung, briefly: the first two and how many more. */
function limitedBy(over: readonly PartitionRecord[] | undefined): string {
  if (!over || over.length === 0) return 'none within the ladder';
  const named = over.slice(0, 2).map((o) => `${o.partition} (${n(Math.max(o.maxRead, o.maxWrite))} units/s)`);
  return over.length > 2 ? `${named.join(', ')} and ${over.length - 2} more` : named.join(', ');
}

export function report(dropJob: DropJobResult, others: OthersJobResult, figures: Figures, wallSeconds: number): string {
  const { drop } = dropJob;
  const out: string[] = [];
  const section = (title: string) => out.push('', `## ${title}`, '');
  const dropScale = figures.quick ? ` (--quick: ${n(drop.options.visitors)} visitors, capacity ${n(drop.options.capacity)}; the "At1M" figures are for this size)` : '';

  out.push(`# Scale model of the waiting room · ${figures.quick ? 'quick run' : 'full run'} · ${n(wallSeconds)} s · prices of ${PRICES_CHECKED} (us-east-1 list, prices.ts)`);

  section('Targets (issue 8)');
  const noPartitionOver = drop.partitions.every((r) => r.secondsOverRead + r.secondsOverWrite === 0);
  out.push(
    table(
      ['target', 'measured', 'wanted', ''],
      [
        ['joins/s per room, no partition over its limit', n(figures.joinsPerSecondPerRoom), `>= ${n(TARGETS.joinsPerSecondPerRoom)}`, verdict(figures.joinsPerSecondPerRoom >= TARGETS.joinsPerSecondPerRoom)],
        [
          'admissions/s per room, no partition over its limit',
          n(figures.admissionsPerSecondPerRoom),
          `>= ${n(TARGETS.admissionsPerSecondPerRoom)}`,
          verdict(figures.admissionsPerSecondPerRoom >= TARGETS.admissionsPerSecondPerRoom && figures.admissionsPartitionsOverCount === 0),
        ],
        [
          `waiting backend requests/s, drop plateau, mean${dropScale ? ' (scaled)' : ''}`,
          n(figures.waitingBackendRequestsPerSecondAt1M),
          `<= ${n(TARGETS.waitingBackendRequestsPerSecondAt1M)}`,
          verdict(figures.waitingBackendRequestsPerSecondAt1M <= TARGETS.waitingBackendRequestsPerSecondAt1M),
        ],
        [
          `waiting backend requests/s, drop plateau, busiest second`,
          n(figures.waitingBackendRequestsPeakPerSecondAt1M),
          `<= ${n(TARGETS.waitingBackendRequestsPerSecondAt1M)}`,
          verdict(figures.waitingBackendRequestsPeakPerSecondAt1M <= TARGETS.waitingBackendRequestsPerSecondAt1M),
        ],
        ['no partition over its limit during the drop', noPartitionOver ? 'none over' : `${drop.partitions.filter((r) => r.secondsOverRead + r.secondsOverWrite > 0).length} over`, 'none', verdict(noPartitionOver)],
        ['cost per 1M visitors (10 min waiting, 10 min admitted)', usd(figures.costPer1MVisitorsUsd), `<= ${usd(TARGETS.costPer1MVisitorsUsd, 0)}`, verdict(figures.costPer1MVisitorsUsd <= TARGETS.costPer1MVisitorsUsd)],
        ['idle month, one room', usd(figures.idleCostPerMonthUsd), `<= ${usd(TARGETS.idleCostPerMonthUsd, 0)}`, verdict(figures.idleCostPerMonthUsd <= TARGETS.idleCostPerMonthUsd)],
        [
          'silent admitted seat freed after the last heartbeat, p99',
          `${n(figures.silentSeatFreedAfterLastHeartbeatP99Seconds, 2)} s`,
          `<= ${TARGETS.silentSeatFreedAfterLastHeartbeatP99Seconds} s`,
          verdict(figures.silentSeatFreedAfterLastHeartbeatP99Seconds <= TARGETS.silentSeatFreedAfterLastHeartbeatP99Seconds),
        ],
        ['visitors following the protocol who were evicted anyway (invariant 4)', n(figures.visitorsEvictedWhileFollowingProtocol), '0', verdict(figures.visitorsEvictedWhileFollowingProtocol === 0)],
      ],
    ),
  );

  section(`(a) Drop: ${n(drop.options.visitors)} visitors in 50 s (peak ${n(drop.peakJoinsPerSecond)}/s), capacity ${n(drop.options.capacity)}, full when it begins${dropScale}`);
  const w = drop.options.window;
  const windowSeconds = (w.toMs - w.fromMs) / 1000;
  out.push(`Plateau: ${w.fromMs / 1000}-${w.toMs / 1000} s after the drop began (one full 900 s check hop); ${n(drop.waitingAtWindowEnd)} tokens waiting at its end (abandoned ones included until evicted).`);
  out.push('A backend request is an API request that reaches a function (status: only the origin fetches behind CloudFront) or one check message processed; the edge cache\'s hits and the preflights API Gateway answers itself are not.');
  out.push('');
  const causes: Cause[] = ['waiting', 'admitted', 'join', 'system'];
  out.push(
    table(
      ['per second, plateau', ...causes.map((c) => `${c} mean`), ...causes.map((c) => `${c} peak`)],
      [
        ['backend requests', ...causes.map((c) => n(drop.backend[c].mean, 1)), ...causes.map((c) => n(drop.backend[c].peak))],
        ['DynamoDB operations', ...causes.map((c) => n(drop.dynamoOps[c].mean, 1)), ...causes.map((c) => n(drop.dynamoOps[c].peak))],
      ],
    ),
  );
  out.push('');
  out.push(
    `busiest second for waiting visitors: ${drop.backend.waiting.peakSecond} s after the drop began (every visitor joined within 50 s: whatever a page or a check loop does at a fixed delay after the join comes back as a wave).`,
  );
  const wc = Tally.from(drop.windowCounts);
  const perS = (key: string) => n(wc.get(key) / windowSeconds, 1);
  out.push('');
  out.push(
    table(
      ['plateau, per second', 'mean'],
      [
        ['keep-place signals', perS(`api.req.${ROUTES.keepPlace}`)],
        ['heartbeats (front zone and admitted)', perS(`api.req.${ROUTES.heartbeat}`)],
        ['checks of waiting tokens', perS('checks.waiting')],
        ['checks of admitted tokens', perS('checks.admitted')],
        ['status: CloudFront requests', perS('cf.requests')],
        ['status: origin fetches (Origin Shield: at most 1/s)', perS('cf.originFetches')],
        ['leaves', perS(`api.req.${ROUTES.leave}`)],
        ['admissions (by the admitter / by a visitor itself)', `${perS('admissions.lease')} / ${perS('admissions.self')}`],
        ['evictions of silent tokens (waiting / admitted)', `${perS('visitors.removed.silent.WAITING')} / ${perS('visitors.removed.silent.ADMITTED')}`],
        ['DynamoDB read / write units', `${perS('ddb.rru')} / ${perS('ddb.wru')}`],
      ],
    ),
  );
  out.push('');
  out.push(`Partitions (whole run; seconds counted from the drop's start; the room's seats were filled in the 600 s before it):`);
  out.push(table(PARTITION_HEADERS, partitionRows(drop.partitions)));
  out.push(`limits: ${n(PARTITION_LIMITS.readUnitsPerSecond)} RRU/s and ${n(PARTITION_LIMITS.writeUnitsPerSecond)} WRU/s per partition key; the model does not throttle, it reports.`);
  out.push('');
  const envs = Object.entries(drop.environments).filter(([, e]) => e.created > 0);
  const total = Tally.from(drop.totalCounts);
  out.push(
    table(
      ['function', 'environments', 'peak concurrency', 'invocations', 'throttled (waited)', 'GB-s'],
      envs.map(([name, e]) => [
        name,
        e.created,
        e.peakConcurrency,
        total.get(`lambda.${name}.invocations`),
        total.get(`lambda.${name}.throttled`) > 0 ? `${n(total.get(`lambda.${name}.throttled`))} (${n(total.get(`lambda.${name}.throttledMs`) / 1000, 0)} s)` : '-',
        n((total.get(`lambda.${name}.billedMs`) / 1000) * 0.5),
      ]),
    ),
  );
  out.push('');
  out.push(
    `ticket gap: ${n(100 * drop.ticketGapFraction, 1)} % of the numbers reserved in blocks were never used · stream shards ${drop.streamShards} · checker pollers at most ${drop.peakCheckPollers} · room-item transaction conflicts ${n(drop.transactionConflicts)}`,
  );
  out.push(
    `silent seats (${n(drop.silentSeat.count)} admitted visitors went silent during the drop): freed ${n(drop.silentSeat.p50, 2)} s (p50), ${n(drop.silentSeat.p99, 2)} s (p99), ${n(drop.silentSeat.max, 2)} s (max) after the last heartbeat`,
  );

  section('Drop into an EMPTY room (every seat free when it begins): the first 60 s');
  out.push(
    table(
      ['visitors', 'capacity', 'admitted (lease / self)', 'Query/join', 'token RRU/join', 'all RRU/join', 'busiest read partition', 'RRU/s', 'busiest write partition', 'WRU/s', 'over', 'seats full after', 'conflicts'],
      others.dropStart.map((d) => [
        d.visitors,
        d.capacity,
        `${n(d.admittedInRun)} (${n(d.byLease)} / ${n(d.bySelf)})`,
        n(d.queriesPerJoin, 1),
        n(d.tokenReadUnitsPerJoin, 1),
        n(d.readUnitsPerJoin, 1),
        d.maxRead.partition,
        n(d.maxRead.units),
        d.maxWrite.partition,
        n(d.maxWrite.units),
        d.partitionsOver,
        d.secondsToFill === undefined ? 'not in 60 s' : `${d.secondsToFill} s`,
        d.transactionConflicts,
      ]),
    ),
  );
  out.push('Reads per join count every read made in the first 60 s (joins, heartbeats, admitters, checks) divided by the joins.');

  const cost = others.costProfile;
  const perVisitor = 1 / cost.visitorsInWindow;
  const ct = Tally.from(cost.counts);
  section(`(b) Cost profile: 10 min waiting, 10 min admitted; capacity ${n(cost.options.capacity)}, ${n(cost.arrivalsPerSecond, 1)} arrivals/s (1M visitors take ${n(1e6 / cost.arrivalsPerSecond / 3600, 1)} h)`);
  out.push(`priced window: ${n(cost.windowSeconds)} s, ${n(cost.visitorsInWindow)} visitors joined in it; mean wait of those admitted in it ${n(cost.meanWaitSeconds)} s; ${cost.lost} lost.`);
  out.push('');
  const perVisitorRows: (string | number)[][] = [];
  for (const [route, count] of ct.withPrefix('api.req.')) perVisitorRows.push([`API ${route}`, n(count * perVisitor, 2)]);
  for (const [command, count] of ct.withPrefix('ddb.cmd.')) perVisitorRows.push([`DynamoDB ${command}`, n(count * perVisitor, 2)]);
  perVisitorRows.push(['DynamoDB read units / write units', `${n(ct.get('ddb.rru') * perVisitor, 1)} / ${n(ct.get('ddb.wru') * perVisitor, 1)}`]);
  for (const [action, count] of ct.withPrefix('sqs.')) perVisitorRows.push([`SQS ${action}`, n(count * perVisitor, 2)]);
  perVisitorRows.push(['CloudFront status requests', n(ct.get('cf.requests') * perVisitor, 1)]);
  let invocations = 0;
  for (const [key, v] of ct.withPrefix('lambda.')) if (key.endsWith('.invocations')) invocations += v;
  perVisitorRows.push(['Lambda invocations', n(invocations * perVisitor, 1)]);
  out.push(table(['per visitor', 'count'], perVisitorRows));
  out.push('');
  const perMillion: CostLine[] = scaled(cost.lines, perVisitor * 1e6);
  out.push(
    table(
      ['per 1M visitors', 'item', 'quantity', 'unit', 'USD'],
      perMillion.filter((l) => l.usd >= 0.005).map((l) => [l.service, l.item, n(l.quantity, l.quantity < 100 ? 2 : 0), l.unit, usd(l.usd)]),
    ),
  );
  out.push('');
  out.push(table(['service', 'USD per 1M visitors'], [...byService(perMillion).map((s) => [s.service, usd(s.usd)]), ['total', usd(totalUsd(perMillion))]]));
  out.push(
    'Assumes the token routes go straight to API Gateway (data out at its $0.09/GB) and only the status goes through CloudFront; a page on another origin (CORS preflights, cached 2 h: one per route per visitor).',
  );

  section('(c) Idle month, one room (lib/waiting-room.ts header, priced)');
  out.push(table(['line item', 'quantity', 'unit', 'USD/month'], others.idle.lines.map((l) => [l.item, n(l.quantity, l.quantity < 100 ? 3 : 0), l.unit, usd(l.usd, 3)])));
  out.push(`total ${usd(others.idle.totalUsd)} a month (the header says about $1.90).`);

  section('Ceilings of one room');
  out.push(
    table(
      ['joins/s (ramp, then held)', 'stream shards', 'result', 'busiest partition', 'max RRU/s', 'max WRU/s', 'over its limit'],
      others.joins.rungs.map((r) => [
        r.joinsPerSecond,
        r.streamShards,
        r.passed ? 'pass' : 'FAIL',
        r.busiest?.partition ?? '-',
        n(r.busiest?.maxRead ?? 0),
        n(r.busiest?.maxWrite ?? 0),
        r.over.length === 0 ? '-' : limitedBy(r.over),
      ]),
    ),
  );
  const adm = others.admissions;
  out.push('');
  out.push(
    `admissions: ${n(adm.admissionsPerSecondPerRoom)}/s over ${adm.measuredSeconds} s (busiest second ${n(adm.peakAdmissionsPerSecond)}), ${n(adm.admitted)} admitted: ${n(adm.byLease)} by the admitter under its lease, ${n(adm.bySelf)} by the visitors' own heartbeats; ${n(adm.transactionConflicts)} transaction conflicts, ${n(adm.leaseRefusals)} fills found the lease taken.`,
  );
  out.push(
    adm.over.length > 0
      ? `${adm.over.length} partitions over their limits meanwhile, the busiest: ${adm.over
          .slice(0, 6)
          .map((o) => `${o.partition} (${n(o.maxRead)} RRU/s, ${n(o.maxWrite)} WRU/s)`)
          .join(', ')}`
      : 'no partition over its limit meanwhile.',
  );

  section('Prices used (prices.ts)');
  out.push(table(['price', 'USD', 'per', 'source'], Object.entries(PRICES).map(([name, p]) => [name, String(Number(p.usd.toPrecision(6))), p.per, p.source])));
  out.push('');
  return out.join('\n');
}
