import { ConfigError, loadConfig } from './config/load.js';
import { formatDuration } from './config/duration.js';
import { startService } from './service.js';

async function main(): Promise<void> {
  // biome-ignore lint/suspicious/noImplicitAnyLet: TypeScript types it from the assignment inside the try below
  let config;
  try {
    config = loadConfig(process.env, process.cwd());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`modelpulse: configuration error\n${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const service = await startService(config, { onLockLost: () => process.exit(1) });
  const banner =
    config.mode === 'demo'
      ? '*** DEMO MODE: probing a built-in simulated Gemini API and relay, not real models. Set GEMINI_API_KEY or write modelpulse.yaml to monitor real APIs. ***'
      : `configuration: ${config.origin}`;
  process.stdout.write(`modelpulse listening on ${service.url}\n${banner}\n`);
  for (const target of service.targets) {
    process.stdout.write(
      `  target ${target.id}: ${target.provider} ${target.model} every ${formatDuration(target.probe.every)} (${target.probe.kind} canary)\n`,
    );
  }
  process.stdout.write(`data: ${service.store.path}\n`);
  process.stdout.write(
    `alerts: ${service.alertChannels.join(', ')}${service.alertChannels.includes('log') ? ' (no email or webhook configured: alerts are written to this log)' : ''}\n`,
  );

  const shutdown = (signal: string) => {
    process.stdout.write(`modelpulse: ${signal} received, finishing in-flight probes…\n`);
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(
          `modelpulse: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`modelpulse: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
