import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { demoTargets } from '../config/defaults.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { ServiceConfig, Target } from '../config/target.js';
import { InputError } from './errors.js';

type Env = Record<string, string | undefined>;

/**
 * The configuration the service would load here (loadConfig), for its targets' cadence and knobs.
 * Replay sends nothing, so secrets the file names but this shell lacks (API keys, SMTP password,
 * report tokens) are filled with placeholders rather than refused.
 */
export function replayConfig(env: Env, cwd: string): { config: ServiceConfig; targets: Target[] } {
  const config = loadWithPlaceholders(env, cwd);
  // Demo mode's targets exist once its simulator listens; their ids and knobs do not depend on where.
  const targets = config.mode === 'demo' ? demoTargets('http://replay.invalid') : config.targets;
  return { config, targets };
}

function loadWithPlaceholders(env: Env, cwd: string): ServiceConfig {
  try {
    return loadConfig(env, cwd);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const missing = secretNames(env, cwd).filter((name) => !env[name]);
    if (missing.length === 0) throw new InputError(`configuration: ${error.message.split('\n')[0]}`);
  }
  const filled = {
    ...env,
    ...Object.fromEntries(
      secretNames(env, cwd)
        .filter((name) => !env[name])
        .map((name) => [name, `replay-placeholder-for-${name}`]),
    ),
  };
  try {
    return loadConfig(filled, cwd);
  } catch (error) {
    if (error instanceof ConfigError) throw new InputError(`configuration: ${error.message.split('\n')[0]}`);
    throw error;
  }
}

/** Names of environment variables the config file reads secrets from: the values of its `…Env` keys. */
function secretNames(env: Env, cwd: string): string[] {
  const path = resolve(cwd, env.MODELPULSE_CONFIG || 'modelpulse.yaml');
  if (!existsSync(path)) return [];
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (key.endsWith('Env') && typeof item === 'string') names.add(item);
        else walk(item);
      }
    }
  };
  try {
    walk(parse(readFileSync(path, 'utf8')));
  } catch {
    return [];
  }
  return [...names];
}
