// Runs one population of the clients benchmark in its own thread, so the three days use both cores.
import { parentPort, workerData } from 'node:worker_threads';
import type { Crowd, Population } from './clients-populations.js';
import { runPopulation } from './clients-run.js';

const { population, crowd } = workerData as { population: Population; crowd: Crowd };
parentPort!.postMessage(await runPopulation(population, crowd));
