import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTempDir } from './helpers/tmp.js';

const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
const REPORTER = fileURLToPath(new URL('./summary-reporter.ts', import.meta.url));
const SUMMARY = /^(\d+) passed, (\d+) failed, (\d+) skipped$/m;

describe('CI summary line', () => {
  const tempDir = useTempDir();

  /** Runs a separate vitest over fixture files in a temp dir, with only the summary reporter; returns its line. */
  async function summaryOf(files: Record<string, string>): Promise<string> {
    const dir = tempDir();
    const config = `export default { test: { include: ['*.test.js'], globals: true } };\n`;
    writeFileSync(join(dir, 'vitest.config.mjs'), config);
    for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), source);
    // The child must not think it runs inside this worker.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST') && key !== 'TEST'),
    );
    const args = [VITEST, 'run', '--root', dir, `--reporter=${REPORTER}`];
    const output = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: dir, env }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
    });
    const line = output.stdout.match(SUMMARY);
    if (!line) throw new Error(`no summary line in:\n${output.stdout}\n${output.stderr}`);
    return line[0];
  }

  it('counts the tests of a file whose beforeAll fails as failed, not skipped', async () => {
    const line = await summaryOf({
      'broken-setup.test.js': `
        beforeAll(() => { throw new Error('database did not start'); });
        it('reads a row', () => {});
        it('writes a row', () => {});
      `,
    });
    expect(line).toBe('0 passed, 2 failed, 0 skipped');
  });

  it('counts every test of a healthy file as passed', async () => {
    const line = await summaryOf({
      'healthy.test.js': `
        it('one', () => {});
        it('two', () => {});
        describe('group', () => { it('three', () => {}); });
      `,
    });
    expect(line).toBe('3 passed, 0 failed, 0 skipped');
  });

  it('fails only the block whose hook broke, keeps deliberate skips, counts an unloadable file once', async () => {
    const line = await summaryOf({
      'mixed.test.js': `
        it('passes outside the broken block', () => {});
        it.skip('is skipped on purpose', () => {});
        describe('broken block', () => {
          beforeAll(() => { throw new Error('fixture missing'); });
          it('never runs', () => {});
        });
      `,
      'unloadable.test.js': `throw new Error('import failed');\n`,
    });
    expect(line).toBe('1 passed, 2 failed, 1 skipped');
  });
});
