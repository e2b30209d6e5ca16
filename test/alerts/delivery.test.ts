import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import {
  emailSettings,
  freePort,
  listedAlerts,
  MINUTE,
  MODELS,
  recipients,
  subjects,
  tally,
  useAlertWorld,
} from './alert-world.js';

const ONSET = /^\[modelpulse\] nano-banana-pro OVERLOADED — \d+% of calls answer 503$/;
const RECOVERY = /^\[modelpulse\] nano-banana-pro RECOVERED after \d+ min/;

/** A mail server that takes each message in but answers 451 (try later) until told to accept. */
async function startBusyMailServer(port: number) {
  const mails: ParsedMail[] = [];
  const state = { accepting: false, refused: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          if (!state.accepting) {
            state.refused++;
            return callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }));
          }
          mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { mails, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('email delivery while the mail server is unreachable or refusing', { timeout: 40_000 }, () => {
  const begin = useAlertWorld();

  it('keeps the onset queued while nothing listens, then delivers onset and recovery exactly once when the server is up', async () => {
    const w = await begin();
    const port = await freePort();
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], { email: emailSettings(port) });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 10 * MINUTE);

    const during = (await listedAlerts(service)).notifications;
    expect(during).toHaveLength(1);
    expect(during[0]).toMatchObject({ kind: 'overloaded', channel: 'email', status: 'pending', deliveredAt: null });
    expect(during[0]!.attempts).toBeGreaterThan(0);
    expect(during[0]!.lastError).toMatch(/ECONNREFUSED/);
    expect(Date.parse(during[0]!.nextAttemptAt!)).toBeGreaterThan(w.clock.now);

    const inbox = await startInbox({ port });
    w.later(() => inbox.close());
    // The retry back-off tops out at 10 min, so the queued onset is out within that.
    await runFor(service, w.clock, 11 * MINUTE);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET)]);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET), expect.stringMatching(RECOVERY)]);
    expect(Object.values(tally(inbox.mails.map((m) => m.messageId)))).toEqual([1, 1]);
    for (const mail of inbox.mails) {
      expect(recipients(mail)).toEqual(['oncall@example.com', 'team@example.com']);
      expect(mail.text).toContain('nano-banana-pro (gemini-3-pro-image-preview)');
      expect(mail.html).toContain('<table');
    }
    expect(inbox.mails[0]!.text).toContain('is OVERLOADED since 2026-11-25 13:02');
    expect(inbox.mails[1]!.text).toContain('has RECOVERED');
    const after = (await listedAlerts(service)).notifications;
    expect(after.map((n) => [n.kind, n.status, n.lastError])).toEqual([
      ['recovered', 'delivered', null],
      ['overloaded', 'delivered', null],
    ]);
    expect(after[1]!.attempts).toBeGreaterThan(during[0]!.attempts);
  });

  // Regression: a recovery decided after the server came back used to go out before the older
  // onset still waiting out its back-off. The outbox now sends each channel's rows oldest first.
  it('sends the queued onset before the recovery that follows it when the server comes back', async () => {
    const w = await begin();
    const port = await freePort();
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], { email: emailSettings(port) });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 12 * MINUTE);
    const inbox = await startInbox({ port });
    w.later(() => inbox.close());
    w.upstream.set('ok');
    await runFor(service, w.clock, 12 * MINUTE);

    // Queued together, they may share one mail; either way the onset reads first and each comes once.
    const text = inbox.mails.map((m) => String(m.text)).join('\n');
    expect(text.match(/is OVERLOADED since/g)).toHaveLength(1);
    expect(text.match(/has RECOVERED/g)).toHaveLength(1);
    expect(text.indexOf('is OVERLOADED since')).toBeLessThan(text.indexOf('has RECOVERED'));
  });

  it('retries while the server rejects the login and delivers once it accepts the configured password', async () => {
    const w = await begin();
    const port = await freePort();
    const login = { user: 'alerts', pass: 'smtp-pass-FAKE-rotated-4411' };
    const stale = await startInbox({ port, auth: { user: 'alerts', pass: 'the-password-before-rotation' } });
    w.later(() => stale.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], { email: emailSettings(port, login) });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 10 * MINUTE);

    const [queued] = (await listedAlerts(service)).notifications;
    expect(queued).toMatchObject({ kind: 'overloaded', status: 'pending' });
    expect(queued!.attempts).toBeGreaterThan(1);
    expect(queued!.lastError).toMatch(/Invalid login|535/);
    expect(stale.mails).toEqual([]);
    await stale.close();

    const inbox = await startInbox({ port, auth: login });
    w.later(() => inbox.close());
    await runFor(service, w.clock, 11 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);
    expect(subjects(inbox.mails)).toEqual([expect.stringMatching(ONSET), expect.stringMatching(RECOVERY)]);
    expect(Object.values(tally(inbox.mails.map((m) => m.messageId)))).toEqual([1, 1]);
  });

  it('retries a mail the server refused with 451 and has it once the server accepts, at the 15 s, 30 s, 1 min… pace', async () => {
    const w = await begin();
    const port = await freePort();
    const server = await startBusyMailServer(port);
    w.later(() => server.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], { email: emailSettings(port) });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 4 * MINUTE);

    const [queued] = (await listedAlerts(service)).notifications;
    // Onset due at about 13:03:36; tries at +0, +15 s, +45 s, +1 min 45 s; the next waits 2 min.
    expect(queued).toMatchObject({ kind: 'overloaded', status: 'pending', attempts: 4 });
    expect(queued!.lastError).toMatch(/451.*mailbox busy/);
    expect(server.state.refused).toBe(4);
    // The first try is the first heartbeat (whole seconds of the clock) once the 30 s group wait is
    // over; a notification decided when a probe landed is stamped with the probe's completion, a few
    // real milliseconds past the heartbeat that started it.
    const createdAt = Date.parse(queued!.createdAt);
    const firstTry = Math.ceil((createdAt + 30_000) / 1_000) * 1_000;
    expect(Date.parse(queued!.nextAttemptAt!) - firstTry).toBe((15 + 30 + 60 + 120) * 1_000);

    server.state.accepting = true;
    await runFor(service, w.clock, 3 * MINUTE);
    expect(subjects(server.mails)).toEqual([expect.stringMatching(ONSET)]);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);
    expect(subjects(server.mails)).toEqual([expect.stringMatching(ONSET), expect.stringMatching(RECOVERY)]);
    expect(server.state.refused).toBe(4);
    const listed = (await listedAlerts(service)).notifications;
    expect(listed.map((n) => [n.kind, n.status, n.attempts])).toEqual([
      ['recovered', 'delivered', 1],
      ['overloaded', 'delivered', 5],
    ]);
  });
});
