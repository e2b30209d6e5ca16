import { Worker } from 'node:worker_threads';
import { percentileOfSorted } from '../src/stats/shares.js';
import { FLASH_DAY, mean503 } from './clients-day.js';
import { POPULATIONS, type Crowd, type Population } from './clients-populations.js';
import { DEFAULT_CROWD, type PopulationRun } from './clients-run.js';
import { PROBE_EVERY_MS } from './clients-world.js';

const LABELS: Record<Population, string> = {
  backoff: '1 backoff (5 attempts, full jitter 1 s/60 s)',
  gated: '2 /health-gated, no retries',
  guarded: '3 createGuardedFetch + reports',
  guardedAlt: '3b createGuardedFetch + reports + alternative',
};

/** Each population in its own worker thread (the four days share nothing but the seed), in the table's order. */
async function runAll(crowd: Crowd): Promise<PopulationRun[]> {
  const one = (population: Population) =>
    new Promise<PopulationRun>((resolve, reject) => {
      const worker = new Worker(new URL('./clients-worker.js', import.meta.url), { workerData: { population, crowd } });
      worker.once('message', (run: PopulationRun) => resolve(run));
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`bench clients: the ${population} worker exited with ${code} before answering`)),
      );
    });
  return Promise.all(POPULATIONS.map(one));
}

const seconds = (ms: number | null) => (ms === null ? '—' : `${Math.round(ms / 1_000)} s`);
const timeToImage = (run: PopulationRun, q: number) =>
  percentileOfSorted(
    [...run.tally.timesMs].sort((a, b) => a - b),
    q,
  );

/** The four populations over the scripted day, as printable lines; `detail` adds the hours and the service's state changes. */
export async function clientsTable(crowd: Crowd = DEFAULT_CROWD, detail = false): Promise<string[]> {
  const began = Date.now();
  const runs = await runAll(crowd);
  const lines = [
    `${crowd.clients} clients × up to ${crowd.images} images each, think ${crowd.thinkMs[0] / 1_000}–${crowd.thinkMs[1] / 1_000} s, seed ${crowd.seed}; ` +
      `scripted UTC day (mean 503 share ${(mean503(undefined, crowd.background) * 100).toFixed(1)} %, 95 % for 75 min, 85 % for 2 h, two slow hours${crowd.background === 1 ? '' : `; 503 shares outside the episodes × ${crowd.background}`}), ` +
      `service probing with text canaries every ${PROBE_EVERY_MS / 1_000} s (180 s timeout), virtual clock, /health and reports over loopback HTTP`,
    `3b may fall back to Flash; 1–3 use Pro only: in 3b the service also probes flash (gemini-2.5-flash-image, Pro's configured alternative) the same way against its own day ` +
      `(the same diurnal shape at half Pro's 503 shares, mean ${(mean503(FLASH_DAY) * 100).toFixed(1)} %, no overload episodes, no slow hours, images median 12 s / p95 24 s); ` +
      `Flash's images and 503s count in 3b's images and 503 calls`,
    'population | model calls | 503 calls (in episodes) | images | p50 / p95 time-to-image | open jobs at end (oldest) | /health asks | hold answers | hold errors | half-open sends | calls cut at advised deadline (uncut past it) | alternatives | reports accepted / stored (posts) | probes | probe spend | real time',
  ];
  for (const run of runs) {
    const t = run.tally;
    lines.push(
      [
        LABELS[run.population],
        t.calls,
        `${t.overloaded} (${t.overloadedInEpisodes})`,
        t.images,
        `${seconds(timeToImage(run, 0.5))} / ${seconds(timeToImage(run, 0.95))}`,
        `${t.openJobs} (${seconds(t.oldestOpenMs)})`,
        t.asks,
        t.heldAnswers,
        t.holdErrors,
        t.halfOpenSends,
        `${t.cutAtDeadline} (${t.pastDeadline})`,
        run.population === 'guardedAlt'
          ? `flash: ${t.flash.calls} calls, ${t.flash.overloaded} 503s, ${t.flash.images} images`
          : '0 (none configured)',
        `${t.reportsAccepted} / ${run.reportsStored} (${t.reportPosts})${run.flashReportsStored > 0 ? ` [${run.flashReportsStored} flash]` : ''}`,
        run.flashProbes > 0 ? `${run.probes} (${run.flashProbes} flash)` : run.probes,
        `$${run.probeSpendUsd.toFixed(4)}`,
        `${(run.realMs / 1_000).toFixed(1)} s (${run.requests} HTTP)`,
      ].join(' | '),
    );
  }
  const [one, two, three, threeB] = runs as [PopulationRun, PopulationRun, PopulationRun, PopulationRun];
  lines.push(
    ...against(three, one, '3 against 1'),
    ...against(threeB, one, '3b against 1 (Flash as the alternative)'),
    against(two, one, '2 against 1 (for context)')[0]!,
  );
  lines.push(`all four days in ${((Date.now() - began) / 1_000).toFixed(1)} s (one worker thread each)`);
  if (detail) lines.push(...details(runs));
  return lines;
}

/** The ratios of `run` against the baseline and the goals, with a note line per goal missed (the first line is the summary). */
function against(run: PopulationRun, baseline: PopulationRun, label: string): string[] {
  const fewer503 = baseline.tally.overloaded === 0 ? 0 : 1 - run.tally.overloaded / baseline.tally.overloaded;
  const images = run.tally.images / Math.max(1, baseline.tally.images);
  const p95 = (timeToImage(run, 0.95) ?? NaN) / (timeToImage(baseline, 0.95) ?? NaN);
  const goals = [
    {
      name: 'calls wasted on 503s',
      figure: `${(fewer503 * 100).toFixed(1)} % fewer`,
      goal: '≥ 80 % fewer',
      met: fewer503 >= 0.8,
    },
    { name: 'images delivered', figure: `${images.toFixed(2)}×`, goal: '≥ 1.00×', met: images >= 1 },
    { name: 'p95 time-to-image', figure: `${p95.toFixed(2)}×`, goal: '≤ 1.00×, no worse', met: p95 <= 1 },
  ];
  // Outside the episodes /health says send, and a client that delivers backoff's images there makes backoff's calls and meets its 503s.
  const outside = (r: PopulationRun) => r.tally.overloaded - r.tally.overloadedInEpisodes;
  const ceiling = baseline.tally.overloaded === 0 ? 0 : 1 - outside(run) / baseline.tally.overloaded;
  return [
    `${label}: ${goals.map((g) => `${g.name} ${g.figure} (goal ${g.goal}: ${g.met ? 'met' : 'MISSED'})`).join('; ')}`,
    ...goals
      .filter((g) => !g.met)
      .map((g) => `note: goal missed — ${g.name}: ${g.figure} against population 1, goal ${g.goal}`),
    `  of which outside the overload episodes: ${outside(run)} 503s against backoff's ${outside(baseline)} there; with not one inside, this run would have had ${(ceiling * 100).toFixed(1)} % fewer`,
  ];
}

function details(runs: readonly PopulationRun[]): string[] {
  const lines = ['', `per UTC hour, calls / 503s / images: ${runs.map((r) => LABELS[r.population]).join(' ; ')}`];
  for (let hour = 0; hour < 24; hour++) {
    lines.push(
      `${String(hour).padStart(2, '0')}h | ${runs.map((r) => Object.values(r.tally.hours[hour]!).join(' / ')).join(' | ')}`,
    );
  }
  for (const run of runs) lines.push(`service state changes (${run.population}): ${run.changes.join(', ') || 'none'}`);
  for (const run of runs.filter((r) => r.tally.asks > 0)) {
    const advised = Object.entries(run.tally.timeoutAdvice)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5);
    lines.push(
      `advised timeoutSeconds (${run.population}), most asked first: ${advised.map(([s, n]) => `${s} s × ${n}`).join(', ')}`,
    );
  }
  return lines;
}

/** `--clients=N --images=M --seed=S` after the branch name; the defaults otherwise. */
export function crowdFromArgs(args: readonly string[]): Crowd {
  const flag = (name: string) => {
    const found = args.find((a) => a.startsWith(`--${name}=`));
    if (found === undefined) return undefined;
    const value = Number(found.slice(name.length + 3));
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`bench clients: --${name} expects a whole number ≥ 1, got "${found}"`);
    return value;
  };
  const background = args.find((a) => a.startsWith('--background='));
  const factor = background === undefined ? DEFAULT_CROWD.background : Number(background.slice('--background='.length));
  if (!Number.isFinite(factor) || factor < 0 || factor > 2)
    throw new Error(`bench clients: --background expects a factor from 0 to 2, got "${background}"`);
  return {
    ...DEFAULT_CROWD,
    clients: flag('clients') ?? DEFAULT_CROWD.clients,
    images: flag('images') ?? DEFAULT_CROWD.images,
    seed: flag('seed') ?? DEFAULT_CROWD.seed,
    background: factor,
  };
}
