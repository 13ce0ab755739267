/**
 * A minimal HTML tokenizer that finds where a chunk of a page can be cut between tokens (text,
 * outside any tag, comment or raw-text element such as <script>). The fail-safe rewriter puts its
 * sync markers there; a rough answer only costs a sync point, never bytes (see rewrite-fallback.ts).
 */

const enum State {
  Data,
  TagOpen,
  EndTagOpen,
  TagName,
  InTag,
  Quoted,
  Markup,
  Comment,
  Bogus,
  Raw,
}

/** Elements whose content is text up to their own end tag. */
const RAW_TEXT = new Set([
  "script",
  "style",
  "textarea",
  "title",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "noscript",
  "plaintext",
]);

const LT = 0x3c,
  GT = 0x3e,
  SLASH = 0x2f,
  BANG = 0x21,
  QUESTION = 0x3f,
  DASH = 0x2d,
  EQUALS = 0x3d;

const isLetter = (b: number) => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d;
const lower = (b: number) => (b >= 0x41 && b <= 0x5a ? b + 32 : b);

/** Carries the tokenizer's state from one chunk of a page to the next. */
export class SafePoints {
  private state = State.Data;
  private name = "";
  private endTag = false;
  private afterEquals = false;
  private quote = 0;
  private dashes = 0;
  /** Inside a raw-text element: its name, and how much of "</name" the last bytes matched. */
  private raw = "";
  private rawMatched = 0;

  /**
   * Offsets in `chunk` where a cut falls between tokens, at least `spacing` bytes apart, ending with
   * the last such offset in the chunk (none when the whole chunk is inside one token).
   */
  scan(chunk: Uint8Array, spacing: number): number[] {
    const cuts: number[] = [];
    let last = this.state === State.Data ? 0 : -1;
    let from = 0;
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      // Long runs that change nothing are skipped with the native search; step() takes the bytes between.
      const skipTo = this.skip(chunk, i);
      if (skipTo > i) {
        if (this.state === State.Data) {
          // Every byte of the run ends in Data: a cut may fall after any of them.
          for (let p = Math.max(i + 1, from + spacing); p <= skipTo && p < n; p = from + spacing) cuts.push((from = p));
          last = skipTo;
        }
        i = skipTo;
        if (i >= n) break;
      }
      if (this.state === State.InTag) i = this.inTag(chunk, i);
      else this.step(chunk[i++]);
      if (this.state !== State.Data) continue;
      last = i;
      if (last - from >= spacing && last < n) cuts.push((from = last));
    }
    if (last > 0 && cuts.at(-1) !== last) cuts.push(last);
    return cuts;
  }

  /** step() over the attributes of a tag in one loop (most of a page's bytes); returns where it stopped. */
  private inTag(chunk: Uint8Array, i: number): number {
    let afterEquals = this.afterEquals;
    for (const n = chunk.length; i < n; i++) {
      const b = chunk[i];
      if (b === GT) {
        this.afterEquals = afterEquals;
        this.closeTag();
        return i + 1;
      }
      if (b === EQUALS) afterEquals = true;
      else if ((b === 0x22 || b === 0x27) && afterEquals) {
        this.state = State.Quoted;
        this.quote = b;
        return i + 1;
      } else if (!isSpace(b)) afterEquals = false;
    }
    this.afterEquals = afterEquals;
    return i;
  }

  /**
   * The same cuts as scan(), found by stepping through every byte: the reference scan()'s skipping
   * must agree with (the tests compare them on generated pages).
   */
  scanEachByte(chunk: Uint8Array, spacing: number): number[] {
    const cuts: number[] = [];
    let last = this.state === State.Data ? 0 : -1;
    let from = 0;
    for (let i = 0; i < chunk.length; i++) {
      this.step(chunk[i]);
      if (this.state !== State.Data) continue;
      last = i + 1;
      if (last - from >= spacing && last < chunk.length) cuts.push((from = last));
    }
    if (last > 0 && cuts.at(-1) !== last) cuts.push(last);
    return cuts;
  }

  /** Where the next byte that can change the state is, from `i` (the chunk's length when none is). */
  private skip(chunk: Uint8Array, i: number): number {
    let at = -1;
    switch (this.state) {
      case State.Data:
        at = chunk.indexOf(LT, i);
        break;
      case State.Raw:
        if (this.rawMatched !== 0) return i;
        at = chunk.indexOf(LT, i);
        break;
      case State.Quoted:
        at = chunk.indexOf(this.quote, i);
        break;
      case State.Comment:
        if (this.dashes !== 0) return i;
        at = chunk.indexOf(DASH, i);
        break;
      case State.Bogus:
        at = chunk.indexOf(GT, i);
        break;
      default:
        return i;
    }
    return at < 0 ? chunk.length : at;
  }

  private step(b: number): void {
    switch (this.state) {
      case State.Data:
        if (b === LT) this.state = State.TagOpen;
        return;
      case State.TagOpen:
        if (isLetter(b)) this.openTag(b, false);
        else if (b === SLASH) this.state = State.EndTagOpen;
        else if (b === BANG) [this.state, this.dashes] = [State.Markup, 0];
        else if (b === QUESTION) this.state = State.Bogus;
        else this.state = b === LT ? State.TagOpen : State.Data;
        return;
      case State.EndTagOpen:
        if (isLetter(b)) this.openTag(b, true);
        else this.state = b === GT ? State.Data : State.Bogus;
        return;
      case State.TagName:
        if (b === GT) return this.closeTag();
        if (isSpace(b) || b === SLASH) [this.state, this.afterEquals] = [State.InTag, false];
        else if (this.name.length < 16) this.name += String.fromCharCode(lower(b));
        return;
      case State.InTag:
        if (b === GT) return this.closeTag();
        if (b === EQUALS) this.afterEquals = true;
        else if ((b === 0x22 || b === 0x27) && this.afterEquals) [this.state, this.quote] = [State.Quoted, b];
        else if (!isSpace(b)) this.afterEquals = false;
        return;
      case State.Quoted:
        if (b === this.quote) [this.state, this.afterEquals] = [State.InTag, false];
        return;
      case State.Markup:
        if (b === DASH && this.dashes === 0) this.dashes = 1;
        else if (b === DASH && this.dashes === 1) [this.state, this.dashes] = [State.Comment, 0];
        else this.state = b === GT ? State.Data : State.Bogus;
        return;
      case State.Comment:
        if (b === GT && this.dashes >= 2) this.state = State.Data;
        this.dashes = b === DASH ? this.dashes + 1 : 0;
        return;
      case State.Bogus:
        if (b === GT) this.state = State.Data;
        return;
      case State.Raw:
        return this.rawStep(b);
    }
  }

  private openTag(b: number, end: boolean): void {
    [this.state, this.name, this.endTag] = [State.TagName, String.fromCharCode(lower(b)), end];
  }

  private closeTag(): void {
    const raw = !this.endTag && RAW_TEXT.has(this.name);
    [this.state, this.raw, this.rawMatched] = raw ? [State.Raw, this.name, 0] : [State.Data, "", 0];
  }

  /** Looks for "</name" followed by a space, "/" or ">": the raw-text element's end tag. */
  private rawStep(b: number): void {
    const full = this.raw.length + 2;
    if (this.rawMatched === full) {
      if (isSpace(b) || b === SLASH || b === GT) {
        [this.name, this.endTag] = [this.raw, true];
        if (b === GT) return this.closeTag();
        [this.state, this.afterEquals] = [State.InTag, false];
        return;
      }
      this.rawMatched = 0;
    }
    const expected =
      this.rawMatched === 0 ? LT : this.rawMatched === 1 ? SLASH : this.raw.charCodeAt(this.rawMatched - 2);
    if (lower(b) === expected) this.rawMatched += 1;
    else this.rawMatched = b === LT ? 1 : 0;
  }
}
