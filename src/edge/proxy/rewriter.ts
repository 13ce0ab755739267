/**
 * Streams an HTML page through HTMLRewriter with the decision applied: slots filled, origin-rendered
 * variants chosen, text bindings filled (always escaped), the tracker tag added. Nothing is buffered
 * beyond one origin chunk but a short page read whole, and a page the parser cannot follow is finished with the
 * origin's own bytes (the checked and read-whole ways here; the watched and careful ways in rewrite-fallback.ts).
 */
import type { SlotDecision } from "../../core/types";
import { readPath } from "../../core/conditions/paths";
import { printable } from "../../core/templates";
import { log } from "../lib/log";
import type { PageShape } from "./page-slots";
import { rewriteFailSafe, unmarked } from "./rewrite-fallback";
import { nativeCharset } from "./rewrite-risk";
import { joinBytes, readWhole } from "../lib/read-start";

export interface RewritePlan {
  /** Decided slots by slot id; slots without a decision keep the origin's content. */
  slots: Record<string, SlotDecision>;
  /** What `data-pz-text` bindings read (profile, request, …); unknown paths keep the origin's text. */
  bindings: Record<string, unknown>;
  /** Markup inserted before </body> (the tracker tag), when set. */
  beforeBodyEnd?: string;
  /** Note each slot's `<template data-pz-variant>` children (the ruleset uses origin-rendered variants). */
  learnTemplates?: boolean;
  /** The page was at risk last time (page-slots.ts `needsCare`): rewrite it the careful way. */
  careful?: boolean;
  /**
   * The page is a cached copy looked through before it was stored, with nothing the rewriter may give up on: it is
   * rewritten with no fail-safe between (the cheapest way, as the rewriter alone).
   */
  checked?: boolean;
  /** The origin's Content-Length, when it sent one: a short page is read whole first (see READ_AHEAD_BYTES). */
  length?: number;
}

/**
 * A page the origin says is this short is read whole before it is rewritten, for at most READ_AHEAD_MS: it then goes
 * through the rewriter alone, to its end, before a byte is sent (the cheapest way: no search of the page, no fail-safe
 * between); when the rewriter gives up on it, the careful way rewrites it again from its start. A page not whole by
 * then streams on the watched way, its first bytes first.
 */
const READ_AHEAD_BYTES = 128 * 1024;
const READ_AHEAD_MS = 5;

const encoder = new TextEncoder();

export interface RewrittenPage {
  response: Response;
  /** The slots (and, when asked, their templates) found on the page, once the whole document has streamed through. */
  seen: Promise<PageShape>;
}

/** What the handlers note while the page streams. */
class Seen {
  readonly slots = new Set<string>();
  readonly templates: Record<string, string[]> = {};
  template(slot: string, variant: string): void {
    const list = (this.templates[slot] ??= []);
    if (!list.includes(variant)) list.push(variant);
  }
  /** What the rewriter may give up on was found (rewrite-fallback.ts); `partial` when the rest went unrewritten. */
  careful = false;
  partial = false;
  /** Forgets what a rewriter that gave up noted, before the page is rewritten again. */
  clear(): void {
    this.slots.clear();
    for (const slot of Object.keys(this.templates)) delete this.templates[slot];
  }
  shape(): PageShape {
    return { slots: [...this.slots], templates: this.templates, careful: this.careful, partial: this.partial };
  }
}

/**
 * `handlers` with each call kept from throwing into the parser (which would stop the page): the element then
 * keeps what it had when the handler stopped.
 */
function guarded<T extends object>(handlers: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(handlers)) {
    out[name] = (arg: unknown) => {
      try {
        return (fn as (arg: unknown) => unknown)(arg);
      } catch (err) {
        log("warn", "a rewriting handler failed; that element keeps the origin's content", { reason: String(err) });
      }
    };
  }
  return out as T;
}

/** Elements whose text is live code or style, never a place for a text binding. */
const LIVE_TEXT = new Set(["script", "style"]);

/** Marks a filled slot so the tracker attributes impressions and clicks to the decision. */
function markSlot(el: Element, d: SlotDecision): void {
  el.setAttribute("data-pz-decision", d.decisionId);
  if (d.offer) el.setAttribute("data-pz-offer", d.offer);
  if (d.experiment) {
    el.setAttribute("data-pz-experiment", d.experiment.id);
    el.setAttribute("data-pz-variant", d.experiment.variant);
  }
}

/**
 * Rewrites `response` (an HTML 200) with `plan`. The returned response has the origin's status and
 * headers; the caller sets cookies and cache headers on it.
 */
export async function rewritePage(response: Response, plan: RewritePlan): Promise<RewrittenPage> {
  if (!response.body) return { response, seen: Promise.resolve({ slots: [], templates: {} }) };
  const seen = new Seen();
  let finish: (shape: PageShape) => void = () => {};
  const shape = new Promise<PageShape>((resolve) => (finish = resolve));
  // A page at risk may be taken over by a second rewriter (rewrite-fallback.ts): only the last one's end is the page's.
  let generation = 0;
  /** Whether a rewriter of this page has put the tag before </body> (one per page, whichever rewriter it was). */
  const tracker = { added: false };
  const build = (): HTMLRewriter => {
    const own = generation;
    const rewriter = new HTMLRewriter();
    // Each handler is a call from the parser into JS; the variant machinery is attached only when a
    // decision chooses among origin-rendered variants.
    if (plan.learnTemplates || Object.values(plan.slots).some((d) => d.content.kind === "variant"))
      onSlotsWithVariants(rewriter, plan, seen);
    else onSlots(rewriter, plan, seen);
    rewriter
      .on(
        "[data-pz-text]",
        guarded({
          element(el) {
            // Text written into a script or style would run as code or style: the origin's content stays.
            if (LIVE_TEXT.has(el.tagName)) return;
            const path = unmarked(el.getAttribute("data-pz-text") ?? "");
            const value = printable(readPath(plan.bindings, path.split(".")));
            if (value !== undefined) el.setInnerContent(value, { html: false });
          },
        }),
      )
      .onDocument(
        guarded({
          end() {
            if (own === generation) finish(seen.shape());
          },
        }),
      );
    if (plan.beforeBodyEnd) onBodyEnd(rewriter, plan.beforeBodyEnd, tracker);
    return rewriter;
  };
  const contentType = response.headers.get("content-type");
  const native = nativeCharset(contentType);
  if (!native && !rewriterReads(contentType)) {
    // A charset HTMLRewriter refuses outright (UTF-16, ISO-2022-JP, an unknown label): the page goes out untouched.
    log("warn", "the page's charset is one the rewriter cannot read; it is served as the origin sent it", {
      contentType,
    });
    seen.partial = true;
    return { response, seen: Promise.resolve(seen.shape()) };
  }
  let careful = plan.careful === true || !native;
  let origin: ReadableStream<Uint8Array> = response.body;
  if (plan.checked) {
    // Nothing in the page the rewriter may give up on: the rewriter alone, no fail-safe between.
    const page = build().transform(new Response(response.body, { headers: response.headers }));
    return { response: new Response(page.body, response), seen: shape };
  }
  if (!careful && plan.length !== undefined && plan.length <= READ_AHEAD_BYTES) {
    const start = await readWhole(response.body, plan.length, READ_AHEAD_MS);
    if (start.done) {
      // The whole page is here: rewritten to its end before a byte is sent, so a rewriter that gives up costs nothing
      // sent. It is then rewritten again the careful way, from its start (`rest` replays what was read).
      const page = await rewrittenWhole(build(), joinBytes(start.chunks), response.headers);
      if (page) return { response: new Response(page, response), seen: shape };
      generation += 1;
      tracker.added = false;
      seen.clear();
      // Its next views in this isolate go the careful way at once.
      careful = seen.careful = true;
    }
    origin = start.rest;
  }
  const body = rewriteFailSafe(
    origin,
    (page) => build().transform(new Response(page, { headers: response.headers })).body!,
    {
      careful,
      onFailure(reason) {
        log("error", "the page could not be rewritten past this point; its rest is served as the origin sent it", {
          reason: String(reason),
        });
        seen.careful = seen.partial = true;
        finish(seen.shape());
      },
      // The rest of the page went out as the origin sent it: the tracker goes at its end, unless it was added before.
      tail: () => (plan.beforeBodyEnd && !tracker.added ? encoder.encode(plan.beforeBodyEnd) : null),
      onRisk(how) {
        seen.careful = true;
        if (how === "takeover") generation += 1;
        if (how !== "cut") return;
        seen.partial = true;
        log("warn", "the page carries what the rewriter may give up on; its rest is served as the origin sent it", {
          next: "the page's next views are rewritten the careful way",
        });
      },
    },
  );
  return { response: new Response(body, response), seen: shape };
}

/**
 * `page` through `rewriter` to its end, or null when the rewriter gave up on it (a parser ambiguity, too many open
 * elements): the page is whole in memory, so this costs no search of it and nothing sent before the failure.
 */
async function rewrittenWhole(rewriter: HTMLRewriter, page: Uint8Array, headers: Headers): Promise<ArrayBuffer | null> {
  try {
    return await rewriter.transform(new Response(page, { headers })).arrayBuffer();
  } catch {
    return null;
  }
}

/** Content types the rewriter was tried on, and whether it took them (bounded: most sites send one or two). */
const MAX_CONTENT_TYPES = 64;
const readableTypes = new Map<string, boolean>();

/**
 * True when HTMLRewriter takes a page of this content type: it refuses a charset that is not ASCII-compatible or not
 * known (UTF-16, ISO-2022-JP, `replacement`, a misspelt label) as soon as it is given the page, before reading a byte.
 * Tried once per content type on an empty page and remembered; the page itself is not touched.
 */
export function rewriterReads(contentType: string | null): boolean {
  const key = contentType ?? "";
  let reads = readableTypes.get(key);
  if (reads === undefined) {
    try {
      void new HTMLRewriter().transform(new Response("", { headers: { "content-type": key } })).body?.cancel();
      reads = true;
    } catch {
      reads = false;
    }
    if (readableTypes.size >= MAX_CONTENT_TYPES) readableTypes.delete(readableTypes.keys().next().value!);
    readableTypes.set(key, reads);
  }
  return reads;
}

/**
 * True when HTMLRewriter, with every selector the page's rewriter may register, reads `page` to its end: a trial
 * for a cached copy the page search alone would not let through (a <select> the parser follows). What stops it
 * depends on the bytes parsed, not on what the handlers change, so a copy it reads once it reads on every view.
 */
export async function rewriterFollows(page: Uint8Array, headers: Headers): Promise<boolean> {
  const none = { element() {} };
  const trial = new HTMLRewriter()
    .on("[data-pz-slot]", { ...none, text() {} })
    .on("[data-pz-slot] > *", none)
    .on("[data-pz-text]", none)
    .on("body", none);
  return (await rewrittenWhole(trial, page, headers)) !== null;
}

/**
 * Adds `tag` once per page, before the first </body>: some real pages close body twice. `state` is shared by the
 * page's rewriters (a careful one may take over from a watched one).
 */
function onBodyEnd(rewriter: HTMLRewriter, tag: string, state: { added: boolean }): void {
  rewriter.on(
    "body",
    guarded({
      element(el) {
        if (state.added) return;
        el.onEndTag((end) => {
          if (state.added) return;
          state.added = true;
          end.before(tag, { html: true });
        });
      },
    }),
  );
}

/** Fills a slot element from its decision (marks it; replaces its content for a template). */
function fillSlot(el: Element, d: SlotDecision): void {
  markSlot(el, d);
  if (d.content.kind === "template" && d.html !== undefined) el.setInnerContent(d.html, { html: true });
}

/** Slots when no decision chooses a variant: one handler per slot element, nothing else. */
function onSlots(rewriter: HTMLRewriter, plan: RewritePlan, seen: Seen): void {
  rewriter.on(
    "[data-pz-slot]",
    guarded({
      element(el) {
        const slot = unmarked(el.getAttribute("data-pz-slot") ?? "");
        seen.slots.add(slot);
        const d = plan.slots[slot];
        if (d) fillSlot(el, d);
      },
    }),
  );
}

/**
 * Slots when some decision chooses an origin-rendered variant, or the ruleset uses them: the chosen
 * template is kept, the rest of the slot goes; every slot's templates are noted.
 */
function onSlotsWithVariants(rewriter: HTMLRewriter, plan: RewritePlan, seen: Seen): void {
  /** Each slot element currently open with its decision (null = undecided), innermost last. */
  const open: { slot: string; d: SlotDecision | null }[] = [];
  let insideChosen = false;
  const variantOf = () => {
    const d = open.at(-1)?.d;
    return d?.content.kind === "variant" ? d.content.variant : undefined;
  };
  rewriter
    .on(
      "[data-pz-slot]",
      guarded({
        element(el) {
          const slot = unmarked(el.getAttribute("data-pz-slot") ?? "");
          seen.slots.add(slot);
          const d = plan.slots[slot] ?? null;
          try {
            el.onEndTag(() => void open.pop());
            open.push({ slot, d });
          } catch {
            // A void or self-closing element has no end tag and so no children to choose among.
          }
          if (d) fillSlot(el, d);
        },
        text(chunk) {
          // Text written straight into a variant slot is default content too (text handlers see every
          // descendant's text).
          if (variantOf() !== undefined && !insideChosen) chunk.remove();
        },
      }),
    )
    .on(
      "[data-pz-slot] > *",
      guarded({
        element(el) {
          const named = el.tagName === "template" ? el.getAttribute("data-pz-variant") : null;
          const variant = named === null ? null : unmarked(named);
          const parent = open.at(-1);
          if (variant !== null && parent) seen.template(parent.slot, variant);
          const chosen = variantOf();
          if (chosen === undefined) return;
          // Origin-rendered variants: the chosen template is unwrapped, every other child goes.
          if (variant !== chosen) return void el.remove();
          el.removeAndKeepContent();
          insideChosen = true;
          el.onEndTag(() => void (insideChosen = false));
        },
      }),
    );
}
