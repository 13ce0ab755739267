/** A deadline for I/O on the request path, so a hung read turns into a fail-open error, never a hang. */

/** Rejects when `work` has not settled within `ms`. */
export function withinDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => {
    if (timer !== null) clearTimeout(timer);
  });
}
