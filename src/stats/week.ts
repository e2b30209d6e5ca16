/** The hour of the week an instant falls in, counted in UTC from Monday 00:00 (0) to Sunday 23:00 (167). */
export function hourOfWeekIndex(at: number): number {
  const date = new Date(at);
  return ((date.getUTCDay() + 6) % 7) * 24 + date.getUTCHours();
}
