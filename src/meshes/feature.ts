import type { FeatureFactory } from "../broker/feature.ts";
import { handleHello } from "./hello.ts";

export const meshesFeature: FeatureFactory = () => ({
  name: "meshes",
  handlers: { hello: handleHello },
});
