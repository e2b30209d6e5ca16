import type { UpcomingWindow, WeekHour } from '../health/history.js';

/** An hour of the week as the heatmap and the forecast list it. */
export function weekHourJson(hour: WeekHour) {
  return {
    samples: hour.samples,
    overloadRate: hour.samples ? hour.counts.overloaded / hour.samples : null,
    p95Ms: hour.p95Ms,
  };
}

/** `nextQuietWindow`, in /health's advice and in the forecast. */
export function quietWindowJson(window: UpcomingWindow | null) {
  if (!window) return null;
  return {
    startsAt: new Date(window.startsAt).toISOString(),
    endsAt: new Date(window.endsAt).toISOString(),
    overloadRate: window.overloadRate,
    samples: window.samples,
  };
}
