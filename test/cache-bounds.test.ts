// Every per-isolate cache is bounded in entries and bytes: profiles, page slots.
import { afterEach, describe, expect, it } from "vitest";
import { storedProfileSchema } from "../src/edge/profiles/profile-model";
import { PROFILE_CACHE_BYTES, PROFILE_CACHE_ENTRIES, ProfileCache } from "../src/edge/profiles/profile-cache";
import { forgetPageSlots, knownPage, rememberPage } from "../src/edge/proxy/page-slots";

const profileOf = (bytes: number) => storedProfileSchema.parse({ attributes: { note: "x".repeat(bytes) } });

describe("the profile cache's bounds", () => {
  it("never holds more bytes than its budget, dropping the least recently used first", () => {
    const cache = new ProfileCache(PROFILE_CACHE_ENTRIES, 100_000);
    for (let i = 0; i < 200; i++) cache.set(`profile:c:${i}`, profileOf(2_000), 0, 60_000);
    expect(cache.bytes).toBeLessThanOrEqual(100_000);
    expect(cache.size).toBeLessThan(200);
    expect(cache.get("profile:c:0", 1)).toBeUndefined();
    expect(cache.get("profile:c:199", 1)).toBeDefined();
  });

  it("does not remember one oversized profile, and a write that grows an entry keeps the budget", () => {
    const cache = new ProfileCache(PROFILE_CACHE_ENTRIES, 50_000);
    cache.set("profile:c:big", profileOf(200_000), 0, 60_000);
    expect(cache.get("profile:c:big", 1)).toBeUndefined();
    for (let i = 0; i < 20; i++) cache.set(`profile:c:${i}`, profileOf(2_000), 0, 60_000);
    cache.replace("profile:c:19", profileOf(40_000));
    expect(cache.bytes).toBeLessThanOrEqual(50_000);
    expect(cache.get("profile:c:19", 1)?.attributes.note).toHaveLength(40_000);
  });

  it("defaults to a budget of a few MB in 5,000 entries", () => {
    const cache = new ProfileCache();
    for (let i = 0; i < 6_000; i++) cache.set(`profile:v:${i}`, profileOf(1_500), 0, 60_000);
    expect(cache.size).toBeLessThanOrEqual(PROFILE_CACHE_ENTRIES);
    expect(cache.bytes).toBeLessThanOrEqual(PROFILE_CACHE_BYTES);
  });
});

describe("the page-slot memory's bounds", () => {
  afterEach(() => forgetPageSlots());

  it("keeps 1,000 paths at most, forgetting the oldest", () => {
    for (let i = 0; i < 1_500; i++) rememberPage(`/p/${i}`, { slots: ["hero"], templates: {} });
    expect(knownPage("/p/0")?.slots).toBeUndefined();
    expect(knownPage("/p/1499")?.slots).toEqual(["hero"]);
  });

  it("does not remember a very long path or a page with a great many slots", () => {
    rememberPage(`/${"a".repeat(5_000)}`, { slots: ["hero"], templates: {} });
    expect(knownPage(`/${"a".repeat(5_000)}`)?.slots).toBeUndefined();
    const many = Array.from({ length: 5_000 }, (_, i) => `slot-${i}`);
    rememberPage("/many", { slots: many, templates: {} });
    expect(knownPage("/many")?.slots).toBeUndefined();
  });
});
