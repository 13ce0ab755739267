/**
 * POST /__pz/admin/links: mints short SMS codes in batches (the CLI's `links create --short`). Codes
 * live in KV, so only the worker can create them; each is checked against the live campaign first.
 */
import * as z from "../../edge/lib/zod";
import { newApp } from "../app";
import { jsonBodyOf } from "../../edge/lib/json-body";
import { linkPayloadFor } from "../../edge/links/campaigns";
import { customerIdSchema } from "../../edge/identity/customer-id";
import { jsonError } from "../../edge/lib/errors";
import { CHANNELS } from "../../edge/links/link-tokens";
import { readLiveRuleset } from "../../edge/rulesets/live-ruleset";
import { storeShortLink } from "../../edge/links/short-codes";

/** Two KV operations per code (collision check, put): 400 stays well inside one invocation's 1,000. */
const MAX_SHORT_LINKS_PER_REQUEST = 400;

const batchSchema = z.strictObject({
  campaign: z.string().check(z.minLength(1), z.maxLength(64)),
  channel: z.enum(CHANNELS),
  destination: z.string().check(z.minLength(1), z.maxLength(2048)),
  ttlMs: z.optional(z.int().check(z.positive())),
  customers: z.array(z.unknown()).check(z.minLength(1), z.maxLength(MAX_SHORT_LINKS_PER_REQUEST)),
});

export const adminLinks = newApp();

adminLinks.post("/links", jsonBodyOf(batchSchema, 256 * 1024), async (c) => {
  const { campaign: campaignId, channel, destination, ttlMs, customers } = c.req.valid("json");
  const ruleset = await readLiveRuleset(c.env.RULES);
  const campaign = ruleset?.campaigns.find((k) => k.id === campaignId);
  if (!campaign) return jsonError(c, 404, "unknown_campaign", `The live ruleset has no campaign ${campaignId}.`);

  const now = Date.now();
  const links: { index: number; code: string; expires: number }[] = [];
  const errors: { index: number; message: string }[] = [];
  await Promise.all(
    customers.map(async (customer, index) => {
      const id = customerIdSchema.safeParse(customer);
      if (!id.success) return errors.push({ index, message: id.error.issues[0].message });
      const minted = linkPayloadFor(campaign, { customerId: id.data, channel, destination, ttlMs }, now);
      if (!minted.ok) return errors.push({ index, message: minted.message });
      const code = await storeShortLink(c.env.PROFILES, minted.payload, now);
      links.push({ index, code, expires: minted.payload.e });
    }),
  );
  links.sort((a, b) => a.index - b.index);
  errors.sort((a, b) => a.index - b.index);
  return c.json({ campaign: campaign.id, links, errors });
});
