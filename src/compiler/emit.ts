/** Builds the CompiledRuleset (without its version) from a checked playbook. */
import { conditionReferences, parseDuration } from "../core/conditions";
import { segmentConditions, splitTargeting } from "../core/condition-roots";
import { getBucketRanges } from "../core/hash";
import type {
  CompiledCampaign,
  CompiledExperiment,
  CompiledLearning,
  CompiledOffer,
  CompiledPolicy,
  CompiledRuleset,
  CompiledSegment,
  CompiledSlot,
  Condition,
} from "../core/types";
import type { Entry, Playbook } from "./collect";
import { compileContent, templatePaths } from "./content";
import { isNonPersonalPath, namespaceOf } from "./context-paths";
import { experimentMetrics, goalMetric, variantWeights } from "./experiments";
import { orderSegments } from "./references";
import type { CampaignSource, ExperimentSource, OfferSource } from "./schema";

type Flags = Map<string, { needsProfile: boolean; nonPersonal: boolean }>;

/** Milliseconds of a duration the schema has already accepted. */
const ms = (text: string | number): number => parseDuration(text) ?? 0;

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** True when a condition, through its paths and the segments it uses, reads no personal data. */
function conditionIsNonPersonal(condition: Condition, flags: Flags): boolean {
  const refs = conditionReferences(condition);
  return refs.paths.every(isNonPersonalPath) && refs.segments.every((s) => flags.get(s)?.nonPersonal ?? false);
}

function compileSegments(book: Playbook, flags: Flags): CompiledSegment[] {
  return orderSegments(book.segments).map(({ id, value }) => {
    const refs = conditionReferences(value.when);
    const needsProfile =
      refs.paths.some((p) => namespaceOf(p) === "profile") || refs.segments.some((s) => flags.get(s)?.needsProfile);
    const nonPersonal = conditionIsNonPersonal(value.when, flags);
    flags.set(id, { needsProfile, nonPersonal });
    return { id, description: value.description, condition: value.when, needsProfile, nonPersonal };
  });
}

function compilePolicy(policy: OfferSource["policy"]): CompiledPolicy {
  const accept = policy?.suppressAfterAccept;
  return {
    cap: policy?.cap ? { count: policy.cap.count, per: ms(policy.cap.per) } : null,
    suppressAfterAccept: accept === undefined ? null : accept === "forever" ? "forever" : ms(accept),
    backoff: policy?.backoff
      ? { count: policy.backoff.dismissals, window: ms(policy.backoff.within), for: ms(policy.backoff.for) }
      : null,
  };
}

/** Outcomes other than accept and click are goals (checked against `goals` before emitting). */
function compileLearning(learn: NonNullable<OfferSource["learn"]>): CompiledLearning {
  const per: CompiledLearning["per"] =
    learn.per === "everyone"
      ? { kind: "everyone" }
      : "segments" in learn.per
        ? { kind: "segment", segments: learn.per.segments }
        : { kind: "stage", layer: learn.per.layer };
  const outcome = learn.outcome === "accept" || learn.outcome === "click" ? learn.outcome : `goal:${learn.outcome}`;
  return {
    outcome,
    trials: learn.trials,
    per,
    priorStrength: learn.priorStrength,
    floor: learn.floor,
    until: learn.until,
  };
}

function compileOffer({ id, value: o }: Entry<OfferSource>, flags: Flags): CompiledOffer {
  const eligibility = o.eligible ?? {};
  const propensity: CompiledOffer["propensity"] =
    typeof o.propensity === "number"
      ? { constant: o.propensity }
      : { path: o.propensity.from, default: o.propensity.default };
  const content = compileContent(o.content);
  const paths = [
    ...("path" in propensity ? [propensity.path] : []),
    ...(content.kind === "template" ? templatePaths(content.html) : []),
  ];
  return {
    id,
    description: o.description,
    slots: o.slots,
    tags: o.tags,
    eligibility,
    value: o.value,
    weight: o.weight,
    propensity,
    content,
    policy: compilePolicy(o.policy),
    nonPersonal: conditionIsNonPersonal(eligibility, flags) && paths.every(isNonPersonalPath),
    ...(o.learn ? { learn: compileLearning(o.learn) } : {}),
  };
}

/**
 * The audience (checked at assignment) and where it applies (every request): `targeting` split, then the explicit
 * fields added.
 */
function experimentConditions(
  e: ExperimentSource,
  segments: ReadonlyMap<string, Condition>,
): { targeting: Condition; applies: Condition } {
  const split = splitTargeting(e.targeting ?? {}, segments);
  const both = (a: Condition, b: Condition | undefined): Condition =>
    !b ? a : Object.keys(a).length === 0 ? b : { $and: [a, b] };
  return { targeting: both(split.audience, e.audience), applies: both(split.applies, e.applies) };
}

function compileExperiment(
  { id, value: e }: Entry<ExperimentSource>,
  segments: ReadonlyMap<string, Condition>,
): CompiledExperiment {
  // Weights were checked before emitting; the fallback only satisfies the type.
  const weights = variantWeights(e.variants);
  const fractions = typeof weights === "string" ? e.variants.map(() => 1 / e.variants.length) : weights;
  return {
    id,
    description: e.description,
    seed: e.seed ?? id,
    hashAttribute: e.hashAttribute,
    hashVersion: e.hashVersion,
    kind: e.kind,
    ...(e.kind === "slot" ? { slot: e.slot } : {}),
    variants: e.variants.map((v, i) => ({
      id: v.id,
      weight: fractions[i],
      ...(v.content ? { content: compileContent(v.content) } : {}),
    })),
    ranges: getBucketRanges(e.variants.length, e.coverage, fractions),
    coverage: e.coverage,
    ...experimentConditions(e, segments),
    tags: e.tags,
    namespace: e.namespace ? [e.namespace.id, e.namespace.range[0], e.namespace.range[1]] : null,
    goals: [...new Set([...e.goals, ...e.guardrails].map((g) => goalMetric(g).goal))],
    active: e.status === "running",
    // Only when the playbook says more than goal names, so rulesets that do not use them keep their version.
    ...(e.guardrails.length || e.goals.some((g) => typeof g !== "string") ? { metrics: experimentMetrics(e) } : {}),
    ...(e.covariate ? { covariate: e.covariate } : {}),
    ...(e.analysis ? { analysis: e.analysis } : {}),
    ...(e.bandit
      ? {
          bandit: {
            goal: e.bandit.goal ?? goalMetric(e.goals[0]).goal,
            floor: e.bandit.floor,
            step: e.bandit.step,
          },
        }
      : {}),
  };
}

function compileCampaign({ id, value: c }: Entry<CampaignSource>): CompiledCampaign {
  const utm = Object.fromEntries(Object.entries(c.utm).filter((kv): kv is [string, string] => kv[1] !== undefined));
  return {
    id,
    description: c.description,
    channel: c.channel,
    destinations: c.destinations,
    landing: c.landing,
    ttl: ms(c.ttl),
    utm,
  };
}

/**
 * The compiled ruleset, minus its version. Offers, experiments, campaigns and goals are sorted by
 * id and segments topologically, so moving entries between files changes nothing; layers and
 * their stages keep the authored order, which decides evaluation.
 */
export function emitRuleset(book: Playbook): Omit<CompiledRuleset, "version"> {
  const flags: Flags = new Map();
  const slots: Record<string, CompiledSlot> = {};
  for (const { id, value } of [...book.slots].sort(byId))
    slots[id] = { id, description: value?.description, fallback: "keep" };
  const segments = compileSegments(book, flags);
  const segmentWhens = segmentConditions(segments);
  return {
    format: 1,
    slots,
    segments,
    layers: book.layers.map(({ id, value }) => ({
      id,
      description: value.description,
      stages: value.stages.map((s) => ({
        id: s.id,
        description: s.description,
        entry: s.entry,
        exit: s.exit ?? {},
        suppressTags: s.suppress,
        interrupts: s.interrupts ?? value.interrupts,
      })),
    })),
    offers: book.offers.map((o) => compileOffer(o, flags)).sort(byId),
    experiments: book.experiments.map((e) => compileExperiment(e, segmentWhens)).sort(byId),
    holdout: book.holdout ? { percent: book.holdout.value.percent / 100, seed: book.holdout.value.seed } : null,
    campaigns: book.campaigns.map(compileCampaign).sort(byId),
    goals: book.goals.map((g) => g.id).sort(),
    savedGroups: Object.fromEntries([...book.savedGroups].sort(byId).map((g) => [g.id, g.value])),
  };
}
