/**
 * zod/mini (zod's tree-shakable functional API) with English issue messages: where Worker-side schemas import zod
 * from. The compiler and the CLI, which are not in the upload, keep full zod.
 */
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

// zod/mini loads no locale, so without this every issue would read "Invalid input".
config(en());

export * from "zod/mini";
