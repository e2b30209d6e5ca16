export const DAY_MS = 86_400_000;

/** The UTC calendar day an instant falls in, counted from the epoch. */
export function utcDayOf(at: number): number {
  return Math.floor(at / DAY_MS);
}

/** Midnight UTC at the start of the day an instant falls in. */
export function utcMidnight(at: number): number {
  return utcDayOf(at) * DAY_MS;
}
