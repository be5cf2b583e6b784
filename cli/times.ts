/**
 * Times on the CLI's command line (`rooms set --start TIME`): an ISO 8601 date-time with a zone, as
 * the admin API takes it (`2026-12-05T10:00:00Z`, `2026-12-05T11:00+01:00`), or a time from now
 * (`+30s`, `+10m`, `+2h`, `+1d`, `+1h30m`, or `now`). The CLI sends every time as UTC ISO.
 */
import { CliError, EXIT } from './errors.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;
const FROM_NOW = /^\+(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;
const UNIT_MS = [86_400_000, 3_600_000, 60_000, 1_000] as const;

const badTime = (name: string, text: string, why = '') =>
  new CliError(`--${name} must be an ISO date-time with a zone (2026-12-05T10:00:00Z, 2026-12-05T11:00:00+01:00) or a time from now (+30s, +10m, +2h, +1d, +1h30m, now)${why} (got ${text})`, EXIT.usage);

/** The time `text` names, in epoch milliseconds (`now` for the relative forms); a CliError naming --`name` when it names none. */
export function parseTime(text: string, name: string, now: number): number {
  const value = text.trim();
  if (value.toLowerCase() === 'now') return now;
  const relative = FROM_NOW.exec(value);
  if (relative) {
    if (value === '+') throw badTime(name, text);
    return now + relative.slice(1).reduce((sum, part, i) => sum + (part === undefined ? 0 : Number(part) * UNIT_MS[i]!), 0);
  }
  const iso = ISO.exec(value);
  if (!iso) throw badTime(name, text, /^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value) ? ': give its zone, Z for UTC' : '');
  const [, year, month, day, hour, minute, second = '0', fraction = '', zone = 'Z'] = iso;
  const fields = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const utc = Date.UTC(...fields);
  // Date.UTC rolls 31 April over to 1 May: a field out of range shows as a different date back.
  const back = new Date(utc);
  if (back.getUTCMonth() !== fields[1] || back.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) throw badTime(name, text, ': no such date or time');
  const offset = zone.toUpperCase() === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return utc + Math.floor(Number(`0.${fraction || '0'}`) * 1_000) - offset;
}

/** A time as the CLI prints it and sends it: UTC ISO, without milliseconds when there are none. */
export const isoOf = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** How long until a time, for people: `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function durationText(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}
