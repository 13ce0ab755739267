/**
 * pz.js as a page runs it: the script text is executed in a small simulated page (elements with
 * data-pz-* attributes, an IntersectionObserver the test drives, sendBeacon and fetch recorders),
 * and what it sends is checked against the schema POST /__pz/events validates with.
 */
import { runInNewContext } from "node:vm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { pageEventSchema } from "../src/edge/events/page-events";

/** The file the worker serves as it is (imported there as a text module). */
const TRACKER_SCRIPT = readFileSync(new URL("../src/edge/proxy/pz.js", import.meta.url), "utf8");

type Attrs = Record<string, string>;

class El {
  constructor(
    readonly attrs: Attrs,
    readonly parent: El | null = null,
  ) {}
  getAttribute(name: string): string | null {
    return this.attrs[name] ?? null;
  }
  closest(selector: string): El | null {
    const name = selector.slice(1, -1);
    if (name in this.attrs) return this;
    return this.parent ? this.parent.closest(selector) : null;
  }
}

interface Sent {
  via: "beacon" | "fetch";
  url: string;
  events: Record<string, unknown>[];
  keepalive?: boolean;
}

function page(options: { beaconWorks?: boolean; queued?: unknown[][] } = {}) {
  const hero = new El({ "data-pz-slot": "hero", "data-pz-decision": "d-hero", "data-pz-offer": "gold-card" });
  const banner = new El({
    "data-pz-slot": "banner",
    "data-pz-decision": "d-banner",
    "data-pz-experiment": "banner-test",
    "data-pz-variant": "bold",
  });
  const button = new El({}, hero);
  const outside = new El({});
  const slots = [hero, banner];
  const sent: Sent[] = [];
  const listeners: Record<string, ((e: unknown) => void)[]> = {};
  let observerCallback: (entries: { target: El; intersectionRatio: number }[]) => void = () => {};
  const observed = new Set<El>();

  const readBody = async (body: Blob | string) =>
    JSON.parse(typeof body === "string" ? body : await body.text()).events;
  const pending: Promise<void>[] = [];
  const document = {
    readyState: "complete",
    visibilityState: "visible",
    querySelectorAll: () => slots,
    querySelector: (selector: string) =>
      slots.find((el) => selector === `[data-pz-offer="${el.attrs["data-pz-offer"]}"]`) ?? null,
    addEventListener: (type: string, fn: (e: unknown) => void) => (listeners[type] ??= []).push(fn),
  };
  const window: Record<string, unknown> = {
    crypto,
    pz: options.queued,
    addEventListener: (type: string, fn: (e: unknown) => void) => (listeners[type] ??= []).push(fn),
    IntersectionObserver: class {
      constructor(cb: typeof observerCallback, init: { threshold: number }) {
        expect(init.threshold).toBe(0.5);
        observerCallback = cb;
      }
      observe(el: El) {
        observed.add(el);
      }
      unobserve(el: El) {
        observed.delete(el);
      }
    },
  };
  const navigator = {
    sendBeacon: (url: string, body: Blob) => {
      if (options.beaconWorks === false) return false;
      pending.push(readBody(body).then((events) => void sent.push({ via: "beacon", url, events })));
      return true;
    },
  };
  const fetch = (url: string, init: { body: string; keepalive: boolean }) => {
    pending.push(
      readBody(init.body).then((events) => void sent.push({ via: "fetch", url, events, keepalive: init.keepalive })),
    );
    return Promise.resolve(new Response(null, { status: 202 }));
  };
  // The page's global object is its window, as in a browser.
  Object.assign(window, { window, document, navigator, fetch, Blob, setTimeout, clearTimeout });
  runInNewContext(TRACKER_SCRIPT, window);
  const pz = window.pz as {
    accept(o: string): void;
    dismiss(o: string): void;
    track(n: string, p?: object): void;
    flush(): void;
  };
  return {
    pz,
    sent,
    observed,
    hero,
    banner,
    button,
    outside,
    /** Resolves once every body sent so far has been read. */
    settle: () => Promise.all(pending),
    see: (target: El, intersectionRatio: number) => observerCallback([{ target, intersectionRatio }]),
    click: (target: El) => listeners.click.forEach((fn) => fn({ target })),
    hide: () => {
      document.visibilityState = "hidden";
      listeners.visibilitychange.forEach((fn) => fn({}));
    },
  };
}

const valid = (events: Record<string, unknown>[]) => events.every((e) => pageEventSchema.safeParse(e).success);

beforeEach(() => {
  vi.useRealTimers();
});

describe("pz.js", () => {
  it("records an impression once a slot is half visible, once, and sends it when the page is hidden", async () => {
    const p = page();
    expect([...p.observed]).toEqual([p.hero, p.banner]);
    p.see(p.hero, 0.3);
    p.see(p.hero, 0.6);
    p.see(p.banner, 1);
    expect(p.observed.size).toBe(0);
    expect(p.sent).toEqual([]);
    p.hide();
    await p.settle();
    expect(p.sent).toHaveLength(1);
    expect(p.sent[0].url).toBe("/__pz/events");
    expect(p.sent[0].via).toBe("beacon");
    const [hero, banner] = p.sent[0].events;
    expect(hero).toMatchObject({ type: "impression", slot: "hero", decision: "d-hero", offer: "gold-card" });
    expect(banner).toMatchObject({ type: "impression", slot: "banner", experiment: "banner-test", variant: "bold" });
    expect(hero.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(hero.id).not.toBe(banner.id);
    expect(valid(p.sent[0].events)).toBe(true);
  });

  it("sends a click inside a slot at once, with the slot's attribution, and ignores clicks elsewhere", async () => {
    const p = page();
    p.click(p.outside);
    p.click(p.button);
    await p.settle();
    expect(p.sent).toHaveLength(1);
    expect(p.sent[0].events).toEqual([
      expect.objectContaining({ type: "click", slot: "hero", decision: "d-hero", offer: "gold-card" }),
    ]);
  });

  it("sends accept and dismiss at once, attributed to the offer's slot, and batches pz.track", async () => {
    const p = page();
    p.pz.track("newsletter_signup", { plan: "pro" });
    p.pz.accept("gold-card");
    await p.settle();
    expect(p.sent).toHaveLength(1);
    const [track, accept] = p.sent[0].events;
    expect(track).toMatchObject({ type: "custom", name: "newsletter_signup", props: { plan: "pro" } });
    expect(accept).toMatchObject({ type: "accept", offer: "gold-card", slot: "hero", decision: "d-hero" });
    p.pz.dismiss("unknown-offer");
    await p.settle();
    expect(p.sent[1].events).toEqual([expect.objectContaining({ type: "dismiss", offer: "unknown-offer" })]);
    expect(valid([...p.sent[0].events, ...p.sent[1].events])).toBe(true);
  });

  it("falls back to fetch with keepalive when sendBeacon refuses", async () => {
    const p = page({ beaconWorks: false });
    p.pz.accept("gold-card");
    await p.settle();
    expect(p.sent).toEqual([expect.objectContaining({ via: "fetch", url: "/__pz/events", keepalive: true })]);
  });

  it("flushes a busy page every 20 events, and on its own after two seconds", async () => {
    vi.useFakeTimers();
    const p = page();
    for (let i = 0; i < 25; i++) p.pz.track(`e${i}`);
    await p.settle();
    expect(p.sent.map((s) => s.events.length)).toEqual([20]);
    vi.advanceTimersByTime(2000);
    await p.settle();
    expect(p.sent.map((s) => s.events.length)).toEqual([20, 5]);
  });

  it("replays calls queued before it loaded", async () => {
    const p = page({ queued: [["track", "early", { source: "snippet" }], ["nonsense"]] });
    p.pz.flush();
    await p.settle();
    expect(p.sent[0].events).toEqual([
      expect.objectContaining({ type: "custom", name: "early", props: { source: "snippet" } }),
    ]);
  });
});
