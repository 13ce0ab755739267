#!/usr/bin/env node
// The `pz` command's entry: lets Node load the TypeScript sources through tsx, then runs cli/main.ts.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
