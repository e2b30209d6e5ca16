export { createGuardedFetch, fullJitter, ModelPulseHoldError } from './guarded-fetch.js';
export type {
  Advice,
  FetchInput,
  GuardedFetch,
  GuardedFetchOptions,
  RouteToAlternative,
  Sleep,
} from './guarded-fetch.js';
