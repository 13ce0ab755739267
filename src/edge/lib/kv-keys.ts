/** Every KV key this worker reads or writes, built in one place (documented in docs/storage.md). */

/** PROFILES: a known customer's profile, by opaque CRM id (never an email or phone number). */
export const customerProfileKey = (customerId: string) => `profile:c:${customerId}`;
/** PROFILES: an anonymous visitor's profile, by the pz_id visitor id. */
export const visitorProfileKey = (visitorId: string) => `profile:v:${visitorId}`;
/** PROFILES: identity link from an anonymous visitor id to the customer it was stitched to. */
export const identityLinkKey = (visitorId: string) => `idlink:${visitorId}`;
/** PROFILES: a short SMS link code -> the link payload. */
export const shortLinkKey = (code: string) => `short:${code}`;

/** RULES: one immutable compiled ruleset version. */
export const rulesetKey = (version: string) => `ruleset:${version}`;
/** RULES: the live pointer ({ version, publishedAt, by }). */
export const LIVE_RULESET_KEY = "ruleset-live";
/** RULES: the publication history (newest first). */
export const RULESET_HISTORY_KEY = "ruleset-history";
/** RULES: the learned-state document the scheduled roll-up writes (learned propensities). */
export const LEARNED_STATE_KEY = "learned-state";
