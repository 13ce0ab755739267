/**
 * pz.js as a page runs it: the script text is executed in a small simulated page (elements with
 * data-pz-* attributes, an IntersectionObserver the test drives, sendBeacon and fetch recorders),
 * and what it sends is checked against the schema POST /__pz/events validates with.
 */
import { runInNewContext } from "node:vm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { pageEventSchema } from "../src/edge/events/page-events";
import { servedScript } from "../src/edge/proxy/tracker-text";

/** The text the worker serves: pz.js (imported there as a text module) as servedScript() trims it. */
const TRACKER_SCRIPT = servedScript(readFileSync(new URL("../src/edge/proxy/pz.js", import.meta.url), "utf8"));

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

interface PageOptions {
  beaconWorks?: boolean;
  queued?: unknown[][];
  /** Statuses the worker answers fetches with, in order (then 202); 0 is a network error. */
  answers?: number[];
  /** The visit's sessionStorage, shared by the pages of one visit. */
  storage?: Map<string, string>;
  /** sessionStorage refuses every call, as a locked-down browser's does. */
  storageThrows?: boolean;
}

function page(options: PageOptions = {}) {
  const hero = new El({ "data-pz-slot": "hero", "data-pz-decision": "d-hero", "data-pz-offer": "gold-card" });
  const banner = new El({
    "data-pz-slot": "banner",
    "data-pz-decision": "d-banner",
    "data-pz-experiment": "banner-test",
    "data-pz-variant": "bold",
  });
  const button = new El({}, hero);
  // The site's own accept/dismiss control inside the slot, marked data-pz-action.
  const action = new El({}, new El({ "data-pz-action": "" }, hero));
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
  const answers = [...(options.answers ?? [])];
  const fetch = (url: string, init: { body: string; keepalive: boolean }) => {
    pending.push(
      readBody(init.body).then((events) => void sent.push({ via: "fetch", url, events, keepalive: init.keepalive })),
    );
    const status = answers.shift() ?? 202;
    if (status === 0) return Promise.reject(new TypeError("network error"));
    return Promise.resolve(new Response(null, { status, headers: status === 503 ? { "Retry-After": "3" } : {} }));
  };
  const storage = options.storage ?? new Map<string, string>();
  const refuse = () => {
    throw new Error("SecurityError: storage is disabled");
  };
  const sessionStorage = options.storageThrows
    ? { getItem: refuse, setItem: refuse, removeItem: refuse }
    : {
        getItem: (key: string) => storage.get(key) ?? null,
        setItem: (key: string, value: string) => void storage.set(key, value),
        removeItem: (key: string) => void storage.delete(key),
      };
  // The page's global object is its window, as in a browser.
  Object.assign(window, { window, document, navigator, fetch, Blob, setTimeout, clearTimeout, sessionStorage });
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
    action,
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

  it("records no click for a press of a control marked data-pz-action: its accept or dismiss is the outcome", async () => {
    const p = page();
    p.click(p.action);
    p.pz.accept("gold-card");
    await p.settle();
    expect(p.sent.flatMap((s) => s.events).map((e) => e.type)).toEqual(["accept"]);
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

  it("sends outcomes while the page is open with fetch (so it sees the answer), with keepalive", async () => {
    const p = page();
    p.pz.accept("gold-card");
    await p.settle();
    expect(p.sent).toEqual([expect.objectContaining({ via: "fetch", url: "/__pz/events", keepalive: true })]);
  });

  it("falls back to fetch with keepalive when sendBeacon refuses as the page goes", async () => {
    const p = page({ beaconWorks: false });
    p.see(p.hero, 1);
    p.hide();
    await p.settle();
    expect(p.sent).toEqual([expect.objectContaining({ via: "fetch", url: "/__pz/events", keepalive: true })]);
  });

  it("keeps events the worker refuses (503) and sends them again, same ids, after Retry-After", async () => {
    vi.useFakeTimers();
    const storage = new Map<string, string>();
    const p = page({ answers: [503], storage });
    p.pz.accept("gold-card");
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(storage.get("pz_backlog")!)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2900);
    expect(p.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    await p.settle();
    expect(p.sent).toHaveLength(2);
    expect(p.sent[1].events.map((e) => e.id)).toEqual(p.sent[0].events.map((e) => e.id));
    await vi.advanceTimersByTimeAsync(0);
    expect(storage.has("pz_backlog")).toBe(false);
  });

  it("keeps events through a network error too, and never refiles what the worker rejected as invalid", async () => {
    vi.useFakeTimers();
    const storage = new Map<string, string>();
    const p = page({ answers: [0, 400], storage });
    p.pz.dismiss("gold-card");
    await vi.advanceTimersByTimeAsync(0);
    expect(JSON.parse(storage.get("pz_backlog")!)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000);
    await p.settle();
    expect(p.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.sent).toHaveLength(2);
    expect(storage.has("pz_backlog")).toBe(false);
  });

  it("sends the backlog the previous page of the visit left, when it starts", async () => {
    vi.useFakeTimers();
    const storage = new Map<string, string>();
    const first = page({ answers: [503], storage });
    first.pz.accept("gold-card");
    await vi.advanceTimersByTimeAsync(0);
    const next = page({ storage });
    await vi.advanceTimersByTimeAsync(0);
    await next.settle();
    expect(next.sent).toEqual([expect.objectContaining({ via: "fetch" })]);
    expect(next.sent[0].events.map((e) => e.id)).toEqual(first.sent[0].events.map((e) => e.id));
    expect(valid(next.sent[0].events)).toBe(true);
  });

  it("holds at most 100 events in the backlog, the newest", async () => {
    vi.useFakeTimers();
    const storage = new Map<string, string>();
    const p = page({ answers: Array(10).fill(503), storage });
    for (let i = 0; i < 150; i++) p.pz.track(`e${i}`);
    p.pz.flush();
    await vi.advanceTimersByTimeAsync(0);
    const kept = JSON.parse(storage.get("pz_backlog")!) as { name: string }[];
    expect(kept).toHaveLength(100);
    expect(kept.at(-1)!.name).toBe("e149");
  });

  it("still sends, and resends within the page, where sessionStorage throws (a locked-down browser)", async () => {
    vi.useFakeTimers();
    const p = page({ storageThrows: true, answers: [503] });
    p.pz.accept("gold-card");
    await vi.advanceTimersByTimeAsync(3000);
    await p.settle();
    expect(p.sent).toHaveLength(2);
    expect(p.sent[1].events[0].id).toBe(p.sent[0].events[0].id);
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
