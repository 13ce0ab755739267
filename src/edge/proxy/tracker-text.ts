/**
 * pz.js as it is served: its comments and indentation dropped (the file keeps them for readers and
 * the type checker). Safe for this file because no string or regular expression in it contains
 * a comment opener; the tracker tests run the served text, so a break would show.
 */
export function servedScript(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("//"))
    .join("\n");
}
