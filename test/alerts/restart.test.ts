import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import {
  emailSettings,
  freePort,
  listedAlerts,
  MINUTE,
  MODELS,
  subjects,
  tally,
  useAlertWorld,
} from './alert-world.js';

const ONSET = /^\[modelpulse\] nano-banana-pro OVERLOADED — \d+% of calls answer 503$/;
const RECOVERY = /^\[modelpulse\] nano-banana-pro RECOVERED after \d+ min/;
const REMINDER = /^\[modelpulse\] nano-banana-pro STILL OVERLOADED after \d+ min/;

describe('alerts across a restart on the same database', () => {
  const begin = useAlertWorld();

  it('sends no second onset after a restart mid-incident, and the recovery still arrives, covering the whole episode', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const targets = [w.target('nano-banana-pro', MODELS.pro)];
    const first = await w.start(targets, { email: emailSettings(inbox.port) });
    await runFor(first, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(first, w.clock, 3 * MINUTE);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET)]);
    await first.close();

    w.clock.now += MINUTE;
    const second = await w.start(targets, { email: emailSettings(inbox.port) });
    await runFor(second, w.clock, 4 * MINUTE);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET)]);
    w.upstream.set('ok');
    await runFor(second, w.clock, 3 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET), expect.stringMatching(RECOVERY)]);
    expect(Object.values(tally(inbox.mails.map((m) => m.messageId)))).toEqual([1, 1]);
    // Overloaded from about 13:02:06 to about 13:10:03 (two fast successes after the 503s stop at
    // 13:10), across the minute the service was away.
    expect(inbox.mails[1]!.subject).toMatch(/RECOVERED after 8 min/);
    expect(inbox.mails[1]!.text).toMatch(/2026-11-25 13:02:\d\d UTC to 2026-11-25 13:10:\d\d UTC/);
    const listed = (await listedAlerts(second)).notifications;
    expect(listed.map((n) => [n.kind, n.status])).toEqual([
      ['recovered', 'delivered'],
      ['overloaded', 'delivered'],
    ]);
  });

  it('delivers, once, an onset the stopped instance could not send because the mail server was down', async () => {
    const w = await begin();
    const port = await freePort();
    const targets = [w.target('nano-banana-pro', MODELS.pro)];
    const first = await w.start(targets, { email: emailSettings(port) });
    await runFor(first, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(first, w.clock, 3 * MINUTE);
    const [queued] = (await listedAlerts(first)).notifications;
    expect(queued).toMatchObject({ kind: 'overloaded', status: 'pending' });
    expect(queued!.attempts).toBeGreaterThan(0);
    await first.close();

    const inbox = await startInbox({ port });
    w.later(() => inbox.close());
    const second = await w.start(targets, { email: emailSettings(port) });
    await runFor(second, w.clock, 11 * MINUTE);
    w.upstream.set('ok');
    await runFor(second, w.clock, 3 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET), expect.stringMatching(RECOVERY)]);
    const listed = (await listedAlerts(second)).notifications;
    expect(listed.map((n) => [n.id, n.kind, n.status])).toEqual([
      [2, 'recovered', 'delivered'],
      [queued!.id, 'overloaded', 'delivered'],
    ]);
  });

  it('keeps the reminder schedule through a restart: neither resent at start nor pushed back', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    const targets = [w.target('nano-banana-pro', MODELS.pro, { minimumReminderIntervalMs: 5 * MINUTE })];
    const first = await w.start(targets, { email: emailSettings(inbox.port) });
    await runFor(first, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(first, w.clock, 4 * MINUTE);
    await first.close();

    const second = await w.start(targets, { email: emailSettings(inbox.port) });
    await runFor(second, w.clock, 30_000);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET)]);
    await runFor(second, w.clock, 5 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET), expect.stringMatching(REMINDER)]);
    const created = (await listedAlerts(second)).notifications.map((n) => [n.kind, Date.parse(n.createdAt)] as const);
    const onsetAt = created.find(([kind]) => kind === 'overloaded')![1];
    const reminderAt = created.find(([kind]) => kind === 'reminder')![1];
    // Due 5 min after the onset, decided at the first heartbeat (whole seconds) or probe outcome from
    // then on: 5 min to within a heartbeat, not 5 min from the restart.
    expect(reminderAt - onsetAt).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(reminderAt - onsetAt).toBeLessThan(5 * MINUTE + 1_000);
  });
});
