import { alertBenchmarks } from './alerts.js';
import { clientValueBenchmarks } from './client-value.js';
import { clientsTable, crowdFromArgs } from './clients.js';
import { matrixSeeds, matrixTable } from './health-matrix.js';
import { httpBenchmarks } from './http.js';
import { storeBenchmarks, type Figure } from './store.js';
import { benchYear } from './year.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const format = (value: number) =>
  Number.isInteger(value) || value >= 100
    ? Math.round(value).toLocaleString('en-US')
    : value.toFixed(value >= 10 ? 1 : 2);

function print(figure: Figure): void {
  const baseline = figure.baseline
    ? `; baseline (${figure.baseline.name}) ${format(figure.baseline.value)} ${figure.unit}; ratio ${figure.ratio!.toFixed(2)}`
    : '';
  process.stdout.write(`${figure.name}: ${format(figure.value)} ${figure.unit} (goal ${figure.goal})${baseline}\n`);
}

process.stdout.write(
  'modelpulse benchmarks — figures from this machine, each with a baseline measured in the same run\n',
);
const only = process.argv[2];
if (!only || only === 'store') for (const figure of storeBenchmarks()) print(figure);
if (!only || only === 'year') {
  const dir = mkdtempSync(join(tmpdir(), 'modelpulse-year-'));
  try {
    for (const figure of benchYear(dir)) print(figure);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (!only || only === 'http') for (const figure of await httpBenchmarks()) print(figure);
if (!only || only === 'matrix') {
  process.stdout.write(
    '\nhealth verdicts: each scenario at each cadence (180 s timeout), real scheduler and engine on a virtual clock\n',
  );
  const table = await matrixTable();
  for (const line of table.lines) process.stdout.write(`${line}\n`);
  process.stdout.write(`goals met in ${table.met} of ${table.cells} cells\n\n`);
}
if (!only || only === 'seeds') {
  process.stdout.write('health verdicts over seeds 1-10 (the noise day is left out for time)\n');
  for (const line of await matrixSeeds(1, 10, [
    'hard',
    'heavy',
    'hang',
    'slow',
    'partial',
    'limited',
    'timeouts',
    'errors',
    'onOff',
  ]))
    process.stdout.write(`${line}\n`);
  process.stdout.write('\n');
}
if (!only || only === 'client') for (const figure of await clientValueBenchmarks()) print(figure);
if (!only || only === 'clients') {
  process.stdout.write(
    '\nclient loop over a scripted overload day: four populations of clients against the real service (3b with Flash as the alternative to Pro)\n',
  );
  for (const line of await clientsTable(crowdFromArgs(process.argv.slice(3)), process.argv.includes('--detail')))
    process.stdout.write(`${line}\n`);
  process.stdout.write('\n');
}
if (!only || only === 'alerts') for (const figure of await alertBenchmarks()) print(figure);
