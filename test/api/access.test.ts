import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { Access } from '../../src/domain/access.js';
import type { Service } from '../../src/service.js';
import { startSimulator } from '../../src/simulator/server.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-11-20T12:00:00Z');
const PASSWORD = 'dash-pass-7f3e91';
const API_TOKEN = 'api-tok-2b8c44a1';
const HEALTH_TOKEN = 'health-tok-99d0e2';
const tempDir = useTempDir();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function service(access: Access): Promise<Service> {
  const clock = { now: T0 };
  const trace = parseTrace({
    loop: false,
    segments: [{ start: '0s', duration: '1h', latency: { median: '12s', p95: '25s' } }],
  });
  const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
  closers.push(() => simulator.close());
  const config = fileConfig(tempDir(), [simulatedTarget('nano-banana', simulator.url)]);
  const started = await startTestService({ ...config, server: { ...config.server, auth: access } }, clock);
  closers.push(() => started.close());
  started.tick();
  return started;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const status = async (s: Service, path: string, authorization?: string, accept = 'application/json') =>
  (await fetch(`${s.url}${path}`, { headers: { accept, ...(authorization ? { authorization } : {}) } })).status;

const READ_PATHS = [
  '/',
  '/targets/nano-banana',
  '/assets/app.js',
  '/api',
  '/api/targets',
  '/api/health',
  '/api/uptime',
  '/api/incidents',
  '/api/alerts',
  '/api/status-sources',
  '/metrics',
];

describe('optional protection', () => {
  it('is open by default: every page, the read API and /health answer without credentials', async () => {
    const s = await service({ user: 'admin', password: null, apiToken: null, healthToken: null });
    for (const path of [...READ_PATHS, '/health', '/health/nano-banana'])
      expect(await status(s, path), path).toBeLessThan(400);
  });

  it('with a dashboard password and an API token: pages, the read API and metrics need one of them; /healthz stays open', async () => {
    const s = await service({ user: 'ops', password: PASSWORD, apiToken: API_TOKEN, healthToken: null });
    for (const path of READ_PATHS) {
      expect(await status(s, path), `${path} without credentials`).toBe(401);
      expect(await status(s, path, basic('ops', 'wrong-password')), `${path} wrong password`).toBe(401);
      expect(await status(s, path, basic('admin', PASSWORD)), `${path} wrong user`).toBe(401);
      expect(await status(s, path, 'Bearer not-the-token'), `${path} wrong token`).toBe(401);
      expect(await status(s, path, basic('ops', PASSWORD)), `${path} password`).toBeLessThan(400);
      expect(await status(s, path, `Bearer ${API_TOKEN}`), `${path} token`).toBeLessThan(400);
    }
    const refused = await fetch(`${s.url}/api/targets`);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="modelpulse"/);
    const body = (await refused.json()) as { error: string };
    expect(body.error).toMatch(
      /^unauthorized: modelpulse needs the dashboard user and password \(basic auth\) or "Authorization: Bearer <MODELPULSE_API_TOKEN>"$/,
    );
    expect(JSON.stringify(body)).not.toMatch(new RegExp(`${PASSWORD}|${API_TOKEN}`));
    expect(await status(s, '/healthz')).toBe(200);
    // Without a health token of its own, /health stays open for client apps.
    expect(await status(s, '/health/nano-banana')).toBe(200);
  });

  it('with a health token, /health and /health/{id} need it, and the dashboard credentials do not open them', async () => {
    const s = await service({ user: 'admin', password: PASSWORD, apiToken: null, healthToken: HEALTH_TOKEN });
    for (const path of ['/health', '/health/nano-banana']) {
      expect(await status(s, path), path).toBe(401);
      expect(await status(s, path, basic('admin', PASSWORD)), path).toBe(401);
      expect(await status(s, path, `Bearer ${HEALTH_TOKEN}`), path).toBe(200);
    }
    expect(await status(s, '/api/targets', `Bearer ${HEALTH_TOKEN}`)).toBe(401);
  });
});

describe('protection settings come from the environment', () => {
  const dir = useTempDir();
  const env = (extra: Record<string, string>) => ({ MODELPULSE_DATA_DIR: dir(), ...extra });

  it('reads the password, the user and both tokens, and is open without them', () => {
    expect(loadConfig(env({}), dir()).server.auth).toEqual({
      user: 'admin',
      password: null,
      apiToken: null,
      healthToken: null,
    });
    const config = loadConfig(
      env({
        MODELPULSE_DASHBOARD_USER: 'ops',
        MODELPULSE_DASHBOARD_PASSWORD: PASSWORD,
        MODELPULSE_API_TOKEN: API_TOKEN,
        MODELPULSE_HEALTH_TOKEN: HEALTH_TOKEN,
      }),
      dir(),
    );
    expect(config.server.auth).toEqual({
      user: 'ops',
      password: PASSWORD,
      apiToken: API_TOKEN,
      healthToken: HEALTH_TOKEN,
    });
  });

  it.each(['MODELPULSE_DASHBOARD_PASSWORD', 'MODELPULSE_API_TOKEN', 'MODELPULSE_HEALTH_TOKEN'])(
    'refuses a %s shorter than 8 characters, naming the variable but not the value',
    (name) => {
      expect(() => loadConfig(env({ [name]: 'short7!' }), dir())).toThrow(
        new RegExp(`^${name}: expected a secret of at least 8 characters`),
      );
      expect(() => loadConfig(env({ [name]: 'short7!' }), dir())).not.toThrow(/short7!/);
    },
  );
});
