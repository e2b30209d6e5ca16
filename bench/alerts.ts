import type { Notifier } from '../src/alerts/notifiers/notifier.js';
import { renderMail } from '../src/alerts/render.js';
import { advance, T0, withService } from './detection.js';
import type { Figure } from './store.js';

const HOUR = 3_600_000;
const quiet = (start: string, duration: string) => ({
  start,
  duration,
  p503: 0.01,
  p429: 0,
  latency: { median: '12s', p95: '25s' },
});
const overload = (start: string, duration: string) => ({
  start,
  duration,
  p503: 0.9,
  p429: 0.03,
  latency: { median: '60s', p95: '100s' },
});
const hard = (start: string, duration: string) => ({
  start,
  duration,
  p503: 1,
  p429: 0,
  latency: { median: '60s', p95: '100s' },
});
const calm = (start: string, duration: string) => ({
  start,
  duration,
  p503: 0,
  p429: 0,
  latency: { median: '12s', p95: '25s' },
});

/** 24 h at 10 s probes: three overloads (20, 45 and 30 min) and one hour flipping every 2 minutes. */
function dayWithIncidents() {
  const flapping = Array.from({ length: 15 }, (_, i) => {
    const start = 13 * 60 + i * 4;
    return [hard(`${start}m`, '2m'), calm(`${start + 2}m`, '2m')];
  }).flat();
  return {
    loop: false,
    segments: [
      quiet('0h', '3h'),
      overload('180m', '20m'),
      quiet('200m', '280m'),
      overload('480m', '45m'),
      quiet('525m', '255m'),
      ...flapping,
      quiet('14h', '5h'),
      overload('1140m', '30m'),
      quiet('1170m', '270m'),
    ],
  };
}

/** How many mails the on-call engineer gets for that day, through the real rules, outbox and grouping. */
export async function alertBenchmarks(): Promise<Figure[]> {
  const subjects: string[] = [];
  const capture: Notifier = {
    channel: 'email',
    async send(notices) {
      const mail = renderMail(notices, { dashboardUrl: null, demo: false });
      subjects.push(`${new Date(notices[0]!.draft.at).toISOString().slice(11, 16)} ${mail.subject}`);
      return { deliveryId: String(subjects.length), subject: mail.subject, response: 'captured' };
    },
  };
  await withService(
    dayWithIncidents(),
    31,
    (service, clock) => advance(service, clock, T0 + 24 * HOUR + 10 * 60_000, () => undefined),
    {
      alerts: true,
      notifiers: [capture],
    },
  );
  if (process.env.MODELPULSE_BENCH_VERBOSE) for (const subject of subjects) process.stdout.write(`  ${subject}\n`);
  return [
    {
      name: `alert mails for 24 h with three overloads and one flapping hour (${subjects.map((s) => s.replace(/^(\d\d:\d\d) \[modelpulse\] pro /, '$1 ').replace(/ —.*| \(.*/, '')).join('; ')})`,
      value: subjects.length,
      unit: 'mails',
      goal: 'no mail per flip: 3 onsets + 3 recoveries, and for the flapping hour its onset, one flapping notice and one summary = 9',
    },
  ];
}
