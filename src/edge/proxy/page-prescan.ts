/**
 * A first look at a page this isolate has not streamed yet, so an origin-rendered variant can be
 * chosen on its very first view: the start of the body (at most PRESCAN_BYTES, within a time
 * budget) is read before deciding and scanned for slots and their `<template data-pz-variant>`
 * children. The bytes read are handed on unchanged, followed by the rest of the body.
 *
 * The scan is a cheap approximation of the parser: a template counts for the slot opened last
 * before it. It is only used until the rewriter has seen the whole page once (page-slots.ts).
 */
import type { PageShape } from "./page-slots";
import { readStart } from "../lib/read-start";

export const PRESCAN_BYTES = 64 * 1024;
export const PRESCAN_MS = 50;

/** What the prescan found, and the body to stream on. `shape.slots` is set only when the whole page was read. */
export interface Prescan {
  body: ReadableStream<Uint8Array>;
  shape: Partial<PageShape> & { templates: Record<string, string[]> };
}

const TAG = /<([a-zA-Z][\w-]*)\b[^>]*>/g;
const ATTR = (name: string) => new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, "i");
const SLOT_ATTR = ATTR("data-pz-slot");
const VARIANT_ATTR = ATTR("data-pz-variant");

/** Slots and their templates in `html` (a prefix of the page), by the rule above. */
export function scanShape(html: string): PageShape {
  const slots: string[] = [];
  const templates: Record<string, string[]> = {};
  let last: string | undefined;
  for (const m of html.matchAll(TAG)) {
    const tag = m[0];
    const slot = SLOT_ATTR.exec(tag);
    if (slot) {
      last = slot[1] ?? slot[2] ?? slot[3];
      if (!slots.includes(last)) slots.push(last);
    }
    if (m[1].toLowerCase() === "template" && last !== undefined) {
      const variant = VARIANT_ATTR.exec(tag);
      const name = variant && (variant[1] ?? variant[2] ?? variant[3]);
      if (name && !(templates[last] ??= []).includes(name)) templates[last].push(name);
    }
  }
  return { slots, templates };
}

/** Reads the start of `body` within the limits, scans it, and returns a body that replays it. */
export async function prescanPage(
  body: ReadableStream<Uint8Array>,
  limits = { bytes: PRESCAN_BYTES, ms: PRESCAN_MS },
): Promise<Prescan> {
  const start = await readStart(body, limits.bytes, limits.ms);
  const decoder = new TextDecoder();
  const scanned = scanShape(start.chunks.map((c) => decoder.decode(c, { stream: true })).join(""));
  const shape: Prescan["shape"] = start.done ? scanned : { templates: scanned.templates };
  return { body: start.rest, shape };
}
