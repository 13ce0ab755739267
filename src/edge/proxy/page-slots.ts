/**
 * What each page path was last seen to carry, learned in isolate memory as pages stream through:
 * its slots and, per slot, the origin-rendered variants (`<template data-pz-variant>`). Knowing
 * them before deciding keeps slot experiments and frequency caps to the slots a page really shows,
 * and keeps an origin-rendered variant from being chosen where the page has no template for it.
 * A path not seen yet in this isolate is decided for every slot, with no template assumed.
 */

/** A page's slots and the template variants inside each. */
export interface PageShape {
  slots: string[];
  templates: Record<string, string[]>;
  /** The page carries what the rewriter may give up on: its next view is rewritten the careful way. */
  careful?: boolean;
  /** Not all of the page was rewritten (a failure, or a watched view cut short): its slots are not all known. */
  partial?: boolean;
}

/**
 * Bounds: 1,000 paths of at most 512 characters, 50 slot ids and 50 templates a page (ids are at most 128): a few MB at
 * worst.
 */
const MAX_PATHS = 1000;
const MAX_PATH_LENGTH = 512;
const MAX_SLOTS = 50;
const MAX_ID = 128;
const shapeByPath = new Map<string, PageShape>();

/** What `path` was last seen to carry, or undefined when this isolate has not streamed all of it yet. */
export function knownPage(path: string): PageShape | undefined {
  const shape = shapeByPath.get(path);
  return shape?.partial ? undefined : shape;
}

/** True when `path`'s last view found what the rewriter may give up on (rewrite-fallback.ts). */
export function needsCare(path: string): boolean {
  return shapeByPath.get(path)?.careful === true;
}

function withinBounds(path: string, shape: PageShape): boolean {
  if (path.length > MAX_PATH_LENGTH || shape.slots.length > MAX_SLOTS || shape.slots.some((s) => s.length > MAX_ID))
    return false;
  const templates = Object.values(shape.templates);
  return (
    templates.reduce((n, t) => n + t.length, 0) <= MAX_SLOTS &&
    templates.every((t) => t.every((v) => v.length <= MAX_ID))
  );
}

/** Remembers what `path` carries (oldest paths are forgotten first). */
export function rememberPage(path: string, shape: PageShape): void {
  shapeByPath.delete(path);
  // A path too long or a page with too much on it is decided as an unseen path is.
  if (!withinBounds(path, shape)) return;
  shapeByPath.set(path, shape);
  if (shapeByPath.size > MAX_PATHS) shapeByPath.delete(shapeByPath.keys().next().value!);
}

/** Forgets every learned page (tests). */
export function forgetPageSlots(): void {
  shapeByPath.clear();
}
