import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { emailSettings, listedAlerts, MINUTE, MODELS, subjects, useAlertWorld } from './alert-world.js';

const ONSET = /^\[modelpulse\] nano-banana-pro OVERLOADED — \d+% of calls answer 503$/;
const RECOVERY = /^\[modelpulse\] nano-banana-pro RECOVERED after \d+ min/;
/**
 * A reminder `minutes` into the episode, naming the overload by its share of 503s. The share is the
 * episode's learned share (its nominal 83 % prior fades as 503s accumulate), so an all-503 episode
 * reads 90–99 %, never below.
 */
const still = (minutes: number) =>
  expect.stringMatching(
    new RegExp(
      `^\\[modelpulse\\] nano-banana-pro STILL OVERLOADED after ${minutes} min — (9\\d|100)% of calls answer 503$`,
    ),
  );

describe('reminders while an incident goes on', { timeout: 40_000 }, () => {
  const begin = useAlertWorld();

  it('reminds every 5 min through 17 min of overload: three reminders between the onset and the recovery', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start(
      [w.target('nano-banana-pro', MODELS.pro, { minimumReminderIntervalMs: 5 * MINUTE })],
      { email: emailSettings(inbox.port) },
    );
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 17 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    // Overloaded from about 13:02:06; onset at 13:03:06, then each 5 min after the last mail.
    expect(subjects(inbox.mails)).toEqual([
      expect.stringMatching(ONSET),
      still(6),
      still(11),
      still(16),
      expect.stringMatching(RECOVERY),
    ]);
    expect(inbox.mails[1]!.text).toMatch(/episode started:\s+2026-11-25 13:02:\d\d UTC/);
    const created = (await listedAlerts(service)).notifications
      .filter((n) => n.kind === 'overloaded' || n.kind === 'reminder')
      .map((n) => Date.parse(n.createdAt))
      .reverse();
    // Each reminder is due 5 min after the last mail and decided at the first heartbeat (whole
    // seconds) or probe outcome from then on; outcomes are stamped with their completion, a few real
    // milliseconds past the heartbeat that started them, so "5 min" is 5 min to within a heartbeat.
    const gaps = created.slice(1).map((at, i) => at - created[i]!);
    expect(gaps).toHaveLength(3);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(5 * MINUTE);
      expect(gap).toBeLessThan(5 * MINUTE + 1_000);
    }
  });

  it('sends no reminder when the interval is off, however long the overload lasts', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro, { minimumReminderIntervalMs: 0 })], {
      email: emailSettings(inbox.port),
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 25 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([
      expect.stringMatching(ONSET),
      expect.stringMatching(/RECOVERED after 25 min/),
    ]);
  });

  it('stops reminding once the target has recovered', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const service = await w.start(
      [w.target('nano-banana-pro', MODELS.pro, { minimumReminderIntervalMs: 5 * MINUTE })],
      { email: emailSettings(inbox.port) },
    );
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 8 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 20 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([
      expect.stringMatching(ONSET),
      expect.stringMatching(/STILL OVERLOADED after 6 min/),
      expect.stringMatching(RECOVERY),
    ]);
  });
});
