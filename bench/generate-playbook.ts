/**
 * A generated, deterministic CompiledRuleset of any size (offers, segments, slots), plus matching contexts, for
 * benchmarks.
 */
import { getBucketRanges } from "../src/core/hash";
import type {
  CompiledExperiment,
  CompiledLayer,
  CompiledOffer,
  CompiledRuleset,
  CompiledSegment,
  Condition,
  DecisionContext,
  OfferHistory,
} from "../src/core/types";

const DAY = 86_400_000;

export interface PlaybookSize {
  offers: number;
  segments: number;
  slots: number;
  layers: number;
  experiments: number;
}

/** A small seeded generator (mulberry32) so every run benchmarks the same playbook. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Random = ReturnType<typeof random>;

const COUNTRIES = ["DE", "FR", "NL", "US", "GB", "ES", "IT", "PL"];
const TIERS = ["bronze", "silver", "gold", "platinum"];
const TAGS = ["sales", "service", "loyalty", "info"];

/** Plain conditions over profile, request and session, the kinds authors write most. */
function baseCondition(r: Random): Condition {
  switch (r.int(7)) {
    case 0:
      return { "profile.ltv": { $gte: r.int(1000) } };
    case 1:
      return { "profile.tier": { $in: [r.pick(TIERS), r.pick(TIERS)] } };
    case 2:
      return {
        "request.country": { $in: [r.pick(COUNTRIES), r.pick(COUNTRIES)] },
        "request.device": r.pick(["mobile", "desktop"]),
      };
    case 3:
      return { "profile.lastOrderAt": { $olderThan: `${10 + r.int(30)}d`, $within: `${60 + r.int(60)}d` } };
    case 4:
      return { "session.pageviews": { $gte: 1 + r.int(5) }, "request.hour": { $gte: r.int(12), $lt: 12 + r.int(12) } };
    case 5:
      return { "profile.optIns": { $elemMatch: { $eq: r.pick(["sms", "email", "push"]) } } };
    default:
      return { "request.path": { $regex: `^/${r.pick(["shop", "account", "help", "offers"])}` } };
  }
}

function segments(r: Random, n: number): CompiledSegment[] {
  const out: CompiledSegment[] = [];
  for (let i = 0; i < n; i++) {
    // About a quarter reference one or two earlier segments, as "lapsed-mid-value" builds on "lapsed".
    const condition: Condition =
      i > 4 && r.next() < 0.25
        ? {
            [r.pick(["$and", "$or"])]: [
              { $segment: `seg-${r.int(i)}` },
              r.next() < 0.5 ? { $segment: `seg-${r.int(i)}` } : baseCondition(r),
            ],
          }
        : baseCondition(r);
    const json = JSON.stringify(condition);
    const personal = json.includes("profile.") || json.includes("$segment");
    out.push({ id: `seg-${i}`, condition, needsProfile: personal, nonPersonal: !personal });
  }
  return out;
}

function layers(r: Random, n: number, segmentCount: number): CompiledLayer[] {
  return Array.from({ length: n }, (_, l) => ({
    id: l === 0 ? "context" : `layer-${l}`,
    stages: Array.from({ length: 3 + r.int(3) }, (_, s) => ({
      id: `stage-${l}-${s}`,
      entry: r.next() < 0.5 ? { $segment: `seg-${r.int(segmentCount)}` } : baseCondition(r),
      exit: r.next() < 0.5 ? null : baseCondition(r),
      suppressTags: l === 0 && s === 0 ? ["sales"] : [],
    })),
  }));
}

function offers(r: Random, n: number, slotIds: string[], segmentCount: number): CompiledOffer[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `offer-${String(i).padStart(4, "0")}`,
    slots: r.next() < 0.3 ? [r.pick(slotIds), r.pick(slotIds)] : [slotIds[i % slotIds.length]],
    tags: [r.pick(TAGS)],
    eligibility: r.next() < 0.6 ? { $segment: `seg-${r.int(segmentCount)}` } : r.next() < 0.5 ? baseCondition(r) : {},
    value: 1 + r.int(50),
    weight: r.pick([0.5, 1, 1, 2]),
    propensity:
      r.next() < 0.5
        ? { constant: Math.round(r.next() * 100) / 100 }
        : { path: `profile.scores.s${r.int(20)}`, default: 0.1 },
    content: {
      kind: "template" as const,
      html: `<div class="offer"><h3>Offer ${i}</h3><p>Hi {{profile.firstName|there}}</p></div>`,
    },
    policy: {
      cap: r.next() < 0.5 ? { count: 3, per: 7 * DAY } : null,
      suppressAfterAccept: r.next() < 0.5 ? 30 * DAY : "forever",
      backoff: r.next() < 0.3 ? { count: 2, window: 3 * DAY, for: 14 * DAY } : null,
    },
    nonPersonal: r.next() < 0.1,
  }));
}

function experiments(r: Random, n: number, slotIds: string[]): CompiledExperiment[] {
  return Array.from({ length: n }, (_, i) => {
    const slot = i % 3 === 0 ? slotIds[i % slotIds.length] : undefined;
    const variants = [
      { id: "control", weight: 0.5 },
      {
        id: "treatment",
        weight: 0.5,
        ...(slot ? { content: { kind: "variant" as const, variant: "treatment" } } : {}),
      },
    ];
    const coverage = r.pick([0.5, 1]);
    return {
      id: `exp-${i}`,
      seed: `exp-${i}`,
      hashAttribute: "visitor.id",
      hashVersion: 2,
      kind: slot ? "slot" : "header",
      ...(slot ? { slot } : {}),
      variants,
      ranges: getBucketRanges(2, coverage, [0.5, 0.5]),
      coverage,
      targeting: r.next() < 0.5 ? baseCondition(r) : {},
      namespace: i % 4 === 1 ? ["ns", (i % 8) / 8, (i % 8) / 8 + 0.125] : null,
      goals: ["purchase"],
      active: true,
    } satisfies CompiledExperiment;
  });
}

/** A compiled ruleset of the given size; the same size always gives the same ruleset. */
export function generatePlaybook(size: PlaybookSize, seed = 7): CompiledRuleset {
  const r = random(seed);
  const slotIds = Array.from({ length: size.slots }, (_, i) => `slot-${i}`);
  return {
    format: 1,
    version: `gen${size.offers}x${size.segments}`.padEnd(16, "0").slice(0, 16),
    slots: Object.fromEntries(slotIds.map((id) => [id, { id, fallback: "keep" as const }])),
    segments: segments(r, size.segments),
    layers: layers(r, size.layers, size.segments),
    offers: offers(r, size.offers, slotIds, size.segments),
    experiments: experiments(r, size.experiments, slotIds),
    holdout: { percent: 0.05, seed: "holdout" },
    campaigns: [],
    goals: ["purchase"],
    savedGroups: {},
  };
}

function history(r: Random, now: number): OfferHistory {
  const times = (k: number) => Array.from({ length: r.int(k) }, () => now - r.int(40) * DAY);
  return { shown: times(5), clicked: times(2), accepted: r.next() < 0.1 ? times(2) : [], dismissed: times(3) };
}

/** `count` varied visitor contexts (profiles, pages, offer histories) for `playbook`. */
export function generateContexts(playbook: CompiledRuleset, count: number, now: number, seed = 11): DecisionContext[] {
  const r = random(seed);
  return Array.from({ length: count }, (_, i) => {
    const scores = Object.fromEntries(
      Array.from({ length: 20 }, (_, s) => [`s${s}`, Math.round(r.next() * 100) / 100]),
    );
    const offerIds = playbook.offers.map((o) => o.id);
    const offersSeen = Object.fromEntries(Array.from({ length: r.int(8) }, () => [r.pick(offerIds), history(r, now)]));
    return {
      visitor: { id: `visitor-${i}`, isNew: r.next() < 0.3 },
      profile: {
        firstName: r.pick(["Ana", "Bo", "Chen", "<b>Dee</b>"]),
        ltv: r.int(1200),
        tier: r.pick(TIERS),
        lastOrderAt: new Date(now - r.int(120) * DAY).toISOString(),
        optIns: [r.pick(["sms", "email", "push"])],
        scores,
      },
      session: { pages: ["/", "/shop"], pageviews: 1 + r.int(6), startedAt: now - 300_000 },
      request: {
        url: "https://shop.example/shop/shoes",
        path: r.pick(["/", "/shop/shoes", "/account", "/help/returns", "/offers"]),
        query: {},
        utm: {},
        referrer: "",
        country: r.pick(COUNTRIES),
        city: "Berlin",
        timezone: "Europe/Berlin",
        device: r.pick(["mobile", "desktop", "tablet"] as const),
        hour: r.int(24),
        weekday: r.int(7),
      },
      stages: {},
      offers: offersSeen,
      assignments: {},
      consent: r.next() < 0.1 ? "basic" : "full",
    };
  });
}
