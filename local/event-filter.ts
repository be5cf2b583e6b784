/**
 * Lambda event filtering (the patterns of an event source mapping's FilterCriteria), for the
 * subset of the pattern syntax this project uses: exact values, prefix, exists, anything-but and
 * numeric comparisons, nested objects. An unsupported pattern is an error, not a silent pass.
 */
type Pattern = Record<string, unknown>;

function matchesValue(actual: unknown, rule: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return actual === rule;
  const [operator, operand] = Object.entries(rule as Record<string, unknown>)[0] ?? [];
  switch (operator) {
    case 'prefix':
      return typeof actual === 'string' && actual.startsWith(String(operand));
    case 'exists':
      return (actual !== undefined) === Boolean(operand);
    case 'anything-but':
      return actual !== undefined && !([] as unknown[]).concat(operand).includes(actual);
    case 'numeric': {
      if (typeof actual !== 'number') return false;
      const terms = operand as (string | number)[];
      for (let i = 0; i < terms.length; i += 2) {
        const [op, bound] = [String(terms[i]), Number(terms[i + 1])];
        const ok = { '=': actual === bound, '<': actual < bound, '<=': actual <= bound, '>': actual > bound, '>=': actual >= bound }[op];
        if (ok === undefined) throw new Error(`unsupported numeric operator ${op} in an event filter`);
        if (!ok) return false;
      }
      return true;
    }
    default:
      throw new Error(`unsupported event filter rule ${JSON.stringify(rule)}`);
  }
}

export function matchesPattern(event: unknown, pattern: Pattern): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const actual = event !== null && typeof event === 'object' ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) {
      const values = Array.isArray(actual) ? actual : [actual];
      const anyMatch = rule.some((r) => {
        if (r !== null && typeof r === 'object' && 'exists' in r) return matchesValue(actual, r);
        return values.some((v) => matchesValue(v, r));
      });
      if (!anyMatch) return false;
    } else if (rule !== null && typeof rule === 'object') {
      if (!matchesPattern(actual, rule as Pattern)) return false;
    } else {
      throw new Error(`event filter values must be arrays or objects (got ${JSON.stringify(rule)} for ${key})`);
    }
  }
  return true;
}

/** True when the record passes any of the mapping's filters (or there are none). */
export function passesFilters(record: unknown, filters: { Pattern: string }[] | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  return filters.some((f) => matchesPattern(record, JSON.parse(f.Pattern) as Pattern));
}
