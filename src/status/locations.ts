import type { Target } from '../config/target.js';
import type { OfficialIncident, OfficialView } from '../domain/official.js';
import { googleStatus } from './google-cloud.js';

/**
 * Whether an official incident concerns a target at `location` (a Vertex location; null for a target
 * without one, which every incident concerns). An incident naming no location concerns everyone.
 * "global" is Vertex's global endpoint, one location among the others: an incident there concerns
 * targets at global, and a regional one only targets in that region.
 */
export function concerns(incident: Pick<OfficialIncident, 'locations'>, location: string | null): boolean {
  const named = incident.locations ?? [];
  if (location === null || named.length === 0) return true;
  const here = location.toLowerCase();
  return named.some((id) => id.toLowerCase() === here);
}

/** A Google Cloud source's view for a target at `location`: only the incidents there, and the status they make. */
export function viewAt(view: OfficialView, location: string | null): OfficialView {
  const open = view.open.filter((incident) => concerns(incident, location));
  if (open.length === view.open.length) return view;
  return { ...view, open, status: view.status === 'unknown' ? 'unknown' : googleStatus(open) };
}

/** The location of each Vertex target, by target id; other targets have none. */
export function vertexLocations(targets: readonly Pick<Target, 'id' | 'vertex'>[]): Map<string, string> {
  return new Map(targets.flatMap((t) => (t.vertex ? [[t.id, t.vertex.location] as const] : [])));
}
