import { alertBenchmarks } from './alerts.js';
import { detectionBenchmarks } from './detection.js';
import { httpBenchmarks } from './http.js';
import { storeBenchmarks, type Figure } from './store.js';

const format = (value: number) => (Number.isInteger(value) || value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2));

function print(figure: Figure): void {
  const baseline = figure.baseline ? `; baseline (${figure.baseline.name}) ${format(figure.baseline.value)} ${figure.unit}; ratio ${figure.ratio!.toFixed(2)}` : '';
  process.stdout.write(`${figure.name}: ${format(figure.value)} ${figure.unit} (goal ${figure.goal})${baseline}\n`);
}

process.stdout.write('modelpulse benchmarks — figures from this machine, each with a baseline measured in the same run\n');
const only = process.argv[2];
if (!only || only === 'store') for (const figure of storeBenchmarks()) print(figure);
if (!only || only === 'http') for (const figure of await httpBenchmarks()) print(figure);
if (!only || only === 'detection') for (const figure of await detectionBenchmarks()) print(figure);
if (!only || only === 'alerts') for (const figure of await alertBenchmarks()) print(figure);
