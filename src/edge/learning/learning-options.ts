/**
 * decide()'s learning options for a request: the isolate's learned state, read only when the ruleset has learning
 * offers or bandit experiments.
 */
import type { DecideOptions, PreparedRuleset } from "../../core/index";
import type { Env } from "../../env";
import { learnedStateFor, learnedStateSettings } from "./learned-state";

export async function learningFor(
  env: Env,
  prepared: PreparedRuleset,
  now: number,
  ctx: Pick<ExecutionContext, "waitUntil">,
): Promise<DecideOptions | undefined> {
  if (!prepared.readsLearnedState) return undefined;
  return { learning: { state: await learnedStateFor(env.RULES, now, learnedStateSettings(env), ctx) } };
}
