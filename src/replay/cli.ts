import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseReplayArgs, USAGE } from './args.js';
import { InputError } from './errors.js';
import { replay } from './replay.js';
import { formatReport, reportJson } from './report.js';

export interface ReplayIO {
  argv: readonly string[];
  env: Record<string, string | undefined>;
  cwd: string;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * `npm run replay`: the health engine and alert rules over a trace or stored history in simulated
 * time. Exit 0 when it ran, 2 for a bad option, file or setting (one line naming it), 1 otherwise.
 */
export async function main(io: ReplayIO): Promise<number> {
  try {
    const options = parseReplayArgs(io.argv);
    if (options === 'help') {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const report = await replay(options, io.env, io.cwd);
    io.stdout(options.json ? reportJson(report) : formatReport(report));
    return 0;
  } catch (error) {
    if (error instanceof InputError) {
      io.stderr(`replay: ${error.message}\n`);
      return 2;
    }
    io.stderr(`replay: failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  void main({
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
  }).then((code) => {
    process.exitCode = code;
  });
}
