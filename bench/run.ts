import { storeBenchmarks, type Figure } from './store.js';

const format = (value: number) => (value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2));

function print(figure: Figure): void {
  const baseline = figure.baseline ? `; baseline (${figure.baseline.name}) ${format(figure.baseline.value)} ${figure.unit}; ratio ${figure.ratio!.toFixed(2)}` : '';
  process.stdout.write(`${figure.name}: ${format(figure.value)} ${figure.unit} (goal ${figure.goal})${baseline}\n`);
}

process.stdout.write('modelpulse benchmarks — figures from this machine, each with a baseline measured in the same run\n');
for (const figure of storeBenchmarks()) print(figure);
