import { groupsFeature } from "../groups/feature.ts";
import { meshesFeature } from "../meshes/feature.ts";
import { messagingFeature } from "../messaging/feature.ts";
import { memoryFeature } from "../memory/feature.ts";
import { presenceFeature } from "../presence/feature.ts";
import { stateFeature } from "../state/feature.ts";
import type { FeatureFactory } from "./feature.ts";

/** Every broker feature; each owns the handlers for its frames. */
export const FEATURES: FeatureFactory[] = [meshesFeature, presenceFeature, groupsFeature, messagingFeature, stateFeature, memoryFeature];
