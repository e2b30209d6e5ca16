export { createGuardedFetch, fullJitter, ModelPulseHoldError } from './guarded-fetch.js';
export type { Advice, FetchInput, GuardedFetchOptions, RouteToAlternative } from './guarded-fetch.js';
