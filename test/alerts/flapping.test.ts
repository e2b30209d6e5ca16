import { describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import {
  emailSettings,
  listedAlerts,
  MINUTE,
  MODELS,
  subjects,
  useAlertWorld,
  type AlertWorld,
} from './alert-world.js';

const ONSET = /^\[modelpulse\] nano-banana-pro OVERLOADED — \d+% of calls answer 503$/;
const FLAPPING =
  '[modelpulse] nano-banana-pro FLAPPING — changing state repeatedly; per-change mails held until it settles';
/** The configured default: healthy this long before a recovery mail. */
const RECOVERED_FOR = 3 * MINUTE;

/** Alternates runs of 503s and successes; each phase is long enough for the state to follow. */
async function flap(w: AlertWorld, service: Service, cycles: number, busyMs: number, calmMs: number): Promise<void> {
  for (let i = 0; i < cycles; i++) {
    w.upstream.set('overloaded');
    await runFor(service, w.clock, busyMs);
    w.upstream.set('ok');
    await runFor(service, w.clock, calmMs);
  }
}

async function incidentSpans(service: Service): Promise<Array<{ startedAt: number; endedAt: number | null }>> {
  const body = (await (await fetch(`${service.url}/api/incidents?limit=100`)).json()) as {
    incidents: Array<{ startedAt: string; endedAt: string | null }>;
  };
  return body.incidents.map((i) => ({
    startedAt: Date.parse(i.startedAt),
    endedAt: i.endedAt === null ? null : Date.parse(i.endedAt),
  }));
}

async function incidentStarts(service: Service): Promise<number[]> {
  return (await incidentSpans(service)).map((i) => i.startedAt);
}

/** Every state change the health engine announces from now on, as it happens. */
function stateChanges(service: Service): Array<{ at: number; from: string; to: string }> {
  const changes: Array<{ at: number; from: string; to: string }> = [];
  service.pipeline.listen({ transition: (t) => changes.push({ at: t.at, from: t.from, to: t.to }) });
  return changes;
}

// Over an hour of simulated heartbeats per test.
describe('a flapping target', { timeout: 60_000 }, () => {
  const begin = useAlertWorld();

  it('sends one onset, one FLAPPING notice and one settled summary for 40 minutes of flips, not a mail per flip', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro, { recoveredForMs: RECOVERED_FOR })], {
      email: emailSettings(inbox.port),
    });
    const seen = stateChanges(service);
    await runFor(service, w.clock, 5 * MINUTE);
    await flap(w, service, 14, 90_000, 90_000);
    await runFor(service, w.clock, 25 * MINUTE);

    // The health engine followed every flip: 14 overloads, each ended by a return to healthy…
    const overloads = seen.filter((c) => c.from === 'healthy' && c.to === 'overloaded');
    const recoveries = seen.filter((c) => c.from === 'overloaded' && c.to === 'healthy');
    expect(overloads).toHaveLength(14);
    expect(recoveries).toHaveLength(14);
    // …but each calm spell (90 s) was shorter than recoveredFor, so every relapse continued the same
    // incident: one, from the first overload to the last return to healthy, closed by the calm after.
    expect(await incidentSpans(service)).toEqual([{ startedAt: overloads[0]!.at, endedAt: recoveries[13]!.at }]);
    expect(subjects(inbox.mails)).toEqual([
      expect.stringMatching(ONSET),
      FLAPPING,
      expect.stringMatching(
        /^\[modelpulse\] nano-banana-pro settled HEALTHY after flapping for \d+ min \(\d+ changes\)$/,
      ),
    ]);
    expect(inbox.mails[1]!.text).toContain('Per-change mails are held until it settles; one summary will follow.');
    expect(inbox.mails[2]!.text).toMatch(
      /nano-banana-pro \(gemini-3-pro-image-preview\) has settled as HEALTHY after flapping for \d+ min with \d+ state changes\./,
    );
    const changes = Number(/\((\d+) changes\)/.exec(inbox.mails[2]!.subject ?? '')![1]);
    expect(changes).toBeGreaterThanOrEqual(10);
  });

  it('once flapping, holds the onset and recovery that each flip would otherwise send until the summary', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    // Recovery mails at once: every 2-min flip is long enough to be mailed on its own.
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro, { recoveredForMs: 0 })], {
      email: emailSettings(inbox.port),
    });
    await runFor(service, w.clock, 5 * MINUTE);
    await flap(w, service, 12, 2 * MINUTE, 2 * MINUTE);
    await runFor(service, w.clock, 25 * MINUTE);

    const all = subjects(inbox.mails);
    const flappingAt = all.indexOf(FLAPPING);
    expect(flappingAt).toBeGreaterThan(0);
    // Before the flap window (21 one-minute samples) is full, each flip is an ordinary incident.
    expect(all.slice(0, flappingAt).every((s) => /OVERLOADED —|RECOVERED after/.test(s))).toBe(true);
    expect(all.slice(flappingAt + 1)).toEqual([
      expect.stringMatching(/^\[modelpulse\] nano-banana-pro settled HEALTHY after flapping/),
    ]);

    const notices = (await listedAlerts(service)).notifications;
    const flappingCreated = Date.parse(notices.find((n) => n.kind === 'flapping')!.createdAt);
    const flipsHeld = (await incidentStarts(service)).filter((at) => at > flappingCreated);
    expect(flipsHeld.length).toBeGreaterThanOrEqual(6);
    expect(notices.filter((n) => Date.parse(n.createdAt) > flappingCreated).map((n) => n.kind)).toEqual([
      'flapping_ended',
    ]);
  });

  it('settling into an overload says so, and the recovery still follows when it ends', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro, { recoveredForMs: RECOVERED_FOR })], {
      email: emailSettings(inbox.port),
    });
    await runFor(service, w.clock, 5 * MINUTE);
    await flap(w, service, 14, 90_000, 90_000);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 25 * MINUTE);
    expect(subjects(inbox.mails).slice(1)).toEqual([
      FLAPPING,
      expect.stringMatching(/^\[modelpulse\] nano-banana-pro settled OVERLOADED after flapping for \d+ min/),
    ]);

    w.upstream.set('ok');
    await runFor(service, w.clock, RECOVERED_FOR + 2 * MINUTE);
    expect(subjects(inbox.mails)).toHaveLength(4);
    // One episode from the first onset, through the flapping and the settled overload.
    expect(inbox.mails[3]!.subject).toMatch(
      /^\[modelpulse\] nano-banana-pro RECOVERED after 1 h \d+ min \(worst: OVERLOADED, 100% failing\)$/,
    );
  });
});
