/** Vite's `?raw` imports (a file's text), used to read the YAML playbook and schema.json in tests. */
declare module "*?raw" {
  const text: string;
  export default text;
}
