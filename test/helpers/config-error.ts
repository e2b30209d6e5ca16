import { ConfigError } from '../../src/config/load.js';

/** The message of the ConfigError that `load` throws; fails the test when the configuration is accepted. */
export function configError(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError, but the configuration was accepted');
}
