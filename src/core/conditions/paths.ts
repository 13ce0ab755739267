/** Reading dot paths ("profile.address.city") out of attributes, the way GrowthBook does. */

/**
 * Value at `parts` inside `root`, or null when any step is missing or not an object.
 * A key that exists with the value undefined gives undefined (GrowthBook tells the two apart).
 */
export function readPath(root: unknown, parts: readonly string[]): unknown {
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    if (current === null || typeof current !== "object") return null;
    const key = parts[i];
    const next = (current as Record<string, unknown>)[key];
    if (next === undefined && !(key in current)) return null;
    current = next;
  }
  return current;
}

/** Value at a dot-separated `path` inside `root` (see readPath). */
export function getPath(root: unknown, path: string): unknown {
  return readPath(root, path.split("."));
}

/** A reader for one fixed path, specialised for the common one- and two-step paths. */
export function pathReader(path: string): (root: unknown) => unknown {
  const parts = path.split(".");
  if (parts.length === 1) {
    const [key] = parts;
    return (root) => step(root, key);
  }
  if (parts.length === 2) {
    const [first, second] = parts;
    return (root) => {
      const mid = step(root, first);
      return mid === null ? null : step(mid, second);
    };
  }
  return (root) => readPath(root, parts);
}

function step(current: unknown, key: string): unknown {
  if (current === null || typeof current !== "object") return null;
  const next = (current as Record<string, unknown>)[key];
  if (next === undefined && !(key in current)) return null;
  return next;
}
