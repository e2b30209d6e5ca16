import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { silentLogger } from '../../src/log.js';
import { startService, type Service } from '../../src/service.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import { fileConfig } from '../helpers/service.js';
import { startInbox, type Inbox } from '../helpers/smtp.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

// The shipped integration files, checked and run by Debian's prometheus (with promtool) and
// prometheus-alertmanager (with amtool); .ci/run installs them.
const ROOT = new URL('../../', import.meta.url).pathname;
const RULES = join(ROOT, 'deploy/prometheus/modelpulse.rules.yml');
const PROMETHEUS_CONFIG = join(ROOT, 'deploy/prometheus/prometheus.yml');
const ALERTMANAGER_CONFIG = join(ROOT, 'deploy/alertmanager/alertmanager.yml');
const RULE_TESTS = join(ROOT, 'test/deploy/modelpulse.rules.test.yml');
const run = promisify(execFile);
const QUICK_AND_HEALTHY = parseTrace({
  loop: true,
  segments: [{ start: '0ms', duration: '1h', p503: 0, latency: { median: '5ms', p95: '20ms' } }],
});

function binary(name: string): string {
  for (const dir of ['/usr/bin', '/usr/local/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  throw new Error(`${name} is not installed: apt-get install -y prometheus prometheus-alertmanager (.ci/run does)`);
}

/** Runs a tool; resolves with its exit code and output, whatever the code. */
async function tool(name: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(binary(name), args, { cwd: ROOT });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('the shipped Prometheus and Alertmanager files', () => {
  const tempDir = useTempDir();

  it('pass promtool check rules, promtool check config and amtool check-config', async () => {
    const rules = await tool('promtool', ['check', 'rules', RULES]);
    expect(rules.output).toContain('SUCCESS: 10 rules found');
    expect(rules.code).toBe(0);
    for (const file of [PROMETHEUS_CONFIG, join(ROOT, 'deploy/prometheus/prometheus.compose.yml')]) {
      const config = await tool('promtool', ['check', 'config', file]);
      expect(config.output, file).toMatch(/is valid prometheus config file syntax/);
      expect(config.code, file).toBe(0);
    }
    const alertmanager = await tool('amtool', ['check-config', ALERTMANAGER_CONFIG]);
    expect(alertmanager.output).toMatch(/SUCCESS/);
    expect(alertmanager.code).toBe(0);
  });

  it('are what deploy/docker-compose.yml mounts: every file it names exists, and Grafana reads the shipped dashboard', () => {
    const compose = parse(readFileSync(join(ROOT, 'deploy/docker-compose.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[] }>;
      secrets: Record<string, { file: string }>;
    };
    const mounts = Object.values(compose.services)
      .flatMap((service) => service.volumes ?? [])
      .map((volume) => volume.split(':'));
    const files = mounts
      .filter(([source]) => source!.startsWith('.'))
      .map(([source, target]) => ({ source: join(ROOT, 'deploy', source!), target: target! }));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const { source } of files) expect(existsSync(source), source).toBe(true);
    expect(files.find((f) => f.source.endsWith('prometheus.compose.yml'))?.target).toBe(
      '/etc/prometheus/prometheus.yml',
    );
    expect(files.find((f) => f.source.endsWith('modelpulse.rules.yml'))?.target).toBe(
      '/etc/prometheus/modelpulse.rules.yml',
    );
    expect(files.find((f) => f.source.endsWith('alertmanager.yml'))?.target).toBe('/etc/alertmanager/alertmanager.yml');
    // The provisioning's dashboard folder is where the compose puts the dashboard.
    const provider = parse(
      readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/modelpulse.yml'), 'utf8'),
    ) as {
      providers: Array<{ options: { path: string } }>;
    };
    expect(
      files
        .find((f) => f.source.endsWith('grafana/modelpulse.json'))
        ?.target.startsWith(`${provider.providers[0]!.options.path}/`),
    ).toBe(true);
    // The SMTP password comes from a secret at the path the shipped Alertmanager config reads.
    expect(
      (parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as { global: Record<string, string> }).global
        .smtp_auth_password_file,
    ).toBe(`/run/secrets/${Object.keys(compose.secrets)[0]}`);
  });

  it('pass their promtool unit tests, which fail once a rule loses its delay or its threshold', async () => {
    const passed = await tool('promtool', ['test', 'rules', RULE_TESTS]);
    expect(passed.code, passed.output).toBe(0);
    expect(passed.output).toContain('SUCCESS');
    // The same tests against broken copies of the rules: each break must be caught.
    const shipped = readFileSync(RULES, 'utf8');
    const breaks: Array<[string, string, string]> = [
      [
        'ModelOverloaded without its pending delay',
        'expr: modelpulse_target_state{state="overloaded"} == 1\n        for: 1m',
        'expr: modelpulse_target_state{state="overloaded"} == 1\n        for: 0m',
      ],
      [
        'ModelOverloaded resolving at once',
        'keep_firing_for: 3m\n        labels:\n          severity: warning',
        'keep_firing_for: 0s\n        labels:\n          severity: warning',
      ],
      [
        'ProbeStalled at 3 intervals',
        '> 6 * modelpulse_probe_interval_seconds',
        '> 3 * modelpulse_probe_interval_seconds',
      ],
      [
        'OutboxStuck at 5 min',
        'modelpulse_alert_outbox_oldest_pending_seconds > 900',
        'modelpulse_alert_outbox_oldest_pending_seconds > 300',
      ],
      [
        'ProbeStalled while a spent budget pauses probes',
        '\n            unless on (job, instance, target) modelpulse_probe_budget_exhausted == 1',
        '',
      ],
      [
        'a 5-minute success share of NaN when no probe landed',
        '{outcome="ok"}[5m]))\n            / (sum without (outcome) (rate(modelpulse_probe_outcomes_total[5m])) > 0)',
        '{outcome="ok"}[5m]))\n            / sum without (outcome) (rate(modelpulse_probe_outcomes_total[5m]))',
      ],
      ['ModelpulseDown never firing', 'expr: up{job="modelpulse"} == 0', 'expr: up{job="modelpulse"} == 2'],
    ];
    for (const [name, from, to] of breaks) {
      expect(shipped, name).toContain(from);
      const dir = tempDir();
      writeFileSync(join(dir, 'rules.yml'), shipped.replace(from, to));
      writeFileSync(
        join(dir, 'tests.yml'),
        readFileSync(RULE_TESTS, 'utf8').replace('../../deploy/prometheus/modelpulse.rules.yml', 'rules.yml'),
      );
      const broken = await tool('promtool', ['test', 'rules', join(dir, 'tests.yml')]);
      expect(broken.code, name).not.toBe(0);
    }
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A process in the background whose output is kept for the failure message. */
function background(name: string, args: string[]): { process: ChildProcess; output: () => string } {
  const child = spawn(binary(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  return { process: child, output: () => output };
}

/** Polls over short loopback waits until `check` returns a value, for at most `timeoutMs` of real time. */
async function until<T>(
  check: () => Promise<T | null>,
  label: string,
  timeoutMs: number,
  explain: () => string = () => '',
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}\n${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * End to end, in real time (the one place where it must be: Prometheus scrapes and evaluates on its
 * own clock): two modelpulse instances as two regions, a real Prometheus scraping them every second
 * with the shipped rules, a real Alertmanager routing with the shipped config, a loopback SMTP server.
 * Only the delays are shortened (for: 1m -> 2s, keep_firing_for: 3m -> 3s, group_wait 30s -> 1s).
 */
describe('modelpulse behind a real Prometheus and Alertmanager', () => {
  const tempDir = useTempDir();
  const stops: Array<() => Promise<void> | void> = [];
  let eu: { service: Service; simulator: Simulator };
  let us: { service: Service; simulator: Simulator };
  let prometheus: { url: string; output: () => string };
  let alertmanager: { output: () => string };
  let inbox: Inbox;
  // The overload: a fixed pattern of two 503s in three calls, until the test ends it.
  // Healthy answers in milliseconds, so that 1 s probes with a 2 s timeout never time out.
  const OVERLOAD_CALLS = 75;

  async function instance(region: string) {
    const simulator = await startSimulator({ trace: QUICK_AND_HEALTHY });
    stops.push(() => simulator.close());
    const target = simulatedTarget('pro', simulator.url, {
      model: 'gemini-3-pro-image-preview',
      every: 1_000,
      timeout: 2_000,
    });
    const config = fileConfig(tempDir(), [target]);
    // Real time, but the heartbeat starts once Prometheus has read the zeros: no probe goes unscraped.
    const service = await startService(
      { ...config, server: { ...config.server, region } },
      { log: silentLogger, shutdownGraceMs: 200, autoStart: false },
    );
    stops.push(() => service.close());
    return { service, simulator };
  }

  beforeAll(async () => {
    inbox = await startInbox();
    stops.push(() => inbox.close());
    eu = await instance('europe-west4');
    us = await instance('us-central1');
    const dir = tempDir();
    const [promPort, amPort] = [await freePort(), await freePort()];

    // The shipped rules with the delays shortened; every expression and annotation as shipped.
    const rules = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<Record<string, unknown>> }> };
    for (const rule of rules.groups.flatMap((g) => g.rules)) {
      if (rule.for) rule.for = '2s';
      if (rule.keep_firing_for) rule.keep_firing_for = '3s';
    }
    writeFileSync(join(dir, 'modelpulse.rules.yml'), stringify(rules));
    const hostOf = (s: Service) => new URL(s.url).host;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: ['modelpulse.rules.yml'],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [
          { job_name: 'modelpulse', static_configs: [{ targets: [hostOf(eu.service), hostOf(us.service)] }] },
        ],
      }),
    );
    // The shipped routing, receivers and inhibitions; the loopback mail server instead of the real one.
    const am = parse(readFileSync(ALERTMANAGER_CONFIG, 'utf8')) as {
      global: Record<string, unknown>;
      route: Record<string, unknown>;
    };
    am.global = { smtp_smarthost: `127.0.0.1:${inbox.port}`, smtp_from: am.global.smtp_from, smtp_require_tls: false };
    am.route = { ...am.route, group_wait: '1s', group_interval: '2s' };
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(am));

    const amProcess = background('prometheus-alertmanager', [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'am')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    stops.push(() => void amProcess.process.kill());
    alertmanager = { output: amProcess.output };
    const promProcess = background('prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    stops.push(() => void promProcess.process.kill());
    prometheus = { url: `http://127.0.0.1:${promPort}`, output: promProcess.output };
    await until(
      async () => ((await fetch(`http://127.0.0.1:${amPort}/-/ready`)).ok ? true : null),
      'Alertmanager ready',
      20_000,
      alertmanager.output,
    );
    await until(
      async () => ((await query('up')).filter((s) => s.value[1] === '1').length === 2 ? true : null),
      'Prometheus scraping both instances',
      20_000,
      prometheus.output,
    );
    // node-cron's heartbeat, once a second, as autoStart would run it.
    const heartbeat = setInterval(() => {
      eu.service.tick();
      us.service.tick();
    }, 1_000);
    stops.push(() => clearInterval(heartbeat));
  }, 60_000);

  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  async function query(promql: string, at?: number): Promise<PromSample[]> {
    const url = new URL('/api/v1/query', prometheus.url);
    url.searchParams.set('query', promql);
    if (at !== undefined) url.searchParams.set('time', String(at / 1000));
    const body = (await (await fetch(url)).json()) as {
      status: string;
      data: { result: PromSample[] };
      error?: string;
    };
    if (body.status !== 'success') throw new Error(`Prometheus: ${body.error}`);
    return body.data.result;
  }
  const firing = async (alertname: string) => query(`ALERTS{alertname="${alertname}",alertstate="firing"}`);

  it('records the 503 share /api/targets/{id}/series shows, fires ModelOverloaded for the region that sees it, mails it once through Alertmanager, and resolves it after', async () => {
    for (let i = 0; i < OVERLOAD_CALLS; i++)
      eu.simulator.force({ kind: i % 3 === 2 ? 'ok' : 'overloaded', times: 1, delayMs: 0 });

    // 1. modelpulse holds traffic in europe-west4, and Prometheus fires the alert for that region only.
    await until(
      async () => (eu.service.pipeline.engine.status('pro') === 'overloaded' ? true : null),
      'europe-west4 to hold pro',
      30_000,
    );
    const alerts = await until(
      async () => ((await firing('ModelOverloaded')).length > 0 ? firing('ModelOverloaded') : null),
      'ModelOverloaded to fire',
      20_000,
      prometheus.output,
    );
    expect(alerts.map((a) => [a.metric.region, a.metric.target, a.metric.severity])).toEqual([
      ['europe-west4', 'pro', 'warning'],
    ]);
    expect(us.service.pipeline.engine.status('pro')).toBe('healthy');

    // 2. The recorded 503 share agrees with modelpulse's own series over the same span: all of the
    // run so far, which is shorter than the rule's 5 min (the instance's database is new). Read once
    // 30 probes are in, so that the second between a scrape and the query is a probe at most.
    const seriesUntil = async (to: number) => {
      const body = (await (
        await fetch(
          `${eu.service.url}/api/targets/pro/series?from=${new Date(to - 3_600_000).toISOString()}&to=${new Date(to).toISOString()}&step=60s`,
        )
      ).json()) as { points: Array<{ samples: number; counts: { overloaded: number } }> };
      return {
        samples: body.points.reduce((n, p) => n + p.samples, 0),
        overloaded: body.points.reduce((n, p) => n + p.counts.overloaded, 0),
      };
    };
    await until(async () => ((await seriesUntil(Date.now())).samples >= 30 ? true : null), '30 probes', 40_000);
    const at = Date.now();
    const [recorded, counted] = [
      await query('target:modelpulse_probe_overloaded:ratio_rate5m{region="europe-west4",target="pro"}', at),
      await seriesUntil(at),
    ];
    expect(recorded).toHaveLength(1);
    const share = counted.overloaded / counted.samples;
    expect(share).toBeGreaterThan(0.4);
    expect(
      Math.abs(Number(recorded[0]!.value[1]) - share),
      `Prometheus ${recorded[0]!.value[1]} against ${counted.overloaded}/${counted.samples}`,
    ).toBeLessThan(0.05);
    expect(eu.service.pipeline.engine.status('pro')).toBe('overloaded');

    // 3. Alertmanager mails it once, to the on-call receiver.
    const onset = await until(
      async () => inbox.mails.find((m) => /FIRING/.test(m.subject ?? '')) ?? null,
      'the FIRING mail',
      20_000,
      alertmanager.output,
    );
    expect(onset.subject).toMatch(/^\[FIRING:1\] ModelOverloaded .*europe-west4.*pro/);
    expect((onset.to as { value: Array<{ address: string }> }).value.map((a) => a.address)).toEqual([
      'oncall@example.com',
    ]);
    // Alertmanager's default mail is HTML, with the rule's annotations in it.
    expect(String(onset.html)).toContain('pro is overloaded (seen from europe-west4): hold traffic');

    // 4. The overload ends: modelpulse says send again, the alert resolves and the recovery is mailed.
    eu.simulator.clearForced();
    await until(
      async () => (eu.service.pipeline.engine.status('pro') === 'healthy' ? true : null),
      'europe-west4 to send to pro again',
      60_000,
    );
    await until(
      async () => ((await firing('ModelOverloaded')).length === 0 ? true : null),
      'ModelOverloaded to resolve',
      20_000,
      prometheus.output,
    );
    await until(
      async () => inbox.mails.find((m) => /RESOLVED/.test(m.subject ?? '')) ?? null,
      'the RESOLVED mail',
      20_000,
      alertmanager.output,
    );
    // Grouped by alertname, region and target (the rest of the labels follow in parentheses).
    expect(inbox.mails.map((m) => m.subject!.replace(/ \(.*\)$/, ''))).toEqual([
      '[FIRING:1] ModelOverloaded europe-west4 pro',
      '[RESOLVED] ModelOverloaded europe-west4 pro',
    ]);
    expect(inbox.mails.every((m) => !m.subject!.includes('us-central1'))).toBe(true);
  }, 180_000);
});
