/** Server-Timing for the browser: `pz` (the worker's own time, origin wait excluded) and its parts. */

/**
 * Collects named durations for one request. Workers coarsen clocks between I/O, so small parts
 * often read 0 ms in production; the header still shows where the time went.
 */
export class ServerTiming {
  private readonly start = performance.now();
  private readonly parts: [string, number][] = [];
  private readonly descriptions = new Map<string, string>();

  /** Records `name` as lasting from `since` (a performance.now() reading) until now. */
  mark(name: string, since: number): void {
    this.parts.push([name, performance.now() - since]);
  }

  /** Adds a description to a part (a token such as "cache"), shown as `desc=` in the header. */
  describe(name: string, description: string): void {
    this.descriptions.set(name, description);
  }

  /** Runs `work` and records how long its promise took. */
  async time<T>(name: string, work: Promise<T>): Promise<T> {
    const since = performance.now();
    try {
      return await work;
    } finally {
      this.mark(name, since);
    }
  }

  /** The header value: `pz;dur=…` (total minus time spent waiting for the origin), then each part. */
  header(): string {
    const total = performance.now() - this.start;
    const origin = this.parts.find(([name]) => name === "origin")?.[1] ?? 0;
    const own = Math.max(0, total - origin);
    const part = ([name, dur]: [string, number]) => {
      const description = this.descriptions.get(name);
      return description ? `${name};desc=${description};dur=${round(dur)}` : `${name};dur=${round(dur)}`;
    };
    return [`pz;dur=${round(own)}`, ...this.parts.map(part)].join(", ");
  }
}

function round(ms: number): string {
  return (Math.round(ms * 10) / 10).toString();
}
