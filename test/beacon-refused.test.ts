// Events the queue refuses: the beacon is told to resend (503 + Retry-After), and a resend is stored once.
import { describe, expect, it } from "vitest";
import { fetchWorker } from "./helpers/worker";
import { BROWSER_UA, eventually, refusingQueue, storedEvents, uid, visitorCookiePair } from "./helpers/events";

function beacon(body: unknown, cookie: string, overrides: Partial<Cloudflare.Env> = {}) {
  const request = new Request("http://localhost/__pz/events", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "Content-Type": "text/plain", "User-Agent": BROWSER_UA, Cookie: cookie },
  });
  return fetchWorker(request, overrides);
}

describe("a beacon the queue refuses", () => {
  it("answers 503 JSON with Retry-After and leaves pz_s alone; the tracker's resends are stored once", async () => {
    const cookie = await visitorCookiePair({ visitorId: uid("v") });
    const events = [
      { id: uid("e"), type: "accept", offer: "gold-card", slot: "hero" },
      { id: uid("e"), type: "custom", name: "signup" },
    ];
    const refused = await beacon({ events }, cookie, { EVENTS: refusingQueue });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ error: { code: "queue_unavailable" } });
    expect(refused.headers.getAll("Set-Cookie")).toEqual([]);

    for (let resend = 0; resend < 3; resend++) expect((await beacon({ events }, cookie)).status).toBe(202);
    const ids = events.map((e) => e.id);
    const rows = await eventually(async () => {
      const stored = await storedEvents(ids);
      return stored.length === ids.length ? stored : undefined;
    });
    expect(rows).toHaveLength(2);
  });
});
