import { simpleParser, type ParsedMail } from 'mailparser';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { emailSettings, freePort, listedAlerts, MINUTE, MODELS, subjects, useAlertWorld } from './alert-world.js';

const SMTP_PASSWORD = 'smtp-pass-FAKE-c0ffee-91';
const WEBHOOK_SECRET = 'whsec-FAKE-deadbeef-17';

/** A careless mail server whose login refusal quotes the password it was given, until it learns it. */
async function startQuotingMailServer(port: number) {
  const mails: ParsedMail[] = [];
  const state = { password: 'not-yet-provisioned', refusals: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.password === state.password) return callback(null, { user: auth.username });
      state.refusals++;
      return callback(
        new Error(`authentication failed for ${auth.username}: password "${auth.password}" is not valid`),
      );
    },
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          mails.push(mail);
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return { mails, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A webhook receiver that, until fixed, answers 500 quoting the secret it expected. */
async function startQuotingReceiver() {
  const bodies: string[] = [];
  const state = { broken: true };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (state.broken) res.writeHead(500).end(`signature check failed; secret in use is ${WEBHOOK_SECRET}`);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return { url, bodies, state, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('alert secrets stay secret', () => {
  const begin = useAlertWorld();

  it('keeps the SMTP password and webhook secret out of /api/alerts even when the errors quote them, and out of what is delivered', async () => {
    const w = await begin();
    const port = await freePort();
    const mailServer = await startQuotingMailServer(port);
    w.later(() => mailServer.close());
    const receiver = await startQuotingReceiver();
    w.later(() => receiver.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], {
      email: emailSettings(port, { user: 'modelpulse-mailer', pass: SMTP_PASSWORD }),
      webhook: { url: receiver.url, secret: WEBHOOK_SECRET, timeoutMs: 2_000 },
    });
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(mailServer.state.refusals).toBeGreaterThan(0);
    const failing = await listedAlerts(service);
    const byChannel = Object.fromEntries(failing.notifications.map((n) => [n.channel, n]));
    expect(byChannel.email).toMatchObject({ status: 'pending' });
    expect(byChannel.email!.lastError).toMatch(/Invalid login: 535 authentication failed/);
    expect(byChannel.email!.lastError).toContain('password "[redacted]" is not valid');
    expect(byChannel.webhook).toMatchObject({
      status: 'pending',
      lastError: 'webhook answered HTTP 500: signature check failed; secret in use is [redacted]',
    });
    for (const query of ['', '?target=nano-banana-pro', '?limit=1']) {
      const { raw } = await listedAlerts(service, query);
      expect(raw).not.toContain(SMTP_PASSWORD);
      expect(raw).not.toContain(WEBHOOK_SECRET);
    }

    mailServer.state.password = SMTP_PASSWORD;
    receiver.state.broken = false;
    await runFor(service, w.clock, 6 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(subjects(mailServer.mails)).toEqual([
      expect.stringMatching(/OVERLOADED/),
      expect.stringMatching(/RECOVERED/),
    ]);
    const delivered = await listedAlerts(service);
    expect(delivered.notifications.every((n) => n.status === 'delivered' && n.lastError === null)).toBe(true);
    const everythingSent = [
      ...mailServer.mails.map((m) => `${m.subject}\n${m.text}\n${String(m.html)}\n${JSON.stringify(m.headerLines)}`),
      ...receiver.bodies,
    ].join('\n');
    for (const text of [everythingSent, delivered.raw]) {
      expect(text).not.toContain(SMTP_PASSWORD);
      expect(text).not.toContain(WEBHOOK_SECRET);
    }
  });
});
