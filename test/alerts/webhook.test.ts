import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runFor } from '../helpers/service.js';
import { emailSettings, freePort, listedAlerts, MINUTE, MODELS, useAlertWorld } from './alert-world.js';

const SECRET = 'whsec-FAKE-webhook-secret-5c2e';

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

interface Payload {
  service: string;
  messageId: string;
  demo: boolean;
  subject: string;
  notifications: Array<{
    id: number;
    kind: string;
    targetId: string;
    headline: string;
    status: string;
    target: { id: string; name: string; model: string };
  }>;
}

/** A loopback HTTP receiver that records each POST and answers from a script of statuses (then 200). */
async function startReceiver(clock: { now: number }, statuses: number[] = []) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answered = statuses.shift() ?? 200;
      received.push({ at: clock.now, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered });
      res
        .writeHead(answered, { 'content-type': 'text/plain' })
        .end(answered === 200 ? 'ok' : 'receiver is having a bad day');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/modelpulse`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** What a receiver does: recompute HMAC-SHA256 over "<timestamp>.<body>" and compare in constant time. */
function verified(secret: string, request: Received): boolean {
  const timestamp = request.headers['x-modelpulse-timestamp'];
  const signature = request.headers['x-modelpulse-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const payload = (request: Received) => JSON.parse(request.body) as Payload;

describe('webhook alerts', () => {
  const begin = useAlertWorld();

  it('POSTs one signed JSON document per group, listing every notification in it', async () => {
    const w = await begin();
    const receiver = await startReceiver(w.clock);
    w.later(() => receiver.close());
    const service = await w.start([w.target('nano-banana', MODELS.flash), w.target('nano-banana-pro', MODELS.pro)], {
      webhook: { url: receiver.url, secret: SECRET, timeoutMs: 2_000 },
    });
    await runFor(service, w.clock, 2 * MINUTE);
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);
    w.upstream.set('ok');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(receiver.received).toHaveLength(2);
    const [onset, recovery] = receiver.received;
    for (const request of receiver.received) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['x-modelpulse-timestamp']).toBe(String(Math.floor(request.at / 1000)));
      expect(request.headers['x-modelpulse-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verified(SECRET, request)).toBe(true);
      expect(verified('some-other-secret', request)).toBe(false);
      expect(verified(SECRET, { ...request, body: request.body.replace('nano-banana', 'nano-bananas') })).toBe(false);
    }
    expect(payload(onset!)).toMatchObject({
      service: 'modelpulse',
      demo: false,
      subject: expect.stringMatching(/^\[modelpulse\] 2 alerts: nano-banana OVERLOADED/),
    });
    expect(payload(onset!).notifications.map((n) => [n.kind, n.targetId, n.target.model, n.status])).toEqual([
      ['overloaded', 'nano-banana', MODELS.flash, 'overloaded'],
      ['overloaded', 'nano-banana-pro', MODELS.pro, 'overloaded'],
    ]);
    expect(payload(onset!).notifications[0]!.headline).toMatch(/^nano-banana OVERLOADED — \d+% of calls answer 503$/);
    expect(payload(recovery!).notifications.map((n) => [n.kind, n.targetId])).toEqual([
      ['recovered', 'nano-banana'],
      ['recovered', 'nano-banana-pro'],
    ]);
    const ids = [...payload(onset!).notifications, ...payload(recovery!).notifications].map((n) => n.id);
    const listed = (await listedAlerts(service)).notifications;
    expect(listed.map((n) => [n.id, n.channel, n.status]).sort()).toEqual(
      ids.map((id) => [id, 'webhook', 'delivered']).sort(),
    );
  });

  it('sends no signature header when no secret is configured', async () => {
    const w = await begin();
    const receiver = await startReceiver(w.clock);
    w.later(() => receiver.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], {
      webhook: { url: receiver.url, secret: undefined, timeoutMs: 2_000 },
    });
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers['x-modelpulse-timestamp']).toMatch(/^\d+$/);
    expect(receiver.received[0]!.headers['x-modelpulse-signature']).toBeUndefined();
  });

  it('retries after a receiver answers 500 and counts the notification delivered once it answers 200', async () => {
    const w = await begin();
    const receiver = await startReceiver(w.clock, [500, 500, 500]);
    w.later(() => receiver.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], {
      webhook: { url: receiver.url, secret: SECRET, timeoutMs: 2_000 },
    });
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 2 * MINUTE + 30_000);

    const [failing] = (await listedAlerts(service)).notifications;
    expect(failing).toMatchObject({
      kind: 'overloaded',
      channel: 'webhook',
      status: 'pending',
      attempts: 3,
      lastError: 'webhook answered HTTP 500: receiver is having a bad day',
    });
    await runFor(service, w.clock, 3 * MINUTE);

    expect(receiver.received.map((r) => r.answered)).toEqual([500, 500, 500, 200]);
    expect(receiver.received.map((r) => r.at - receiver.received[0]!.at)).toEqual([0, 15_000, 45_000, 105_000]);
    expect(receiver.received.every((r) => verified(SECRET, r))).toBe(true);
    const accepted = receiver.received
      .filter((r) => r.answered === 200)
      .flatMap((r) => payload(r).notifications.map((n) => n.id));
    expect(accepted).toEqual([failing!.id]);
    const [delivered] = (await listedAlerts(service)).notifications;
    expect(delivered).toMatchObject({
      id: failing!.id,
      status: 'delivered',
      attempts: 4,
      lastError: null,
      deliveryId: `webhook:${failing!.id}`,
    });
    // Every attempt carried the same messageId (this installation's id and the group's), so a receiver that got one of the failed ones can drop the rest.
    const ids = receiver.received.map((r) => payload(r).messageId);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(new RegExp(`^${service.store.alerts.installation}\\.${failing!.id}\\.[0-9a-f]{8}$`));
  });

  it('delivers on the webhook at once while the mail server is down, each channel keeping its own queue', async () => {
    const w = await begin();
    const receiver = await startReceiver(w.clock);
    w.later(() => receiver.close());
    const service = await w.start([w.target('nano-banana-pro', MODELS.pro)], {
      email: emailSettings(await freePort()),
      webhook: { url: receiver.url, secret: SECRET, timeoutMs: 2_000 },
    });
    w.upstream.set('overloaded');
    await runFor(service, w.clock, 3 * MINUTE);

    expect(receiver.received).toHaveLength(1);
    const listed = (await listedAlerts(service)).notifications;
    expect(listed.map((n) => [n.kind, n.channel, n.status]).sort()).toEqual([
      ['overloaded', 'email', 'pending'],
      ['overloaded', 'webhook', 'delivered'],
    ]);
  });
});
