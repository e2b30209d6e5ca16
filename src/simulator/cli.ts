import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { seededRandom } from './random.js';
import { formatDuration } from '../config/duration.js';
import { isPresetName, officialSettings, parseTrace, presetTrace, PRESETS, type Trace } from './scenario.js';
import { startSimulator } from './server.js';

const USAGE = `usage: npm run simulator -- [--scenario ${Object.keys(PRESETS).join('|')}] [--trace file.json] [--time-scale N] [--port 9090] [--host 127.0.0.1] [--seed N]`;

function fail(message: string): never {
  process.stderr.write(`simulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the assignment inside the try below
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: 'string', default: 'healthy' },
        trace: { type: 'string' },
        'time-scale': { type: 'string' },
        port: { type: 'string', default: '9090' },
        host: { type: 'string', default: '127.0.0.1' },
        seed: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let trace: Trace;
  if (values.trace) {
    try {
      trace = parseTrace(JSON.parse(readFileSync(values.trace, 'utf8')));
    } catch (error) {
      fail(`${values.trace}: ${(error as Error).message}`);
    }
  } else if (isPresetName(values.scenario)) {
    trace = presetTrace(values.scenario);
  } else {
    fail(`unknown scenario "${values.scenario}"`);
  }
  if (values['time-scale'] !== undefined) {
    const scale = Number(values['time-scale']);
    if (!(scale > 0)) fail(`--time-scale: expected a positive number, got "${values['time-scale']}"`);
    trace = { ...trace, timeScale: scale };
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) fail(`--port: expected 0–65535, got "${values.port}"`);
  const simulator = await startSimulator({
    trace,
    port,
    host: values.host,
    random: values.seed ? seededRandom(Number(values.seed)) : undefined,
  });
  process.stdout.write(
    [
      `modelpulse simulator (not a real model) on ${simulator.url}`,
      `  Gemini API:        POST ${simulator.url}/v1beta/models/gemini-2.5-flash-image:generateContent  (header x-goog-api-key: anything)`,
      `  OpenAI-compatible: POST ${simulator.url}/v1/chat/completions  (Authorization: Bearer anything)`,
      `  status pages:      GET ${simulator.url}/status/google-cloud/incidents.json  (Google Cloud Service Health)`,
      `                     GET ${simulator.url}/status/statuspage/api/v2/summary.json  (Atlassian Statuspage)`,
      `                     GET ${simulator.url}/status/feed/history.rss, ${simulator.url}/status/feed/history.atom`,
      `  control:           GET ${simulator.url}/_simulator/state, POST /_simulator/force {"kind":"overloaded","times":3}`,
      `                     PUT /_simulator/status-fault {"mode":"hang"}, DELETE /_simulator/status-fault`,
      `scenario: ${values.trace ?? values.scenario}, time scale ${trace.timeScale}, official incidents ${officialLag(trace)}`,
      '',
    ].join('\n'),
  );
  const stop = () => void simulator.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function officialLag(trace: Trace): string {
  const { lag } = officialSettings(trace);
  return lag === 'never' ? 'never posted' : `posted ${formatDuration(lag)} late`;
}

void main();
