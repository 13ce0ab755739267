/**
 * Where a page starts to carry what HTMLRewriter may give up on, found as the page streams (every
 * "<" is looked at, four bytes at a time: see nextLt). Probed in workerd, lol-html stops with an error on:
 * - a text tag (<style>, <textarea>, <title>, …) inside a <select>, or inside or after a
 *   <frameset>: it cannot tell whether a browser would ignore the tag;
 * - more open elements than its element stack holds (it gave up between 10,000 and 20,000
 *   unclosed <p>, <li> or <div>; 10,000 passed);
 * - a charset that is not ASCII-compatible (UTF-16, ISO-2022-JP) or not known.
 * A page is "at risk" from the first "<select" or "<frameset" (any case, wherever it stands: in a
 * script or a comment too), or from its MAX_TAGS-th "<". Before that point none of the first two can
 * happen; the charset is checked before the page is read (`nativeCharset`).
 */

/** "<" bytes a page may hold before it counts as at risk: well under the 10,000 open elements that passed. */
export const MAX_TAGS = 8000;

const LT = 0x3c;
const [SELECT, FRAMESET] = ["select", "frameset"].map((name) => [...name].map((c) => c.charCodeAt(0)));
const [S, F] = [SELECT[0], FRAMESET[0]];

/** Charsets lol-html reads as the bytes the page search assumes (one byte per "<", ASCII-compatible). */
const NATIVE_CHARSETS = new Set([
  "utf-8",
  "utf8",
  "unicode-1-1-utf-8",
  "us-ascii",
  "iso-8859-1",
  "latin1",
  "windows-1252",
]);

/** True when the page's declared charset (none means UTF-8) is one the rewriter is sure to read. */
export function nativeCharset(contentType: string | null): boolean {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? "")?.[1];
  return charset === undefined || NATIVE_CHARSETS.has(charset.toLowerCase());
}

/** Follows one page, chunk by chunk. */
export class RiskWatch {
  /** "<" bytes counted so far (a page at risk for its length has MAX_TAGS). */
  tags = 0;

  /**
   * Looks through `chunk` (the bytes held back from the last call first). `risk` is the offset of
   * the "<" from which the page is at risk, or -1; when -1, `hold` is how many bytes at the end may
   * still start a name looked for ("<", "<s", "<SEL", …) and wait for the next chunk (0 on the last one).
   */
  scan(chunk: Uint8Array, last = false): { risk: number; hold: number } {
    const n = chunk.length;
    const head = (4 - (chunk.byteOffset & 3)) & 3;
    const first = Math.min(n, head);
    // A chunk too short to reach an aligned word is read byte by byte.
    const words = head < n ? new Uint32Array(chunk.buffer, chunk.byteOffset + head, (n - head) >> 2) : EMPTY;
    const end = first + words.length * 4;
    for (let at = nextLt(chunk, words, first, end, 0); at >= 0; at = nextLt(chunk, words, first, end, at + 1)) {
      const next = chunk[at + 1] | 0x20;
      // Most tags are neither: one byte tells.
      if (next === S || next === F) {
        const name = next === S ? SELECT : FRAMESET;
        const match = matched(chunk, at + 1, name);
        if (match < 0 && !last) return { risk: -1, hold: n - at };
        if (match > 0) return { risk: at, hold: 0 };
      } else if (at + 1 === n && !last) return { risk: -1, hold: 1 };
      if (++this.tags >= MAX_TAGS) return { risk: at, hold: 0 };
    }
    return { risk: -1, hold: 0 };
  }
}

/** "<" in each byte of a 32-bit word, and the constants of the zero-byte test below. */
const LT_WORD = 0x3c3c3c3c;
const ONES = 0x01010101;
const HIGHS = 0x80808080;

const EMPTY = new Uint32Array(0);

/**
 * The offset of the first "<" of `chunk` at or after `from`, or -1. Offsets [first, end) of the chunk, where its
 * memory is 4-byte aligned, are read as whole `words`, and a word holding no "<" is passed over with one test
 * (v = word ^ "<<<<" has a zero byte exactly when the word holds a "<": (v - 0x01010101) & ~v & 0x80808080 is then
 * non-zero). On the bench's 50 KB page (a "<" every 19 bytes) that took 40 µs in workerd against 62 µs for indexOf
 * once per "<"; a version that also counted the "<"s of a word without looking at each took 55 µs there.
 */
function nextLt(chunk: Uint8Array, words: Uint32Array, first: number, end: number, from: number): number {
  const n = chunk.length;
  let i = from;
  // Byte by byte outside the words, and up to the next word's start inside them.
  while (i < n && (i < first || i >= end || ((i - first) & 3) !== 0)) {
    if (chunk[i] === LT) return i;
    i++;
  }
  for (let w = (i - first) >> 2; i < end; w++, i += 4) {
    const v = words[w] ^ LT_WORD;
    if (((v - ONES) & ~v & HIGHS) === 0) continue;
    for (let k = i; k < i + 4; k++) if (chunk[k] === LT) return k;
  }
  for (; i < n; i++) if (chunk[i] === LT) return i;
  return -1;
}

/** 1 when `chunk` holds `name` (lower-case letters) at `from` in any case, 0 when not, -1 when it ends first. */
function matched(chunk: Uint8Array, from: number, name: number[]): number {
  for (let i = 0; i < name.length; i++) {
    if (from + i >= chunk.length) return -1;
    if ((chunk[from + i] | 0x20) !== name[i]) return 0;
  }
  return 1;
}
