/** How many recent entries the local runtime keeps for inspection (status page, tests, benchmarks). */
export const RECENT_LIMIT = 10_000;

/**
 * Appends to a list kept for inspection, dropping the oldest entries past {@link RECENT_LIMIT}, so
 * an `npm run dev` left running for days does not grow without bound.
 */
export function rememberRecent<T>(list: T[], item: T, limit = RECENT_LIMIT): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}
