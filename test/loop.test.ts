/**
 * The loop closed end to end through the proxy, the beacon endpoint, the real queue and consumer:
 * an accepted offer is hidden on the very next page view (pz_s) and on another device later (the
 * profile), and a frequency cap holds across requests and devices.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { CompiledPolicy } from "../src/core/types";
import { kvProfile } from "./helpers/profiles";
import { forgetCachedRuleset, publishRuleset } from "../src/edge/rulesets/live-ruleset";
import { forgetPageSlots } from "../src/edge/proxy/page-slots";
import { offer, ruleset } from "./fixtures/ruleset";
import { eventually, postEvents, setCookieValue, uid, visitorCookiePair } from "./helpers/events";
import { visit } from "./helpers/proxy";
import { TestOrigin } from "./origin/index";

const DAY = 86_400_000;
let origin: TestOrigin;

async function publishOffer(policy: Partial<CompiledPolicy>): Promise<void> {
  forgetCachedRuleset();
  forgetPageSlots();
  const rules = ruleset({
    version: `loop-${crypto.randomUUID().slice(0, 8)}`,
    offers: [
      offer("gold-card", {
        slots: ["hero"],
        policy: { cap: null, suppressAfterAccept: null, backoff: null, ...policy },
      }),
    ],
  });
  await publishRuleset(env.RULES, rules, "test", Date.now());
}

/** A browser: its cookie jar, updated from every response. */
class Browser {
  private jar = new Map<string, string>();
  constructor(pzId: string) {
    this.jar.set("pz_id", pzId.slice("pz_id=".length));
  }
  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  keep(res: Response): void {
    for (const name of ["pz_id", "pz_s"]) {
      const value = setCookieValue(res, name);
      if (value !== undefined) this.jar.set(name, value);
    }
  }
  /**
   * Views the page; true when the hero slot shows the gold-card offer. Waits for the recorded events to be enqueued.
   */
  async heroShowsOffer(): Promise<boolean> {
    const { res, done } = await visit(origin, "/page", { headers: { Cookie: this.cookie() } });
    const html = await res.text();
    await done();
    this.keep(res);
    return /data-pz-offer="gold-card"/.test(html);
  }
  async send(events: unknown[]): Promise<void> {
    const res = await postEvents(events, this.cookie());
    expect(res.status).toBe(202);
    this.keep(res);
  }
}

beforeEach(() => {
  origin = new TestOrigin();
});

describe("an accepted offer", () => {
  it("is hidden on the very next page view, from the session cookie", async () => {
    await publishOffer({ suppressAfterAccept: "forever" });
    const browser = new Browser(await visitorCookiePair({ visitorId: uid("v") }));
    expect(await browser.heroShowsOffer()).toBe(true);
    await browser.send([{ id: uid(), type: "accept", slot: "hero", offer: "gold-card" }]);
    expect(await browser.heroShowsOffer()).toBe(false);
  });

  it("is hidden on the customer's other device once the consumer has updated the profile", async () => {
    await publishOffer({ suppressAfterAccept: 30 * DAY });
    const customerId = uid("C");
    const phone = new Browser(await visitorCookiePair({ visitorId: uid("v"), customerId }));
    expect(await phone.heroShowsOffer()).toBe(true);
    await phone.send([{ id: uid(), type: "accept", slot: "hero", offer: "gold-card" }]);

    const profile = await eventually(async () => {
      const p = await kvProfile({ kind: "customer", id: customerId });
      return p?.offers["gold-card"]?.accepted.length ? p : undefined;
    });
    expect(profile.offers["gold-card"].accepted).toHaveLength(1);

    const laptop = new Browser(await visitorCookiePair({ visitorId: uid("v"), customerId }));
    expect(await laptop.heroShowsOffer()).toBe(false);
    // An anonymous visitor is not affected by the customer's accept.
    expect(await new Browser(await visitorCookiePair({ visitorId: uid("v") })).heroShowsOffer()).toBe(true);
  });
});

describe("a frequency cap of 2 a day", () => {
  it("holds across page views on one device and carries to another through the profile", async () => {
    await publishOffer({ cap: { count: 2, per: DAY } });
    // The proxy counts a view into pz_s once the isolate knows the page has the slot (after the
    // path's first view anywhere); until then only the profile counts it. Warm the path first.
    await new Browser(await visitorCookiePair({ visitorId: uid("v") })).heroShowsOffer();
    const customerId = uid("C");
    const first = new Browser(await visitorCookiePair({ visitorId: uid("v"), customerId }));
    expect(await first.heroShowsOffer()).toBe(true);
    expect(await first.heroShowsOffer()).toBe(true);
    expect(await first.heroShowsOffer()).toBe(false);

    await eventually(async () => {
      const p = await kvProfile({ kind: "customer", id: customerId });
      return (p?.offers["gold-card"]?.shown.length ?? 0) >= 2 ? true : undefined;
    });
    const second = new Browser(await visitorCookiePair({ visitorId: uid("v"), customerId }));
    expect(await second.heroShowsOffer()).toBe(false);
  });
});
