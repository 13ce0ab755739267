/**
 * The slots each page path was last seen to have, learned in isolate memory as pages stream
 * through. Knowing them before deciding keeps slot experiments and frequency caps to the slots a
 * page really shows; a path not seen yet in this isolate is decided for every slot.
 */

/** Bounds: 1,000 paths of at most 512 characters, 50 slot ids each (ids are at most 128): a few MB at worst. */
const MAX_PATHS = 1000;
const MAX_PATH_LENGTH = 512;
const MAX_SLOTS = 50;
const slotsByPath = new Map<string, string[]>();

/** The slots last seen on `path`, or undefined when this isolate has not streamed it yet. */
export function knownPageSlots(path: string): string[] | undefined {
  return slotsByPath.get(path);
}

/** Remembers the slots seen on `path` (oldest paths are forgotten first). */
export function rememberPageSlots(path: string, slots: string[]): void {
  slotsByPath.delete(path);
  // A path too long or a page with too many slots is decided for every slot, as an unseen path is.
  if (path.length > MAX_PATH_LENGTH || slots.length > MAX_SLOTS || slots.some((s) => s.length > 128)) return;
  slotsByPath.set(path, slots);
  if (slotsByPath.size > MAX_PATHS) slotsByPath.delete(slotsByPath.keys().next().value!);
}

/** Forgets every learned page (tests). */
export function forgetPageSlots(): void {
  slotsByPath.clear();
}
