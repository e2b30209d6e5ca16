import { afterEach, describe, expect, it } from 'vitest';
import type { Service } from '../../src/service.js';
import { presetTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig, runFor, startTestService } from '../helpers/service.js';
import { startInbox, type Inbox } from '../helpers/smtp.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const MINUTE = 60_000;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function world(dir: string, region?: string, timeZone?: string) {
  const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
  const simulator: Simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
  closers.push(() => simulator.close());
  const inbox: Inbox = await startInbox({ auth: { user: 'alerts', pass: 'smtp-SECRET-pass-0001' } });
  closers.push(() => inbox.close());
  const target = simulatedTarget('nano-banana-pro', simulator.url, {
    model: 'gemini-3-pro-image-preview',
    every: 10_000,
    timeout: 5_000,
  });
  const config = fileConfig(dir, [target], {
    dashboardUrl: 'https://modelpulse.example.com',
    groupWaitMs: 30_000,
    ...(timeZone ? { timeZone } : {}),
    email: {
      to: ['oncall@example.com', 'team@example.com'],
      from: 'modelpulse@example.com',
      smtp: {
        host: '127.0.0.1',
        port: inbox.port,
        secure: false,
        requireTLS: false,
        user: 'alerts',
        password: 'smtp-SECRET-pass-0001',
        timeoutMs: 2_000,
      },
    },
  });
  const service: Service = await startTestService(
    region ? { ...config, server: { ...config.server, region } } : config,
    clock,
  );
  closers.push(() => service.close());
  const upstream = (kind: 'ok' | 'overloaded' | 'rate_limited') => {
    simulator.clearForced();
    simulator.force({ kind, delayMs: 0 });
  };
  return { clock, simulator, inbox, service, upstream };
}

/** Two calm minutes, five of `kind`, three calm again: one onset mail during it, a recovery mail after. */
async function episode(dir: string, kind: 'overloaded' | 'rate_limited', region?: string, timeZone?: string) {
  const setup = await world(dir, region, timeZone);
  const { clock, inbox, service, upstream } = setup;
  upstream('ok');
  await runFor(service, clock, 2 * MINUTE);
  upstream(kind);
  await runFor(service, clock, 5 * MINUTE);
  expect(inbox.mails).toHaveLength(1);
  upstream('ok');
  await runFor(service, clock, 3 * MINUTE);
  expect(inbox.mails).toHaveLength(2);
  return setup;
}

describe('email alerts over real SMTP', () => {
  const tempDir = useTempDir();

  it('mails one onset and one recovery for an overload, with figures, advice and a link, and no secrets', async () => {
    const { inbox, service } = await episode(tempDir(), 'overloaded');

    const [onset, recovery] = inbox.mails;
    expect(onset!.subject).toMatch(/^\[modelpulse\] nano-banana-pro OVERLOADED — \d+% of calls answer 503$/);
    expect((onset!.to as { value: Array<{ address: string }> }).value.map((a) => a.address)).toEqual([
      'oncall@example.com',
      'team@example.com',
    ]);
    expect(onset!.text).toContain('is OVERLOADED since');
    expect(onset!.text).toMatch(/503 share \(last 5 min\):\s+\d+% of \d+ calls/);
    expect(onset!.text).toMatch(/\/health advises:\s+hold, retry after 30 s/);
    expect(onset!.text).toContain('https://modelpulse.example.com/health/nano-banana-pro');
    expect(onset!.html).toContain('<table');
    expect(recovery!.subject).toMatch(
      /^\[modelpulse\] nano-banana-pro RECOVERED after \d+ min \(worst: OVERLOADED, \d+% failing\)$/,
    );
    expect(recovery!.text).toContain('has RECOVERED');
    for (const mail of inbox.mails)
      expect(`${mail.subject}${mail.text}${mail.html}`).not.toContain('smtp-SECRET-pass-0001');

    const listed = (await (await fetch(`${service.url}/api/alerts`)).json()) as {
      notifications: Array<{ kind: string; status: string; channel: string }>;
    };
    expect(listed.notifications.map((n) => [n.kind, n.status, n.channel])).toEqual([
      ['recovered', 'delivered', 'email'],
      ['overloaded', 'delivered', 'email'],
    ]);
    expect(JSON.stringify(listed)).not.toContain('smtp-SECRET-pass-0001');
  });

  it('gives times in UTC and in alerts.timeZone (Seoul is UTC+9: 13:0x UTC is 22:0x the same day)', async () => {
    const { inbox } = await episode(tempDir(), 'overloaded', undefined, 'Asia/Seoul');
    const [onset, recovery] = inbox.mails;
    expect(onset!.text).toMatch(/is OVERLOADED since 2026-11-25 13:0\d:\d\d UTC \(2026-11-25 22:0\d Asia\/Seoul\)\./);
    expect(recovery!.text).toMatch(
      /\(2026-11-25 13:0\d:\d\d UTC \(2026-11-25 22:0\d Asia\/Seoul\) to 2026-11-25 13:\d\d:\d\d UTC \(2026-11-25 22:\d\d Asia\/Seoul\)\)/,
    );
    expect(onset!.html).toContain('Asia/Seoul');
    // Without it, UTC only.
    const plain = await episode(tempDir(), 'overloaded');
    expect(plain.inbox.mails[0]!.text).toMatch(/is OVERLOADED since 2026-11-25 13:0\d:\d\d UTC\./);
    expect(plain.inbox.mails[0]!.text).not.toContain('Asia/Seoul');
  });

  it("names the instance's server.region in the subject and the footer, so mails from several regions tell apart", async () => {
    const { inbox } = await episode(tempDir(), 'overloaded', 'europe-west4');
    expect(inbox.mails.map((m) => m.subject)).toEqual([
      expect.stringMatching(/^\[modelpulse europe-west4\] nano-banana-pro OVERLOADED — /),
      expect.stringMatching(/^\[modelpulse europe-west4\] nano-banana-pro RECOVERED after /),
    ]);
    for (const mail of inbox.mails) expect(mail.text).toContain('Sent by modelpulse in europe-west4.');
  });

  it('names a rate limit as such: 429s hold traffic as OVERLOADED, worded as a rate limit, not as 503s', async () => {
    const { inbox } = await episode(tempDir(), 'rate_limited');

    const [onset, recovery] = inbox.mails;
    expect(onset!.subject).toMatch(
      /^\[modelpulse\] nano-banana-pro OVERLOADED — rate-limited: \d+% of calls answer 429$/,
    );
    expect(onset!.text).toContain('is OVERLOADED since');
    expect(onset!.text).toMatch(
      /\/health advises:\s+hold, retry after \d+ s — Rate-limited: \d+ of the last 10 calls returned 429/,
    );
    expect(recovery!.subject).toMatch(
      /^\[modelpulse\] nano-banana-pro RECOVERED after \d+ min \(worst: OVERLOADED, \d+% failing\)$/,
    );
  });
});

describe('alert mails in Korean (alerts.language: ko, alerts.timeZone: Asia/Seoul) over real SMTP', () => {
  const tempDir = useTempDir();
  const SMTP_PASSWORD = 'smtp-SECRET-pass-0002';
  const API_KEY = 'AIzaFAKE-SECRET-key-0042';

  // The cadences users run, with the default 180 s timeout: one onset mail and one recovery mail each.
  for (const every of [60_000, 5 * MINUTE]) {
    it(`mails a Korean onset and recovery, subject and both bodies, with times in UTC and KST and no secrets (probes every ${every / 1000} s)`, async () => {
      const clock = { now: Date.UTC(2026, 10, 25, 13, 0, 0) };
      const simulator = await startSimulator({ trace: presetTrace('healthy'), now: () => clock.now });
      closers.push(() => simulator.close());
      const inbox = await startInbox({ auth: { user: 'alerts', pass: SMTP_PASSWORD } });
      closers.push(() => inbox.close());
      const target = {
        ...simulatedTarget('nano-banana-pro', simulator.url, {
          model: 'gemini-3-pro-image-preview',
          every,
          timeout: 180_000,
        }),
        apiKey: API_KEY,
      };
      const config = fileConfig(tempDir(), [target], {
        dashboardUrl: 'https://modelpulse.example.com',
        groupWaitMs: 30_000,
        language: 'ko',
        timeZone: 'Asia/Seoul',
        email: {
          to: ['oncall@example.com'],
          from: 'modelpulse@example.com',
          smtp: {
            host: '127.0.0.1',
            port: inbox.port,
            secure: false,
            requireTLS: false,
            user: 'alerts',
            password: SMTP_PASSWORD,
            timeoutMs: 2_000,
          },
        },
      });
      const service = await startTestService(config, clock);
      closers.push(() => service.close());
      const runFor = async (ms: number) => {
        for (const end = clock.now + ms; clock.now < end; clock.now += 10_000) {
          service.tick();
          await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
          await service.alertsDelivered();
        }
      };
      const upstream = (kind: 'ok' | 'overloaded') => {
        simulator.clearForced();
        simulator.force({ kind, delayMs: 0 });
      };
      upstream('ok');
      await runFor(4 * every);
      upstream('overloaded');
      await runFor(8 * every);
      expect(inbox.mails).toHaveLength(1);
      upstream('ok');
      await runFor(8 * every);
      expect(inbox.mails).toHaveLength(2);

      const [onset, recovery] = inbox.mails;
      expect(onset!.subject).toMatch(/^\[modelpulse\] nano-banana-pro 과부하 — 호출의 \d+%가 503 응답$/);
      // "… since 13:0x UTC (22:0x in Seoul)": the same moment, nine hours apart, on both bodies.
      const since =
        /(2026-11-25) (\d\d):(\d\d):\d\d UTC \((2026-11-2\d) (\d\d):(\d\d) Asia\/Seoul\)부터 과부하 상태입니다\./.exec(
          onset!.text as string,
        );
      expect(since, onset!.text as string).not.toBeNull();
      const [, utcDay, utcHour, utcMinute, seoulDay, seoulHour, seoulMinute] = since!;
      expect(
        Date.parse(`${seoulDay}T${seoulHour}:${seoulMinute}:00Z`) - Date.parse(`${utcDay}T${utcHour}:${utcMinute}:00Z`),
      ).toBe(9 * 3_600_000);
      expect(onset!.text).toMatch(/503 비율\(최근 \d+분\):\s+호출 \d+번 중 \d+%/);
      expect(onset!.text).toMatch(
        /\/health 권고:\s+보류, \d+초 뒤 다시 시도 — 최근 \d+번의 호출 중 \d+번이 503 응답을 받았습니다: 'The model is overloaded\. Please try again later\.'/,
      );
      expect(onset!.text).toContain('실시간 권고: https://modelpulse.example.com/health/nano-banana-pro');
      expect(onset!.text).toContain('modelpulse가 보낸 메일입니다.');
      // The plain body's values line up in a fixed-width font, where a Hangul letter takes two columns.
      const rows = (onset!.text as string).split('\n').filter((line) => /^ {2}\S.*:\s{2,}\S/.test(line));
      const valueColumn = (line: string) =>
        [.../^(.*?:\s{2,})/.exec(line)![1]!].reduce((n, c) => n + (/[\uAC00-\uD7A3]/.test(c) ? 2 : 1), 0);
      expect(rows.length).toBeGreaterThanOrEqual(4);
      expect(new Set(rows.map(valueColumn)).size, rows.join('\n')).toBe(1);
      expect(onset!.html).toContain('<html lang="ko">');
      expect(onset!.html).toContain(`${seoulDay} ${seoulHour}:${seoulMinute} Asia/Seoul)부터 과부하 상태입니다.`);
      expect(recovery!.subject).toMatch(
        /^\[modelpulse\] nano-banana-pro (\d+시간 )?\d+분 만에 복구 \(최악: 과부하, 실패 \d+%\)$/,
      );
      expect(recovery!.text).toMatch(
        /복구되었습니다\. 가장 나빴을 때 과부하 상태였고, .+ 동안\(2026-11-25 \d\d:\d\d:\d\d UTC \(2026-11-2\d \d\d:\d\d Asia\/Seoul\) ~ /,
      );
      for (const mail of inbox.mails) {
        const whole = `${mail.subject}\n${mail.text}\n${mail.html}`;
        for (const secret of [SMTP_PASSWORD, API_KEY]) expect(whole).not.toContain(secret);
        // No English sentence left behind, beyond the upstream's own quoted message.
        expect(whole.replace(/'The model is overloaded\. Please try again later\.'/g, '')).not.toMatch(
          /\b(calls|since|share|OVERLOADED|RECOVERED|advises|Sent by)\b/,
        );
      }
    }, 60_000);
  }
});
