/**
 * The slots each page path was last seen to have, learned in isolate memory as pages stream
 * through. Knowing them before deciding keeps slot experiments and frequency caps to the slots a
 * page really shows; a path not seen yet in this isolate is decided for every slot.
 */

const MAX_PATHS = 1000;
const slotsByPath = new Map<string, string[]>();

/** The slots last seen on `path`, or undefined when this isolate has not streamed it yet. */
export function knownPageSlots(path: string): string[] | undefined {
  return slotsByPath.get(path);
}

/** Remembers the slots seen on `path` (oldest paths are forgotten first). */
export function rememberPageSlots(path: string, slots: string[]): void {
  slotsByPath.delete(path);
  slotsByPath.set(path, slots);
  if (slotsByPath.size > MAX_PATHS) slotsByPath.delete(slotsByPath.keys().next().value!);
}

/** Forgets every learned page (tests). */
export function forgetPageSlots(): void {
  slotsByPath.clear();
}
