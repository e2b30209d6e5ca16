import { describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { emailSettings, listedAlerts, MINUTE, MODELS, subjects, useAlertWorld } from './alert-world.js';

const ONSET = /^\[modelpulse\] nano-banana-pro OVERLOADED — \d+% of calls answer 503$/;
/** The configured default: healthy this long before the recovery mail. */
const RECOVERED_FOR = 3 * MINUTE;

async function incidents(service: Service): Promise<Array<{ startedAt: string; endedAt: string | null }>> {
  const body = (await (await fetch(`${service.url}/api/incidents`)).json()) as {
    incidents: Array<{ startedAt: string; endedAt: string | null }>;
  };
  return body.incidents.reverse();
}

describe('the recovery mail', () => {
  const begin = useAlertWorld();

  it('waits until the target has been healthy for recoveredFor, so a relapse sooner stays the same incident', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro, { recoveredForMs: RECOVERED_FOR })], {
      email: emailSettings(inbox.port),
    });
    const seen: Array<{ at: number; to: string; incidentStartedAt: number | null }> = [];
    const landed: number[] = [];
    service.pipeline.listen({
      transition: (t, incident) => seen.push({ at: t.at, to: t.to, incidentStartedAt: incident?.startedAt ?? null }),
      outcome: (o) => landed.push(o.at + o.latencyMs),
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 4 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 90_000);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 2 * MINUTE);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET)]);
    await runFor(service, w.clock, 3 * MINUTE);

    // The target did recover in between (two fast successes are enough) and relapsed 90 s later…
    expect(seen.map((c) => c.to)).toEqual(['healthy', 'overloaded', 'healthy', 'overloaded', 'healthy']);
    const [, firstOverload, , relapse, lastRecovery] = seen;
    // …within recoveredFor, so the relapse continued the first incident rather than opening a second:
    // one incident, as one episode of mails, from the first overload to the end of the relapse.
    expect(relapse!.incidentStartedAt).toBe(firstOverload!.at);
    const health = await incidents(service);
    expect(health).toHaveLength(1);
    const [incident] = health;
    expect(Date.parse(incident!.startedAt)).toBe(firstOverload!.at);
    expect(Date.parse(incident!.endedAt!)).toBe(lastRecovery!.at);
    const minutes = Math.round((Date.parse(incident!.endedAt!) - Date.parse(incident!.startedAt)) / MINUTE);
    // Both overloads and the healthy spell between: far longer than the relapse alone (about 3 min).
    expect(minutes).toBeGreaterThanOrEqual(7);
    expect(subjects(inbox.mails)).toEqual([
      expect.stringMatching(ONSET),
      expect.stringMatching(
        new RegExp(
          `^\\[modelpulse\\] nano-banana-pro RECOVERED after ${minutes} min \\(worst: OVERLOADED, \\d+% failing\\)$`,
        ),
      ),
    ]);
    // The recovery is decided once the target has been healthy and quiet for recoveredFor: never
    // sooner, and no later than the first probe outcome that shows it (outcomes are stamped with
    // their completion, a few real milliseconds past the heartbeat that started them).
    const recovered = (await listedAlerts(service)).notifications.find((n) => n.kind === 'recovered')!;
    const recoveredAt = Date.parse(recovered.createdAt);
    const dueAt = Date.parse(incident!.endedAt!) + RECOVERED_FOR;
    expect(recoveredAt).toBeGreaterThanOrEqual(dueAt);
    expect(recoveredAt).toBeLessThanOrEqual(landed.find((at) => at >= dueAt)!);
  });

  // Regression: the printed span used to end when the mail was decided, not when the target became healthy.
  it('gives the span of the episode ending when the target became healthy again', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro, { recoveredForMs: RECOVERED_FOR })], {
      email: emailSettings(inbox.port),
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 8 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 5 * MINUTE);

    const [incident] = await incidents(service);
    const utc = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    expect(inbox.mails).toHaveLength(2);
    expect(inbox.mails[1]!.text).toContain(
      `for 8 min (${utc(incident!.startedAt)} to ${utc(incident!.endedAt!)}), and has been healthy since.`,
    );
  });
});
