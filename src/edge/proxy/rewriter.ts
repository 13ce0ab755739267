/**
 * Streams an HTML page through HTMLRewriter with the decision applied: slots filled, origin-rendered
 * variants chosen, text bindings filled (always escaped), the tracker tag added. Nothing is buffered
 * beyond one origin chunk: each chunk leaves once the next sync point has been parsed, and a page the
 * parser cannot follow is finished with the origin's own bytes (rewrite-fallback.ts).
 */
import type { SlotDecision } from "../../core/types";
import { readPath } from "../../core/conditions/paths";
import { printable } from "../../core/templates";
import { log } from "../lib/log";
import type { PageShape } from "./page-slots";
import { rewriteFailSafe } from "./rewrite-fallback";

export interface RewritePlan {
  /** Decided slots by slot id; slots without a decision keep the origin's content. */
  slots: Record<string, SlotDecision>;
  /** What `data-pz-text` bindings read (profile, request, …); unknown paths keep the origin's text. */
  bindings: Record<string, unknown>;
  /** Markup inserted before </body> (the tracker tag), when set. */
  beforeBodyEnd?: string;
  /** Note each slot's `<template data-pz-variant>` children (the ruleset uses origin-rendered variants). */
  learnTemplates?: boolean;
}

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
  shape(): PageShape {
    return { slots: [...this.slots], templates: this.templates };
  }
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
export function rewritePage(response: Response, plan: RewritePlan): RewrittenPage {
  if (!response.body) return { response, seen: Promise.resolve({ slots: [], templates: {} }) };
  const seen = new Seen();
  let finish: (shape: PageShape) => void = () => {};
  const shape = new Promise<PageShape>((resolve) => (finish = resolve));
  const rewriter = new HTMLRewriter();
  // Each handler is a call from the parser into JS; the variant machinery is attached only when a
  // decision chooses among origin-rendered variants.
  if (plan.learnTemplates || Object.values(plan.slots).some((d) => d.content.kind === "variant"))
    onSlotsWithVariants(rewriter, plan, seen);
  else onSlots(rewriter, plan, seen);
  rewriter
    .on("[data-pz-text]", {
      element(el) {
        // Text written into a script or style would run as code or style: the origin's content stays.
        if (LIVE_TEXT.has(el.tagName)) return;
        const path = el.getAttribute("data-pz-text") ?? "";
        const value = printable(readPath(plan.bindings, path.split(".")));
        if (value !== undefined) el.setInnerContent(value, { html: false });
      },
    })
    .onDocument({
      end() {
        finish(seen.shape());
      },
    });
  if (plan.beforeBodyEnd) {
    const tag = plan.beforeBodyEnd;
    // Once per page, before the first </body>: some real pages close body twice.
    let added = false;
    rewriter.on("body", {
      element(el) {
        if (added) return;
        el.onEndTag((end) => {
          if (added) return;
          added = true;
          end.before(tag, { html: true });
        });
      },
    });
  }
  const body = rewriteFailSafe(
    response.body!,
    (marked) => rewriter.transform(new Response(marked, { headers: response.headers })).body!,
    (reason) => {
      log("error", "the page could not be rewritten past this point; its rest is served as the origin sent it", {
        reason: String(reason),
      });
      finish(seen.shape());
    },
  );
  return { response: new Response(body, response), seen: shape };
}

/** Fills a slot element from its decision (marks it; replaces its content for a template). */
function fillSlot(el: Element, d: SlotDecision): void {
  markSlot(el, d);
  if (d.content.kind === "template" && d.html !== undefined) el.setInnerContent(d.html, { html: true });
}

/** Slots when no decision chooses a variant: one handler per slot element, nothing else. */
function onSlots(rewriter: HTMLRewriter, plan: RewritePlan, seen: Seen): void {
  rewriter.on("[data-pz-slot]", {
    element(el) {
      const slot = el.getAttribute("data-pz-slot") ?? "";
      seen.slots.add(slot);
      const d = plan.slots[slot];
      if (d) fillSlot(el, d);
    },
  });
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
    .on("[data-pz-slot]", {
      element(el) {
        const slot = el.getAttribute("data-pz-slot") ?? "";
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
        // Text written straight into a variant slot is default content too (text handlers see every descendant's text).
        if (variantOf() !== undefined && !insideChosen) chunk.remove();
      },
    })
    .on("[data-pz-slot] > *", {
      element(el) {
        const variant = el.tagName === "template" ? el.getAttribute("data-pz-variant") : null;
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
    });
}
