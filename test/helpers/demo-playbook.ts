/** The demo playbook (rules/*.yaml) as the compiler's input, read at build time by Vite. */
/// <reference types="vite/client" />
import type { SourceText } from "../../src/compiler";

const texts = import.meta.glob<string>("../../rules/*.{yaml,yml,json}", {
  query: "?raw",
  import: "default",
  eager: true,
});

/** Every file of rules/ except the generated schema.json, named as `pz` names them (rules/x.yaml). */
export function demoPlaybook(): SourceText[] {
  return Object.entries(texts)
    .filter(([path]) => !path.endsWith("/schema.json"))
    .map(([path, text]) => ({ path: path.replace(/^(\.\.\/)+/, ""), text }));
}
