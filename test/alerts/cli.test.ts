import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startInbox, type Inbox } from '../helpers/smtp.js';
import { useTempDir } from '../helpers/tmp.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'src', 'alerts', 'cli.js');
const PASSWORD = 'smtp-SECRET-cli-0001';
let inbox: Inbox | null = null;
afterEach(async () => {
  await inbox?.close();
  inbox = null;
});

function run(cwd: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

function writeConfig(dir: string, smtpPort: number, language?: string): void {
  writeFileSync(
    join(dir, 'modelpulse.yaml'),
    [
      'alerts:',
      ...(language ? [`  language: ${language}`] : []),
      '  email:',
      '    to: [oncall@example.com]',
      '    from: modelpulse@example.com',
      '    smtp:',
      '      host: 127.0.0.1',
      `      port: ${smtpPort}`,
      '      userEnv: SMTP_USER',
      '      passwordEnv: SMTP_PASSWORD',
      '      timeout: 5s',
      'targets:',
      '  - id: nano-banana-pro',
      '    provider: gemini',
      '    model: gemini-3-pro-image-preview',
      '    apiKeyEnv: GEMINI_API_KEY',
      '',
    ].join('\n'),
  );
}

describe('npm run alerts:test', () => {
  const tempDir = useTempDir();
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run the tests with "npm test", which compiles first`);
  });

  it('sends a test mail with the configured settings and prints the SMTP server answer', async () => {
    inbox = await startInbox({ auth: { user: 'alerts', pass: PASSWORD } });
    const dir = tempDir();
    writeConfig(dir, inbox.port);
    const { code, out } = await run(dir, { SMTP_USER: 'alerts', SMTP_PASSWORD: PASSWORD, GEMINI_API_KEY: 'AIza-test' });
    expect(out).toMatch(/SMTP 127\.0\.0\.1:\d+: connection and login OK/);
    expect(out).toMatch(/SMTP 127\.0\.0\.1:\d+ answered: 250 /);
    expect(out).toContain('accepted: oncall@example.com');
    expect(code).toBe(0);
    expect(inbox.mails).toHaveLength(1);
    expect(inbox.mails[0]!.subject).toBe('[modelpulse] test mail: alerts reach you');
    expect(inbox.mails[0]!.text).toContain('Targets: nano-banana-pro');
    expect(out + inbox.mails[0]!.text).not.toContain(PASSWORD);
  });

  it('words the test mail in alerts.language', async () => {
    inbox = await startInbox({ auth: { user: 'alerts', pass: PASSWORD } });
    const dir = tempDir();
    writeConfig(dir, inbox.port, 'ko');
    const { code } = await run(dir, { SMTP_USER: 'alerts', SMTP_PASSWORD: PASSWORD, GEMINI_API_KEY: 'AIza-test' });
    expect(code).toBe(0);
    expect(inbox.mails[0]!.subject).toBe('[modelpulse] 테스트 메일: 알림이 도착합니다');
    expect(inbox.mails[0]!.text).toMatch(/^modelpulse의 테스트 메일입니다\. .+\n\n설정: .+\n대상: nano-banana-pro/);
  });

  it('reports a rejected login with exit code 1 and without echoing the password', async () => {
    inbox = await startInbox({ auth: { user: 'alerts', pass: 'the-right-one' } });
    const dir = tempDir();
    writeConfig(dir, inbox.port);
    const { code, out } = await run(dir, { SMTP_USER: 'alerts', SMTP_PASSWORD: PASSWORD, GEMINI_API_KEY: 'AIza-test' });
    expect(code).toBe(1);
    expect(out).toMatch(/SMTP 127\.0\.0\.1:\d+ failed: .*Invalid (login|username)/i);
    expect(out).not.toContain(PASSWORD);
    expect(inbox.mails).toHaveLength(0);
  });

  it('names the missing password variable as a configuration error (exit 2)', async () => {
    const dir = tempDir();
    writeConfig(dir, 2525);
    const { code, out } = await run(dir, { SMTP_USER: 'alerts', GEMINI_API_KEY: 'AIza-test' });
    expect(code).toBe(2);
    expect(out).toContain(
      'modelpulse.yaml: alerts.email.smtp.passwordEnv: environment variable SMTP_PASSWORD is not set',
    );
  });

  it('says so when no alert channel is configured (exit 2)', async () => {
    const dir = tempDir();
    const { code, out } = await run(dir, { GEMINI_API_KEY: 'AIza-test' });
    expect(code).toBe(2);
    expect(out).toContain('no alert channel is configured');
  });
});
