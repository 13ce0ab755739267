/**
 * What preparing a condition carries down the tree, including the walker itself, so operators recurse without importing
 * it.
 */
import type { SavedGroupsInput } from "./groups";
import type { Matcher, Test } from "./scope";

export interface PrepareContext {
  groups: SavedGroupsInput;
  /** Saved-group ids being resolved (the cycle guard). */
  visited: ReadonlySet<string>;
  /** Prepares a nested condition on any value (prepare.ts's prepareTest). */
  test(condition: unknown, ctx: PrepareContext): Test;
  /** Prepares a nested right-hand side (prepare.ts's prepareValue); `insensitive` inside $alli. */
  value(expected: unknown, ctx: PrepareContext, insensitive: boolean): Matcher;
}
