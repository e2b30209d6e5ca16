import { formatDuration } from '../config/duration.js';
import type { Target } from '../config/target.js';

/** What the API may show of a target: everything but the key (and, for Vertex, the credentials: only their kind). */
export function publicTarget(target: Target) {
  return {
    id: target.id,
    name: target.name,
    provider: target.provider,
    model: target.model,
    baseUrl: target.baseUrl,
    probe: {
      every: formatDuration(target.probe.every),
      timeout: formatDuration(target.probe.timeout),
      kind: target.probe.kind,
    },
    alternatives: target.alternatives,
    ...(target.vertex
      ? {
          vertex: {
            project: target.vertex.project,
            location: target.vertex.location,
            credentials:
              target.vertex.credentials.kind === 'key' ? 'service-account key file' : 'application default credentials',
          },
        }
      : {}),
  };
}
