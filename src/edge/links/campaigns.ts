/** Checks a link request against its campaign: destination allowed, channel consistent, expiry in range. */
import type { CompiledCampaign } from "../../core/types";
import { checkDestination } from "./destinations";
import type { Channel, LinkPayload } from "./link-tokens";

/** Links never outlive this, whatever --ttl says. */
const MAX_LINK_TTL_MS = 400 * 24 * 60 * 60 * 1000;

export interface LinkRequest {
  customerId: string;
  channel: Channel;
  destination: string;
  /** Milliseconds; the campaign's ttl when absent. */
  ttlMs?: number;
}

/** The payload for one link, or why it cannot be minted. */
export function linkPayloadFor(
  campaign: CompiledCampaign,
  request: LinkRequest,
  now: number,
): { ok: true; payload: LinkPayload } | { ok: false; message: string } {
  if (campaign.channel !== "other" && campaign.channel !== request.channel) {
    return { ok: false, message: `campaign ${campaign.id} is for ${campaign.channel}, not ${request.channel}` };
  }
  const destination = checkDestination(campaign, request.destination);
  if (!destination.ok)
    return {
      ok: false,
      message: `${request.destination}: ${destination.reason} (${campaign.destinations.join(", ")})`,
    };
  const ttl = request.ttlMs ?? campaign.ttl;
  if (!(ttl > 0) || ttl > MAX_LINK_TTL_MS) return { ok: false, message: `ttl must be between 1 second and 400 days` };
  const payload: LinkPayload = {
    c: request.customerId,
    k: campaign.id,
    ch: request.channel,
    d: destination.location,
    e: Math.floor((now + ttl) / 1000),
  };
  return { ok: true, payload };
}
