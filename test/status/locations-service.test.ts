import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSource } from '../../src/config/status-schema.js';
import type { Target } from '../../src/config/target.js';
import type { Service } from '../../src/service.js';
import { outcome } from '../helpers/outcomes.js';
import { fileConfig, startTestService } from '../helpers/service.js';
import { simulatedTarget } from '../helpers/targets.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { googleIncident, type GoogleIncidentSpec } from './fixtures/google-incidents.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T09:00:00Z');
const SOURCE = 'google-cloud';
/** Three Vertex targets, one per kind of location, and a Gemini API target mapped to the same Google Cloud source. */
const VERTEX = { 'vertex-us': 'us-central1', 'vertex-eu': 'europe-west4', 'vertex-global': 'global' } as const;
const TARGETS = [...Object.keys(VERTEX), 'gemini'];
const tempDir = useTempDir();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface OfficialBody {
  status: string;
  incident: { title: string; startedAt: string } | null;
  agrees: boolean | null;
  greenWhileFailingSince: string | null;
}

interface World {
  service: Service;
  clock: { now: number };
  /** What incidents.json lists at the next poll. */
  feed: GoogleIncidentSpec[];
  /** Targets whose probes answer 503 UNAVAILABLE. */
  failing: Set<string>;
}

function target(id: string, everyMs: number): Target {
  const base = simulatedTarget(id, 'http://127.0.0.1:9', { every: everyMs, timeout: 60_000 });
  const location = VERTEX[id as keyof typeof VERTEX];
  if (location === undefined) return base;
  return {
    ...base,
    provider: 'vertex',
    apiKey: undefined,
    vertex: { project: 'modelpulse-test', location, credentials: { kind: 'adc' } },
  };
}

async function world(
  everyMs: number,
  feed: GoogleIncidentSpec[],
  mail: { officialIncidentsFor?: string; sent?: string[][] } = {},
): Promise<World> {
  const clock = { now: T0 };
  const failing = new Set<string>();
  const state: World['feed'] = [...feed];
  const source: StatusSource = {
    id: SOURCE,
    kind: 'google-cloud',
    url: 'https://status.cloud.google.com/incidents.json',
    everyMs: 5 * MINUTE,
    timeoutMs: 2_000,
    maxBytes: 1 << 20,
    match: ['Vertex Gemini API'],
    targets: TARGETS,
  };
  const page = async () =>
    new Response(JSON.stringify(state.map(googleIncident)), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  const targets = TARGETS.map((id) => target(id, everyMs)).map((t) =>
    t.id === mail.officialIncidentsFor ? { ...t, alerts: { ...t.alerts, officialIncidents: true } } : t,
  );
  const config = { ...fileConfig(tempDir(), targets), statusSources: [source], discrepancyAfterMs: 10 * MINUTE };
  const service = await startTestService(config, clock, {
    notifiers: [
      {
        channel: 'capture',
        send: async (notices) => {
          mail.sent?.push(notices.map((n) => `${n.draft.kind} ${n.target.id}`));
          return { deliveryId: 'c', subject: '', response: '250' };
        },
      },
    ],
    statusFetch: { fetch: page, sleep: async () => {} },
    probe: async (t) => outcome(t.id, clock.now, failing.has(t.id) ? 'overloaded' : 'ok', 800),
  });
  closers.push(() => service.close());
  return { service, clock, feed: state, failing };
}

/** Heartbeats every 10 s of simulated time up to `minute`, letting probes and status polls land. */
async function runTo({ service, clock }: World, minute: number): Promise<void> {
  while (clock.now < T0 + minute * MINUTE) {
    service.tick();
    await waitFor(() => service.scheduler.inFlight() === 0, 'probes to land');
    await service.official.idle();
    await service.alertsDelivered();
    clock.now += 10_000;
  }
}

async function official(service: Service, id: string): Promise<OfficialBody> {
  const body = (await (await fetch(`${service.url}/health/${id}`)).json()) as { official: OfficialBody };
  return body.official;
}

const open = (locations: string[]): GoogleIncidentSpec => ({
  id: 'vgem1',
  begin: T0 - 20 * MINUTE,
  current: locations,
});

describe('a Google Cloud incident counts for a Vertex target only where it happens', () => {
  const cases: Array<{ what: string; locations: string[]; concerned: string[] }> = [
    { what: 'in us-central1 only', locations: ['us-central1'], concerned: ['vertex-us', 'gemini'] },
    { what: 'at the global endpoint', locations: ['global'], concerned: ['vertex-global', 'gemini'] },
    {
      what: 'in europe-west4 and at the global endpoint',
      locations: ['europe-west4', 'global'],
      concerned: ['vertex-eu', 'vertex-global', 'gemini'],
    },
    { what: 'naming no location', locations: [], concerned: TARGETS },
  ];
  for (const { what, locations, concerned } of cases) {
    it(`an open "Vertex Gemini API" incident ${what} shows on /health of ${concerned.join(', ')} only`, async () => {
      const w = await world(MINUTE, [open(locations)]);
      await runTo(w, 2);
      for (const id of TARGETS) {
        const line = await official(w.service, id);
        if (concerned.includes(id)) {
          expect(line, id).toMatchObject({
            status: 'partial_outage',
            incident: { title: 'Vertex Gemini API customers see elevated errors' },
            agrees: false,
          });
        } else {
          expect(line, id).toMatchObject({ status: 'operational', incident: null, agrees: true });
        }
      }
      // The source itself still says what the whole page says.
      expect(w.service.official.view(SOURCE, w.clock.now)).toMatchObject({
        status: 'partial_outage',
        open: [{ locations }],
      });
    });
  }

  it('follows the incident as it moves: once only europe-west4 is affected, us-central1 reads operational again', async () => {
    const w = await world(MINUTE, [open(['us-central1'])]);
    await runTo(w, 2);
    expect(await official(w.service, 'vertex-us')).toMatchObject({ status: 'partial_outage' });
    w.feed[0] = { ...open(['europe-west4']), previous: ['us-central1'] };
    await runTo(w, 7);
    expect(await official(w.service, 'vertex-us')).toMatchObject({ status: 'operational', incident: null });
    expect(await official(w.service, 'vertex-eu')).toMatchObject({ status: 'partial_outage' });
  });
});

describe('"green while failing" and acknowledgement per location', () => {
  // The probe cadences users run, with the default 10 min threshold and 5 min status polls.
  for (const everyMs of [MINUTE, 5 * MINUTE]) {
    it(`probed every ${everyMs / 1000} s: a us-central1 incident acknowledges the us-central1 target's trouble, not europe-west4's`, async () => {
      const w = await world(everyMs, [open(['us-central1'])]);
      await runTo(w, 2);
      for (const id of ['vertex-us', 'vertex-eu', 'gemini']) w.failing.add(id);
      await runTo(w, 40);

      expect(await official(w.service, 'vertex-eu')).toMatchObject({
        status: 'operational',
        incident: null,
        agrees: false,
      });
      expect((await official(w.service, 'vertex-eu')).greenWhileFailingSince).not.toBeNull();
      expect(w.service.store.official.discrepancies('vertex-eu', 0)).toHaveLength(1);
      // The same incident speaks for the us-central1 target and, as before, for the non-Vertex one.
      for (const id of ['vertex-us', 'gemini']) {
        expect(await official(w.service, id), id).toMatchObject({
          status: 'partial_outage',
          agrees: true,
          greenWhileFailingSince: null,
        });
        expect(w.service.store.official.discrepancies(id, 0), id).toEqual([]);
      }

      w.failing.clear();
      await runTo(w, 70);
      const acknowledged = async (id: string) => {
        const body = (await (await fetch(`${w.service.url}/api/incidents?target=${id}`)).json()) as {
          incidents: Array<{ official: { acknowledgedAt: string | null; graded: boolean } | null }>;
        };
        const graded = body.incidents.filter((i) => i.official?.graded);
        expect(graded.length, id).toBeGreaterThan(0);
        return graded.map((i) => i.official!.acknowledgedAt);
      };
      // Posted 15 min after its back-dated begin, before our trouble began: acknowledged ahead of us.
      const posted = new Date(T0 - 5 * MINUTE).toISOString();
      expect(await acknowledged('vertex-us')).toEqual([posted]);
      expect(await acknowledged('gemini')).toEqual([posted]);
      expect(await acknowledged('vertex-eu')).toEqual([null]);
      expect(w.service.store.official.discrepancies('vertex-eu', 0)[0]).toMatchObject({ clearedBy: 'recovered' });
    });
  }
});

describe('official incident mails for Vertex targets', () => {
  it("mail a Vertex target's official incident only when it names the target's location", async () => {
    const sent: string[][] = [];
    const w = await world(MINUTE, [], { officialIncidentsFor: 'vertex-eu', sent });
    await runTo(w, 10);
    w.feed.push({ id: 'us-only', begin: T0 + 12 * MINUTE, current: ['us-central1'] });
    await runTo(w, 30);
    expect(sent.flat()).toEqual([]);
    w.feed.push({ id: 'eu-too', begin: T0 + 32 * MINUTE, current: ['europe-west4'] });
    await runTo(w, 50);
    expect(sent.flat()).toEqual(['official_incident vertex-eu']);
  });
});
