/** What a dot path may read in the decision context, and what the values of a few well-known paths may be. */
import type { Playbook } from "./collect";
import { didYouMean, nearest } from "./suggest";

/** Fields of the closed namespaces (see DecisionContext); null = any field (profile is the CRM's). */
const fields: Record<string, readonly string[] | null> = {
  profile: null,
  visitor: ["id", "customerId", "isNew"],
  session: ["pages", "lastClick", "pageviews", "startedAt"],
  request: [
    "url",
    "path",
    "query",
    "utm",
    "referrer",
    "country",
    "city",
    "timezone",
    "device",
    "hour",
    "weekday",
    "channel",
  ],
  stages: null,
  consent: [],
  outcomes: ["goals", "offers", "stages"],
};

const OFFER_OUTCOMES = ["shown", "clicked", "accepted", "dismissed"];

/**
 * `outcomes.goals.<goal>`, `outcomes.offers.<offer>.<shown|clicked|accepted|dismissed>`, `outcomes.stages.<layer>`,
 * checked against the playbook.
 */
function checkOutcomesPath(parts: string[], book: Playbook): PathProblem | null {
  const [, kind, id, field] = parts;
  const path = parts.join(".");
  if (id === undefined) return null;
  const known =
    kind === "goals" ? book.declared.goals : kind === "offers" ? book.declared.offers : book.declared.layers;
  if (!known.has(id)) {
    const near = nearest(id, known.keys());
    const what = kind === "goals" ? "goal" : kind === "offers" ? "offer" : "layer";
    return {
      message: `unknown ${what} \`${id}\` in \`${path}\``,
      suggestion: near ? `did you mean \`${["outcomes", kind, near, ...parts.slice(3)].join(".")}\`?` : undefined,
    };
  }
  if (kind !== "offers")
    return parts.length > 3
      ? { message: `\`outcomes.${kind}.${id}\` is a single value; \`${path}\` reads nothing` }
      : null;
  if (field === undefined || (parts.length === 4 && OFFER_OUTCOMES.includes(field))) return null;
  const near = nearest(field, OFFER_OUTCOMES);
  return {
    message: `unknown attribute \`${path}\`: an offer's outcomes are ${OFFER_OUTCOMES.join(", ")}`,
    suggestion: near ? `did you mean \`outcomes.offers.${id}.${near}\`?` : undefined,
  };
}

/** Namespaces whose values never identify or describe a person: only these keep a rule nonPersonal. */
const nonPersonalNamespaces = new Set(["request", "consent"]);

/** Fields that hold objects of their own, with their closed keys where they have them. */
const nested: Record<string, readonly string[] | null> = {
  "request.query": null,
  "request.utm": null,
  "session.lastClick": ["slot", "offer", "at"],
};

/** A problem with a path, ready to report. */
export interface PathProblem {
  message: string;
  suggestion?: string;
}

/** The namespace a path reads (its first part). */
export function namespaceOf(path: string): string {
  return path.split(".")[0];
}

/** True when reading `path` involves no personal data. */
export function isNonPersonalPath(path: string): boolean {
  return nonPersonalNamespaces.has(namespaceOf(path));
}

function checkNested(parts: string[]): PathProblem | null {
  const parent = parts.slice(0, 2).join(".");
  const keys = Object.hasOwn(nested, parent) ? nested[parent] : undefined;
  if (parts.length > 2 && keys === undefined)
    return { message: `\`${parent}\` is not an object; \`${parts.join(".")}\` reads nothing` };
  if (keys && parts.length > 2 && !keys.includes(parts[2])) {
    const near = nearest(parts[2], keys);
    return {
      message: `unknown attribute \`${parts.join(".")}\``,
      suggestion: near ? `did you mean \`${parent}.${near}\`?` : `${parent} has ${keys.join(", ")}`,
    };
  }
  return null;
}

/** Why `path` cannot be read from the decision context, or null when it can. */
export function checkContextPath(path: string, book: Playbook): PathProblem | null {
  const parts = path.split(".");
  const [head, second] = parts;
  const known = Object.hasOwn(fields, head) ? fields[head] : undefined;
  if (known === undefined) {
    const near = nearest(head, Object.keys(fields));
    const rest = parts.slice(1).join(".");
    const suggestion = near ? `${near}${rest ? `.${rest}` : ""}` : `profile.${path}`;
    return {
      message: `unknown attribute \`${path}\`: paths start with profile., visitor., session., request., stages., outcomes. or consent`,
      suggestion: `did you mean \`${suggestion}\`?`,
    };
  }
  if (head === "outcomes" && second !== undefined && known!.includes(second)) return checkOutcomesPath(parts, book);
  if (head === "consent")
    return parts.length === 1
      ? null
      : { message: "consent is a single value (full or basic)", suggestion: "did you mean `consent`?" };
  if (head === "stages") {
    if (second === undefined || book.declared.layers.has(second)) return null;
    const near = nearest(second, book.declared.layers.keys());
    return {
      message: `unknown layer \`${second}\` in \`${path}\``,
      suggestion: near ? `did you mean \`stages.${near}\`?` : undefined,
    };
  }
  if (known === null || second === undefined) return null;
  if (!known.includes(second)) {
    const near = nearest(second, known);
    return {
      message: `unknown attribute \`${path}\`: ${head} has ${known.join(", ")}`,
      suggestion: near ? `did you mean \`${head}.${near}\`?` : undefined,
    };
  }
  return checkNested(parts);
}

/** Values a few paths can take, to catch `request.device: phone` or an unknown stage. */
export function allowedValues(
  path: string,
  book: Playbook,
): { values: readonly string[]; what: string; where?: string } | null {
  if (path === "request.device") return { values: ["mobile", "tablet", "desktop", "bot"], what: "device" };
  if (path === "consent") return { values: ["full", "basic"], what: "consent" };
  if (path === "session.lastClick.offer") return { values: [...book.declared.offers.keys()], what: "offer" };
  if (path === "session.lastClick.slot") return { values: [...book.declared.slots.keys()], what: "slot" };
  const stage = /^(?:outcomes\.)?stages\.([^.]+)$/.exec(path);
  const layerStages = stage ? book.stages.get(stage[1]) : undefined;
  if (stage && layerStages) return { values: [...layerStages], what: "stage", where: ` in layer \`${stage[1]}\`` };
  return null;
}

/** A problem with a value compared against `path`, or null. Country codes get a warning, not an error. */
export function checkContextValue(
  path: string,
  value: string,
  book: Playbook,
): (PathProblem & { warning?: boolean }) | null {
  if (path === "request.country" && !/^[A-Z0-9]{2}$/.test(value)) {
    return {
      message: `country "${value}" is not an upper-case two-letter code`,
      suggestion: `did you mean "${value.toUpperCase()}"?`,
      warning: true,
    };
  }
  const allowed = allowedValues(path, book);
  if (!allowed || allowed.values.includes(value)) return null;
  const list = allowed.values.length <= 8 ? `use one of: ${allowed.values.join(", ")}` : undefined;
  return {
    message: `unknown ${allowed.what} "${value}"${allowed.where ?? ""}`,
    suggestion: didYouMean(value, allowed.values) ?? list,
  };
}
