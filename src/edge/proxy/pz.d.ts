/** pz.js is imported as text (wrangler.toml's [[rules]] type "Text"): the script's source, served as it is. */
declare const script: string;
export default script;
