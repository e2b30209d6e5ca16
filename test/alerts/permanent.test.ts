import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { startInbox } from '../helpers/smtp.js';
import { emailSettings, listedAlerts, MINUTE, MODELS, useAlertWorld } from './alert-world.js';

/** A webhook receiver that always answers `status`. */
async function receiver(status: number): Promise<{ url: string; posts: number[]; close(): Promise<void> }> {
  const posts: number[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts.push(status);
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'no such hook');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/gone`,
    posts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function outboxMetric(url: string, channel: string, status: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`modelpulse_alert_outbox{`) &&
        l.includes(`channel="${channel}"`) &&
        l.includes(`status="${status}"`),
    );
  return Number(line?.split(' ').at(-1));
}

describe('a delivery refused for good', () => {
  const begin = useAlertWorld();

  for (const refuse of [
    { at: 'rcpt', code: 550, text: '5.1.1 oncall@example.com: user unknown' },
    { at: 'data', code: 554, text: '5.7.1 message rejected as spam' },
  ] as const) {
    it(`stops after 3 attempts when the mail server answers ${refuse.code} to ${refuse.at.toUpperCase()}, marks it failed in /api/alerts and /metrics, and tries no more`, async () => {
      const w = await begin();
      const inbox = await startInbox();
      w.later(() => inbox.close());
      inbox.refuse = refuse;
      const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], { email: emailSettings(inbox.port) });
      await runFor(service, w.clock, 2 * MINUTE);
      w.upstream.set('overloaded');
      await runFor(service, w.clock, 5 * MINUTE);

      const [onset] = (await listedAlerts(service)).notifications;
      expect(onset).toMatchObject({ kind: 'overloaded', channel: 'email', status: 'failed', attempts: 3 });
      expect(onset!.lastError).toContain(String(refuse.code));
      expect(await outboxMetric(service.url, 'email', 'failed')).toBe(1);
      // An hour later it has not been tried again, and nothing else waits behind it.
      await runFor(service, w.clock, 60 * MINUTE);
      expect((await listedAlerts(service)).notifications.find((n) => n.id === onset!.id)).toMatchObject({
        status: 'failed',
        attempts: 3,
      });
      expect(inbox.mails).toEqual([]);
    }, 60_000);
  }

  it('keeps retrying a temporary refusal (451) and delivers once the server takes mail again: never lost', async () => {
    const w = await begin();
    const inbox = await startInbox();
    w.later(() => inbox.close());
    inbox.refuse = { at: 'rcpt', code: 451, text: '4.7.1 greylisted, try again later' };
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], { email: emailSettings(inbox.port) });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 15 * MINUTE);
    const [waiting] = (await listedAlerts(service)).notifications;
    expect(waiting).toMatchObject({ status: 'pending' });
    expect(waiting!.attempts).toBeGreaterThan(3);
    inbox.refuse = null;
    await runFor(service, w.clock, 3 * MINUTE);
    expect((await listedAlerts(service)).notifications.find((n) => n.id === waiting!.id)).toMatchObject({
      status: 'delivered',
    });
    expect(inbox.mails).toHaveLength(1);
  }, 60_000);

  for (const [status, outcome] of [
    [404, 'failed'],
    [410, 'failed'],
    [400, 'failed'],
    [429, 'pending'],
    [408, 'pending'],
    [503, 'pending'],
  ] as const) {
    it(`gives a webhook answering ${status} ${outcome === 'failed' ? 'up after 3 attempts' : 'more tries'}`, async () => {
      const w = await begin();
      const hook = await receiver(status);
      w.later(() => hook.close());
      const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], {
        webhook: { url: hook.url, secret: undefined, timeoutMs: 2_000 },
      });
      await runFor(service, w.clock, 2 * MINUTE);
      w.upstream.set('overloaded');
      await runFor(service, w.clock, 15 * MINUTE);
      const [onset] = (await listedAlerts(service)).notifications;
      expect(onset).toMatchObject({ channel: 'webhook', status: outcome });
      if (outcome === 'failed') expect(hook.posts).toHaveLength(3);
      else expect(hook.posts.length).toBeGreaterThan(3);
    }, 60_000);
  }

  it('counts only refusals for good in a row: a receiver mid-deploy (503, 503, then one 404) is tried again', async () => {
    const w = await begin();
    const statuses = [503, 503, 404, 200];
    const posts: number[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const status = statuses.shift() ?? 200;
        posts.push(status);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    w.later(() => new Promise((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/deploying`;
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], {
      webhook: { url, secret: undefined, timeoutMs: 2_000 },
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 10 * MINUTE);
    expect(posts).toEqual([503, 503, 404, 200]);
    expect((await listedAlerts(service)).notifications[0]).toMatchObject({ status: 'delivered', attempts: 4 });
  }, 60_000);
});
