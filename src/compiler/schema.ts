/** The playbook authoring format: one zod schema per thing a marketer writes, and the file that holds them. */
import * as z from "zod";
import { attributePath, condition, destination, duration, fraction, id, sitePath } from "./values";

const description = z.string().optional().meta({ description: "What this is for, in plain words" });

/** What a slot, offer or variant shows. */
export const contentSchema = z.union(
  [
    z
      .strictObject({ html: z.string().min(1) })
      .meta({ description: "HTML with {{path|fallback}} holes; values are HTML-escaped" }),
    z
      .strictObject({ variant: z.string().regex(/^[\w-]+$/, { error: "must be a name of letters, digits, - or _" }) })
      .meta({ description: 'Keep the origin\'s <template data-pz-variant="name"> inside the slot' }),
    z
      .strictObject({ header: z.literal(true) })
      .meta({ description: "Decide only in headers; the origin renders the page" }),
  ],
  { error: 'content must be one of { html: "..." }, { variant: name } or { header: true }' },
);

export const slotSchema = z
  .strictObject({ description })
  .nullable()
  .meta({ description: 'A place on the page: <div data-pz-slot="id">' });

export const segmentSchema = z.strictObject({ description, when: condition });

export const stageSchema = z.strictObject({
  id,
  description,
  entry: condition,
  exit: condition
    .optional()
    .meta({ description: "Leave when this holds; without it, leave when entry no longer holds" }),
  suppress: z
    .array(id)
    .default([])
    .meta({ description: "Offer and experiment tags silenced while a visitor is in this stage" }),
  interrupts: z.boolean().optional().meta({
    description:
      "When its entry holds, it displaces a held stage written after it in this layer (default: the layer's `interrupts`)",
  }),
});

export const layerSchema = z.strictObject({
  id,
  description,
  stages: z
    .array(stageSchema)
    .min(1)
    .meta({ description: "A visitor holds at most one; the first whose entry holds is entered" }),
  interrupts: z.boolean().default(true).meta({
    description:
      "Default for its stages: a stage written earlier displaces a held later one as soon as its entry holds",
  }),
});

const policySchema = z.strictObject({
  cap: z
    .strictObject({ count: z.int().min(1), per: duration() })
    .optional()
    .meta({ description: "At most `count` impressions per window" }),
  suppressAfterAccept: duration({ forever: true })
    .optional()
    .meta({ description: "Hide for this long after an accept" }),
  backoff: z
    .strictObject({ dismissals: z.int().min(1), within: duration(), for: duration() })
    .optional()
    .meta({ description: "After `dismissals` dismissals within a window, hide `for` a while" }),
});

const propensitySchema = z.union(
  [
    fraction("A constant likelihood of acceptance"),
    z.strictObject({ from: attributePath, default: fraction("Used when the path holds no number") }),
  ],
  { error: "propensity must be a number from 0 to 1 or { from: profile.scores.x, default: 0.2 }" },
);

const learnSchema = z
  .strictObject({
    outcome: z
      .string()
      .min(1)
      .meta({ description: "What counts as a success: accept, click, or a goal name from `goals`" }),
    trials: z
      .enum(["decision", "impression"])
      .default("decision")
      .meta({ description: "What counts as a trial: a decision that showed the offer, or an impression" }),
    per: z
      .union([z.literal("everyone"), z.strictObject({ segments: z.array(id).min(1) }), z.strictObject({ layer: id })], {
        error: "per must be everyone, { segments: [a, b] } or { layer: id }",
      })
      .default("everyone")
      .meta({
        description:
          "The context the rate is learned within: everyone, the first listed segment a visitor is in (else other), or a layer's stage",
      }),
    priorStrength: z
      .number()
      .positive()
      .default(10)
      .meta({ description: "How many trials the prior (the offer's propensity) is worth" }),
    floor: fraction("Minimum share of its slot an eligible offer gets while it is still learning").default(0.01),
    until: z
      .int()
      .min(0)
      .default(100)
      .meta({ description: "Trials in a context after which the floor no longer applies" }),
  })
  .meta({
    description:
      "Learn the propensity from recorded outcomes (Thompson sampling); the propensity above becomes the prior mean",
  });

export const offerSchema = z.strictObject({
  id,
  description,
  slots: z.array(id).min(1).meta({ description: "Slots this offer may fill" }),
  tags: z.array(id).default([]).meta({ description: "Labels stages can suppress (e.g. sales)" }),
  eligible: condition.optional().meta({ description: "Who may see it; absent means everyone" }),
  value: z.number().min(0).default(1).meta({ description: "Business value when accepted" }),
  weight: z.number().min(0).default(1).meta({ description: "Marketer's lever on arbitration" }),
  propensity: propensitySchema.default(1),
  learn: learnSchema.optional(),
  content: contentSchema,
  policy: policySchema.optional().meta({ description: "Contact policy: caps, suppression after accept, back-off" }),
});

export const variantSchema = z.strictObject({
  id,
  description,
  weight: z
    .number()
    .min(0)
    .optional()
    .meta({ description: "Percentages summing to 100, or fractions summing to 1; absent = equal split" }),
  content: contentSchema
    .optional()
    .meta({ description: "Slot experiments: what this variant shows (absent = arbitration decides)" }),
});

const metricKind = z.enum(["conversion", "count", "value"]).meta({
  description:
    "conversion: the unit did it at all; count: how many times; value: the sum of its `value` (pz.track(name, {value}))",
});

const goalSchema = z.union([id, z.strictObject({ goal: id, metric: metricKind.default("conversion") })], {
  error: "a goal is a goal name, or { goal: name, metric: conversion | count | value }",
});

const guardrailSchema = z.strictObject({
  goal: id,
  metric: metricKind.default("conversion"),
  bad: z.enum(["increase", "decrease"]).default("increase").meta({
    description:
      "The direction that harms (default increase: complaints, refunds): a warning when the goal moves this way",
  }),
});

const analysisSchema = z.strictObject({
  method: z.enum(["sequential", "fixed"]).default("sequential").meta({
    description:
      "sequential: intervals valid however often they are read; fixed: a fixed-horizon test, read once at the planned size",
  }),
  tuning: z
    .number()
    .positive()
    .default(5000)
    .meta({ description: "Sequential: units you expect in the experiment; the interval is narrowest there" }),
});

const banditSchema = z
  .strictObject({
    goal: id.optional().meta({ description: "The goal whose conversion rate the weights follow; default the primary" }),
    floor: fraction("Minimum weight every variant keeps, so each goes on being measured").default(0.05),
    step: fraction("Most a variant's weight may move in one roll-up (every minute)").default(0.1),
  })
  .meta({
    description:
      "Multi-armed bandit: new visitors are assigned by weights the cron roll-up moves towards each variant's chance of being best (Thompson sampling); assigned visitors keep their variant",
  });

export const experimentSchema = z.strictObject({
  id,
  description,
  kind: z.enum(["slot", "header"]).meta({ description: "slot: the variant fills `slot`; header: only X-PZ-Variants" }),
  slot: id.optional(),
  variants: z.array(variantSchema).min(2),
  coverage: fraction("Share of targeted visitors included").default(1),
  audience: condition
    .optional()
    .meta({ description: "Who may be assigned; checked once, a visitor keeps the variant if this later changes" }),
  applies: condition.optional().meta({
    description:
      "Where and when it is in effect (page, context, stages, channel); checked on every request, sticky or not",
  }),
  targeting: condition.optional().meta({
    description:
      "Both in one: conditions on profile.* and visitor.* act as audience, the rest (request, session, stages) as applies",
  }),
  tags: z.array(id).default([]).meta({ description: "Labels a stage's `suppress` can silence, as for offers" }),
  namespace: z
    .strictObject({ id, range: z.tuple([fraction("start"), fraction("end")]) })
    .optional()
    .meta({ description: "Mutual exclusion: experiments in one namespace with disjoint ranges never share a visitor" }),
  goals: z
    .array(goalSchema)
    .default([])
    .meta({ description: "What the experiment is judged on; the first is primary" }),
  guardrails: z
    .array(guardrailSchema)
    .default([])
    .meta({ description: "Goals that must not move the bad way: a warning when they do" }),
  covariate: attributePath.optional().meta({
    description:
      "A profile attribute known before the experiment (e.g. profile.pastSpend): CUPED narrows the intervals with it",
  }),
  analysis: analysisSchema.optional().meta({ description: "How results are computed; default sequential" }),
  bandit: banditSchema.optional(),
  status: z
    .enum(["running", "paused"])
    .default("running")
    .meta({ description: "paused: no new assignments, sticky ones kept" }),
  seed: z.string().min(1).optional().meta({ description: "Hash seed; defaults to the id" }),
  hashAttribute: attributePath.default("visitor.id"),
  hashVersion: z.union([z.literal(1), z.literal(2)]).default(2),
});

export const holdoutSchema = z.strictObject({
  percent: z
    .number()
    .min(0)
    .max(100)
    .meta({ description: "Percentage of visitors (0-100) who get no personalisation" }),
  seed: z.string().min(1).default("holdout"),
});

const utmSchema = z.strictObject({
  source: z.string().optional(),
  medium: z.string().optional(),
  campaign: z.string().optional(),
  term: z.string().optional(),
  content: z.string().optional(),
});

export const campaignSchema = z.strictObject({
  id,
  description,
  channel: z.enum(["sms", "email", "other"]),
  destinations: z.array(destination).min(1),
  landing: sitePath.meta({ description: "Where bad, expired or foreign links land" }),
  ttl: duration().meta({ description: "How long a link stays valid, e.g. 14d" }),
  utm: utmSchema.default({}),
});

export const savedGroupSchema = z
  .array(z.union([z.string(), z.number()]))
  .meta({ description: "Values for $inGroup / $notInGroup" });

/** How each top-level key of a file is laid out: id-keyed maps, ordered lists, or a single object. */
export const sections = {
  slots: { layout: "map", entry: slotSchema, description: "Places on the page, by id" },
  segments: { layout: "map", entry: segmentSchema, description: "Named conditions, by id" },
  savedGroups: { layout: "map", entry: savedGroupSchema, description: "Lists of values, by id" },
  layers: { layout: "list", entry: layerSchema, description: "Evaluated in order (context first)" },
  offers: { layout: "list", entry: offerSchema, description: "What can fill which slot, and when" },
  experiments: { layout: "list", entry: experimentSchema, description: "A/B tests" },
  campaigns: { layout: "list", entry: campaignSchema, description: "Personalised links (SMS, email)" },
  goals: { layout: "list", entry: id, description: "Event names experiments are read against" },
  holdout: { layout: "single", entry: holdoutSchema, description: "Visitors kept away from all personalisation" },
} as const;

export type SectionName = keyof typeof sections;

function sectionSchema(section: (typeof sections)[SectionName]): z.ZodType {
  const whole =
    section.layout === "map"
      ? z.record(id, section.entry)
      : section.layout === "list"
        ? z.array(section.entry)
        : section.entry;
  return whole.optional().meta({ description: section.description });
}

/** One playbook file: whichever sections it holds, plus an optional `$schema` pointer for editors. */
export const playbookFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    ...Object.fromEntries(Object.entries(sections).map(([name, section]) => [name, sectionSchema(section)])),
  })
  .meta({
    title: "edge-personalizer playbook file",
    description: "One file of the rules/ playbook; the compiler merges all files.",
  });

export type SlotSource = z.output<typeof slotSchema>;
export type SegmentSource = z.output<typeof segmentSchema>;
export type LayerSource = z.output<typeof layerSchema>;
export type OfferSource = z.output<typeof offerSchema>;
export type ContentSource = z.output<typeof contentSchema>;
export type ExperimentSource = z.output<typeof experimentSchema>;
export type HoldoutSource = z.output<typeof holdoutSchema>;
export type CampaignSource = z.output<typeof campaignSchema>;

/** The JSON Schema editors use for completion and checks while a file is written (rules/schema.json). */
export function playbookJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(playbookFileSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
