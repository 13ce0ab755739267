/** A one-line progress indicator on stderr, drawn only when stderr is a terminal (never in pipes or logs). */

export interface Progress {
  update(done: number): void;
  finish(): void;
}

/** A progress bar for `total` units (rows, bytes); `format` turns the count into words. */
export function progress(label: string, total: number, format: (n: number) => string = String): Progress {
  if (!process.stderr.isTTY || total <= 0) return { update() {}, finish() {} };
  let last = 0;
  const draw = (done: number) => {
    const share = Math.min(1, done / total);
    const width = 30;
    const filled = Math.round(share * width);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    process.stderr.write(`\r${label} ${bar} ${Math.floor(share * 100)}% ${format(done)}/${format(total)}`);
  };
  return {
    update(done) {
      const now = Date.now();
      if (now - last < 80) return;
      last = now;
      draw(done);
    },
    finish() {
      draw(total);
      process.stderr.write("\n");
    },
  };
}
