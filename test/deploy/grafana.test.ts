import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HEALTH_STATES } from '../../src/domain/health.js';
import { OFFICIAL_STATUSES } from '../../src/domain/official.js';
import { parseTrace } from '../../src/simulator/scenario.js';
import { startSimulator } from '../../src/simulator/server.js';
import { parsePrometheus, shaped, type Family } from '../api/harness.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const root = join(import.meta.dirname, '../..');
const DASHBOARD_FILE = 'deploy/grafana/modelpulse.json';
const RULES_FILE = 'deploy/prometheus/modelpulse.rules.yml';
const DATASOURCE_REF = { type: 'prometheus', uid: '${datasource}' };

interface DataSourceRef {
  type?: string;
  uid?: string;
}
interface Query {
  refId?: string;
  expr?: string;
  datasource?: DataSourceRef;
}
interface Panel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: DataSourceRef | null;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Query[];
  panels?: Panel[];
  fieldConfig?: { defaults?: { mappings?: Array<{ type: string; options: Record<string, { text?: string }> }> } };
}
interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  datasource?: DataSourceRef;
  current?: { text?: unknown; value?: unknown };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
interface Dashboard {
  uid?: string;
  schemaVersion?: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'atan2',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);
const TOKEN = /(?:\d+(?:ms|[smhdwy]))+\b|0x[0-9a-f]+|\d*\.?\d+(?:e[+-]?\d+)?|[a-z_:][\w:]*|\S/gi;
const IDENTIFIER = /^[a-z_:][\w:]*$/i;

/** The metric names a PromQL expression reads: not functions, keywords, label names, durations or Grafana variables. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|#[^\n]*/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\[[^[\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/g, ' ');
  const tokens = bare.match(TOKEN) ?? [];
  const names = tokens.filter(
    (token, i) => IDENTIFIER.test(token) && !KEYWORDS.has(token.toLowerCase()) && tokens[i + 1] !== '(',
  );
  return [...new Set(names)];
}

/** The PromQL inside a Grafana Prometheus variable query; null when it names no series (label_values(label), label_names()). */
function variableExpr(query: string): string | null {
  const labelValues = /^\s*label_values\(\s*([\s\S]+),\s*[a-z_]\w*\s*\)\s*$/i.exec(query);
  if (labelValues) return labelValues[1]!;
  const result = /^\s*query_result\(([\s\S]*)\)\s*$/.exec(query);
  if (result) return result[1]!;
  return /^\s*(label_values|label_names|metrics)\(/.test(query) ? null : query;
}

const flatten = (panels: readonly Panel[]): Panel[] => panels.flatMap((p) => [p, ...flatten(p.panels ?? [])]);
const queryPanels = (d: Dashboard) => flatten(d.panels).filter((p) => p.type !== 'row');
const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));

/** Every PromQL expression in the dashboard: panel queries (rows' nested panels too) and variable queries. */
function dashboardExprs(d: Dashboard): Array<{ where: string; expr: string }> {
  const fromPanels = queryPanels(d).flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr ?? '' })),
  );
  const fromVariables = d.templating.list
    .filter((v) => v.type === 'query')
    .flatMap((v) => {
      const expr = variableExpr(variableQuery(v));
      return expr === null ? [] : [{ where: `variable $${v.name}`, expr }];
    });
  return [...fromPanels, ...fromVariables];
}

const read = (path: string) => readFileSync(join(root, path), 'utf8');
const dashboard = () => shaped<Dashboard>(JSON.parse(read(DASHBOARD_FILE)));
const namesRead = (d: Dashboard) => [...new Set(dashboardExprs(d).flatMap((e) => metricNames(e.expr)))].sort();

describe('the PromQL tokenizer the dashboard checks rely on', () => {
  it.each([
    ['histogram_quantile(0.95, sum by (le, target) (rate(x_bucket{a="b"}[5m])))', ['x_bucket']],
    [
      'sum without (instance) (rate(a_total{path=~"/(x|y)}", job!="j"}[5m] offset 1h30m)) / on (job) group_left (version) b_info',
      ['a_total', 'b_info'],
    ],
    [
      'max by (region) ((m{state="down"} == bool 1) * 4 or c:d:ratio_rate5m{x=~"$target"}[$__range:1m]) unless ignoring(le) n',
      ['m', 'c:d:ratio_rate5m', 'n'],
    ],
    ['1e3 * (time() - vector(0)) > 0x1f and nan', []],
    ['sum(rate(q_total[$__rate_interval])) by (le) # rate(commented_total[5m])', ['q_total']],
  ])('%s reads %j', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  it('reads the series selector of a label_values variable, not its label', () => {
    expect(variableExpr('label_values(modelpulse_target_state{region=~"$region"}, target)')).toBe(
      'modelpulse_target_state{region=~"$region"}',
    );
    expect(variableExpr('label_values(region)')).toBeNull();
    expect(variableExpr('query_result(topk(3, up))')).toBe('topk(3, up)');
  });

  it('collects queries from panels nested in collapsed rows and from variables', () => {
    const d: Dashboard = {
      panels: [
        {
          type: 'row',
          title: 'r',
          panels: [{ type: 'timeseries', title: 'inner', targets: [{ refId: 'A', expr: 'inner_total' }] }],
        },
      ],
      templating: { list: [{ name: 'v', type: 'query', query: { query: 'label_values(var_info, v)' } }] },
    };
    expect(namesRead(d)).toEqual(['inner_total', 'var_info']);
  });
});

describe(`${DASHBOARD_FILE} is a provisionable Grafana dashboard`, () => {
  it('has unique panel ids, and every panel queries Prometheus through the datasource variable', () => {
    const d = dashboard();
    const ids = flatten(d.panels).map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of queryPanels(d)) {
      expect(panel.datasource, `datasource of "${panel.title}"`).toEqual(DATASOURCE_REF);
      expect(panel.targets?.length, `queries of "${panel.title}"`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr?.trim(), `"${panel.title}" ${target.refId}`).toBeTruthy();
        expect(target.datasource ?? DATASOURCE_REF, `"${panel.title}" ${target.refId}`).toEqual(DATASOURCE_REF);
      }
      const { x, w } = panel.gridPos!;
      expect(x + w, `width of "${panel.title}"`).toBeLessThanOrEqual(24);
    }
  });

  it('defines every variable it uses, and uses no import-only ${DS_…} inputs (provisioning does not resolve them)', () => {
    const d = dashboard();
    const text = read(DASHBOARD_FILE);
    expect(text).not.toMatch(/__inputs|\$\{DS_/);
    const used = new Set([...text.matchAll(/\$\{?(\w+)/g)].map((m) => m[1]!).filter((name) => !name.startsWith('__')));
    const defined = d.templating.list.map((v) => v.name);
    expect([...used].filter((name) => !defined.includes(name))).toEqual([]);
    expect([...used].sort()).toEqual(['datasource', 'region', 'target']);
  });

  it('picks the Prometheus datasource, then regions and targets (several, or all) from modelpulse_target_state', () => {
    const d = dashboard();
    const byName = new Map(d.templating.list.map((v) => [v.name, v]));
    expect(byName.get('datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
      current: { text: 'Prometheus' },
    });
    for (const name of ['region', 'target']) {
      const variable = byName.get(name)!;
      expect(variable).toMatchObject({
        type: 'query',
        datasource: DATASOURCE_REF,
        multi: true,
        includeAll: true,
        allValue: '.*',
      });
      expect(variableQuery(variable)).toMatch(
        new RegExp(`^label_values\\(modelpulse_target_state(\\{[^}]*\\})?, ${name}\\)$`),
      );
    }
  });

  it('names every health state and every official status in its timelines, each with its own colour code', () => {
    const d = dashboard();
    const coded = (metric: string, label: string) => {
      const panel = queryPanels(d).find(
        (p) => p.type === 'state-timeline' && p.targets?.some((t) => t.expr?.includes(metric)),
      )!;
      const expr = panel.targets![0]!.expr!;
      const inQuery = Object.fromEntries(
        [...expr.matchAll(new RegExp(`${label}="(\\w+)"\\} == 1\\) \\* (\\d+)`, 'g'))].map((m) => [m[2]!, m[1]!]),
      );
      const mapped = Object.fromEntries(
        Object.entries(panel.fieldConfig!.defaults!.mappings![0]!.options).map(([code, m]) => [code, m.text]),
      );
      return { inQuery, mapped };
    };
    const states = coded('modelpulse_target_state', 'state');
    expect(Object.values(states.inQuery).sort()).toEqual([...HEALTH_STATES].sort());
    expect(states.mapped).toEqual(states.inQuery);
    const official = coded('modelpulse_official_status', 'status');
    expect(Object.values(official.inQuery).sort()).toEqual([...OFFICIAL_STATUSES].sort());
    expect(official.mapped).toEqual(official.inQuery);
  });

  it('is provisioned from /var/lib/grafana/dashboards against a datasource the variable defaults to', () => {
    const datasources = shaped<{ datasources: Array<{ name: string; uid: string; type: string; url: string }> }>(
      parseYaml(read('deploy/grafana/provisioning/datasources/prometheus.yml')),
    );
    const providers = shaped<{ providers: Array<{ type: string; options: { path: string } }> }>(
      parseYaml(read('deploy/grafana/provisioning/dashboards/modelpulse.yml')),
    );
    const current = dashboard().templating.list.find((v) => v.name === 'datasource')!.current;
    expect(datasources.datasources).toEqual([
      expect.objectContaining({
        name: 'Prometheus',
        type: 'prometheus',
        url: 'http://prometheus:9090',
        uid: current?.value,
      }),
    ]);
    expect(providers.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
  });
});

describe(`${DASHBOARD_FILE} reads only what modelpulse exports`, () => {
  const tempDir = useTempDir();
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  const REGION = 'europe-west4';
  const TOKEN_APP = 'grafana-app-token-0123456789abcdef';

  /** A service with a status page, a webhook channel and one app's reports, scraped after ten seconds of probes. */
  async function scrapeAfterProbes(): Promise<Map<string, Family>> {
    const clock = { now: Date.parse('2026-12-01T10:00:00Z') };
    const trace = parseTrace({
      loop: true,
      latencyScale: 0.001,
      segments: [{ start: '0s', duration: '1d', latency: { median: '2s', p95: '3s' } }],
    });
    const simulator = await startSimulator({ trace, now: () => clock.now, random: () => 0.5 });
    closers.push(() => simulator.close());
    const receiver = createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
    const base = fileConfig(tempDir(), [simulatedTarget('flash', simulator.url)], {
      webhook: {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        secret: undefined,
        timeoutMs: 2_000,
      },
    });
    const service = await startTestService(
      {
        ...base,
        server: { ...base.server, region: REGION },
        statusSources: [
          {
            id: 'google-cloud',
            kind: 'google-cloud',
            url: `${simulator.url}/status/google-cloud/incidents.json`,
            everyMs: 5_000,
            timeoutMs: 2_000,
            maxBytes: 1 << 20,
            match: ['Vertex Gemini API'],
            targets: ['flash'],
          },
        ],
        reports: { tokens: [{ id: 'app1', token: TOKEN_APP }], perMinute: 6_000, votesPerMinute: 6 },
      },
      clock,
    );
    closers.push(() => service.close());
    for (let second = 0; second < 10; second++) {
      service.tick();
      await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
      await service.official.idle();
      await service.alertsDelivered();
      clock.now += 1_000;
    }
    const report = (token: string) =>
      fetch(`${service.url}/api/reports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ reports: [{ target: 'flash', at: clock.now - 2_000, status: 200, latencyMs: 1_500 }] }),
      });
    expect((await report(TOKEN_APP)).status).toBe(200);
    expect((await report('not-a-known-token-0123456789')).status).toBe(401);
    return parsePrometheus(await (await fetch(`${service.url}/metrics`)).text());
  }

  it('finds a sample in GET /metrics for every plain metric name a panel or variable reads', async () => {
    const exported = new Set([...(await scrapeAfterProbes()).values()].flatMap((f) => f.samples.map((s) => s.name)));
    const plain = namesRead(dashboard()).filter((name) => !name.includes(':'));
    expect(plain.length).toBeGreaterThan(5);
    expect(
      plain.filter((name) => !exported.has(name)),
      'read by the dashboard, not in /metrics',
    ).toEqual([]);
  });

  it('can filter every series it reads by region, because each carries the server.region label', async () => {
    const families = await scrapeAfterProbes();
    const plain = new Set(namesRead(dashboard()).filter((name) => !name.includes(':')));
    const samples = [...families.values()].flatMap((f) => f.samples).filter((s) => plain.has(s.name));
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.filter((s) => s.labels.region !== REGION).map((s) => s.name)).toEqual([]);
  });

  it(`takes every recording rule it reads (names with ':') from ${RULES_FILE}`, () => {
    const rules = namesRead(dashboard()).filter((name) => name.includes(':'));
    expect(rules.length).toBeGreaterThan(0);
    if (!existsSync(join(root, RULES_FILE)))
      throw new Error(`${RULES_FILE} does not exist, yet the dashboard reads the recording rules ${rules.join(', ')}`);
    const file = shaped<{ groups?: Array<{ rules?: Array<{ record?: string }> }> }>(parseYaml(read(RULES_FILE)));
    const recorded = new Set(
      (file.groups ?? []).flatMap((g) => g.rules ?? []).flatMap((r) => (r.record ? [r.record] : [])),
    );
    expect(
      rules.filter((name) => !recorded.has(name)),
      `read by the dashboard, no record: in ${RULES_FILE}`,
    ).toEqual([]);
  });
});
