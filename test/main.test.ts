import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const MAIN = join(import.meta.dirname, '..', 'dist', 'src', 'main.js');

function run(env: Record<string, string>, cwd: string) {
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

describe('modelpulse process', () => {
  const tempDir = useTempDir();
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run the tests with "npm test", which compiles first`);
  });

  it('refuses a bad config at start with the file, field path and line, and a non-zero exit', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'modelpulse.yaml'),
      [
        'targets:',
        '  - id: nano-banana',
        '    provider: gemini',
        '    model: gemini-2.5-flash-image',
        '    apiKeyEnv: GEMINI_API_KEY',
        '    probe:',
        '      every: often',
        '',
      ].join('\n'),
    );
    const { output, exited } = run({ GEMINI_API_KEY: 'AIza-test-SECRET-0000' }, dir);
    expect(await exited).toBe(2);
    expect(output.stderr).toContain(
      'modelpulse.yaml: targets[0].probe.every: expected a duration like "30s", got "often" (line 7)',
    );
    expect(output.stderr + output.stdout).not.toContain('AIza-test-SECRET-0000');
  });

  it('starts in labelled demo mode with no configuration, serves /healthz, and exits cleanly on SIGTERM', async () => {
    const dir = tempDir();
    const { child, output, exited } = run({ PORT: '0', MODELPULSE_DATA_DIR: join(dir, 'data') }, dir);
    const url = await waitFor(
      () => /listening on (http:\/\/\S+)/.exec(output.stdout)?.[1],
      'the listening line',
      10_000,
    );
    expect(output.stdout).toContain('DEMO MODE');
    const healthz = await fetch(`${url}/healthz`);
    expect(healthz.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(dir, 'data', 'modelpulse.sqlite'))).toBe(true);
  });
});
