/** "Simulate a visitor" for the dashboard: a made-up request decided against the live ruleset, with its trace. */
import { decide, type Decision } from "../../core/index";
import type { RequestInfo } from "../../core/types";
import { buildDecisionContext, requestInfo } from "../proxy/decision-context";
import { newSession } from "../identity/session-cookie";
import { emptyProfile, type StoredProfile } from "../profiles/profile-model";
import { readProfile } from "../profiles/profile-store";
import type { LiveRuleset } from "./live-ruleset";

export interface SimulationInput {
  /** A stored customer profile to start from. */
  customerId?: string;
  /** Attributes (profile.*) laid over the stored ones. */
  attributes?: Record<string, unknown>;
  url: string;
  country?: string;
  device?: RequestInfo["device"];
}

/** The decision a first page view with these inputs would get now, with the trace. */
export async function simulateVisitor(
  kv: KVNamespace,
  live: LiveRuleset,
  input: SimulationInput,
  now: number,
): Promise<Decision> {
  const stored = input.customerId ? await readProfile(kv, { kind: "customer", id: input.customerId }) : null;
  const base: StoredProfile = stored ?? emptyProfile();
  const profile: StoredProfile = { ...base, attributes: { ...base.attributes, ...(input.attributes ?? {}) } };
  const request = requestInfo(
    new URL(input.url),
    new Headers(),
    input.country ? { country: input.country } : undefined,
    now,
  );
  if (input.device) request.device = input.device;
  const identity = input.customerId
    ? { visitorId: "simulated-visitor", customerId: input.customerId }
    : { visitorId: "simulated-visitor" };
  const ctx = buildDecisionContext({
    identity,
    isNew: true,
    session: newSession(Math.floor(now / 1000)),
    profile,
    request,
    consent: "full",
  });
  return decide(ctx, live.prepared, now, { explain: true });
}
