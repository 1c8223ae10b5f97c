// Segment keys -> display names, for loaders and components alike (no server code). RFM
// names come from SEGMENT_DEFINITIONS unless the merchant renamed a segment in settings;
// behavioural names from behaviouralSegmentDefinitions.
import { BEHAVIOURAL_SEGMENT_KEYS, type BehaviouralSegmentKey, behaviouralSegmentDefinitions } from "~/analytics/behaviour";
import { SEGMENT_DEFINITIONS, type SegmentDefinition } from "~/analytics/segments";

export type SegmentKind = "rfm" | "behaviour";

const RFM_BY_KEY = new Map<string, SegmentDefinition>(Object.values(SEGMENT_DEFINITIONS).map((d) => [d.key, d]));
const BEHAVIOUR_DEFINITIONS = behaviouralSegmentDefinitions();

export function rfmDefinitionOf(key: string): SegmentDefinition | null {
  return RFM_BY_KEY.get(key) ?? null;
}

export function isBehaviourKey(key: string): key is BehaviouralSegmentKey {
  return (BEHAVIOURAL_SEGMENT_KEYS as readonly string[]).includes(key);
}

/** Which kind of segment a URL key names, or null for an unknown key. */
export function segmentKindOf(key: string): SegmentKind | null {
  if (RFM_BY_KEY.has(key)) return "rfm";
  if (isBehaviourKey(key)) return "behaviour";
  return null;
}

/** Display name of a segment key: the merchant's label, else the default name; the key itself when unknown. */
export function segmentName(key: string | null, labels: Readonly<Record<string, string>> = {}): string {
  if (key === null) return "Not scored";
  const label = labels[key]?.trim();
  if (label) return label;
  return RFM_BY_KEY.get(key)?.name ?? (isBehaviourKey(key) ? BEHAVIOUR_DEFINITIONS[key].name : key);
}

/** RFM segment keys in the rule table's order of value (Champions first). */
export const RFM_SEGMENT_KEYS: readonly string[] = Object.values(SEGMENT_DEFINITIONS).map((d) => d.key);
