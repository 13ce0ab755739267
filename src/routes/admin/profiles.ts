/**
 * /__pz/admin/profiles: read, replace (PUT), merge (PATCH) and delete a customer's profile by its
 * opaque id, and POST /profiles:import for NDJSON bulk upserts streamed from the body.
 */
import * as z from "../../edge/lib/zod";
import type { Context, MiddlewareHandler } from "hono";
import { newApp, type AppContext } from "../app";
import { jsonBodyOf } from "../../edge/lib/json-body";
import { customerIdProblem } from "../../edge/identity/customer-id";
import { jsonError } from "../../edge/lib/errors";
import { importProfiles } from "../../edge/profiles/profile-import";
import { profilePatchSchema } from "../../edge/profiles/profile-patch";
import { storedProfileSchema, type StoredProfile } from "../../edge/profiles/profile-model";
import type { ProfileChange } from "../../edge/profiles/profile-change";
import {
  changeProfile,
  profileStub,
  profileUnavailable,
  readOwnedProfile,
  refreshCachedProfile,
  WRITE_BUDGET_MS,
} from "../../edge/profiles/profile-writes";
import type { ProfileRef } from "../../edge/profiles/profile-store";
import { withinDeadline } from "../../edge/lib/deadline";

/** Imports of tens of MB stream through; past this the import stops with 413. */
const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
const MAX_PROFILE_BYTES = 256 * 1024;
const IMPORT_LIMITS = { maxBytes: MAX_IMPORT_BYTES, maxLineChars: MAX_PROFILE_BYTES, maxErrors: 1000 };

/** PUT takes a whole stored profile; unknown keys are refused rather than silently dropped. */
const replaceSchema = z.catchall(storedProfileSchema, z.never());

export const profiles = newApp();

profiles.post("/profiles:import", async (c) => {
  const declared = Number(c.req.header("Content-Length") ?? "NaN");
  if (Number.isFinite(declared) && declared > MAX_IMPORT_BYTES) {
    return jsonError(
      c,
      413,
      "payload_too_large",
      `Imports are limited to ${MAX_IMPORT_BYTES} bytes per request; split the file.`,
    );
  }
  if (!c.req.raw.body) return c.json({ imported: 0, failed: 0, errors: [], errorsTruncated: false });
  const result = await importProfiles(c.env, c.req.raw.body, Date.now(), IMPORT_LIMITS);
  if (result.stoppedAtLine !== undefined) {
    const message = `The body passed ${MAX_IMPORT_BYTES} bytes at line ${result.stoppedAtLine}: ${result.imported} profiles were imported before it, the rest were not read.`;
    return jsonError(c, 413, "payload_too_large", message, result.errors);
  }
  return c.json(result);
});

/** The customer named in the path, or an error response when the id is not an opaque id. */
function customerRef(c: Context): ProfileRef | Response {
  const id = c.req.param("id") ?? "";
  const problem = customerIdProblem(id);
  if (problem) return jsonError(c, 400, "invalid_id", `Customer id ${problem}.`);
  return { kind: "customer", id };
}

/** A PUT or PATCH for an id that is not an opaque id is refused before its body is read. */
const validId: MiddlewareHandler = async (c, next) => {
  const ref = customerRef(c);
  if (ref instanceof Response) return ref;
  await next();
};

profiles.get("/profiles/:id", async (c) => {
  const ref = customerRef(c);
  if (ref instanceof Response) return ref;
  let profile: StoredProfile | null;
  try {
    profile = (await readOwnedProfile(c.env, ref)).profile;
  } catch (err) {
    return profileUnavailable(c, "reading the profile", err);
  }
  if (!profile) return jsonError(c, 404, "not_found", `No profile for customer ${ref.id}.`);
  return c.json({ id: ref.id, profile });
});

profiles.put("/profiles/:id", validId, jsonBodyOf(replaceSchema, MAX_PROFILE_BYTES), async (c) => {
  return write(c, { kind: "customer", id: c.req.param("id") }, { kind: "replace", profile: c.req.valid("json") });
});

profiles.patch("/profiles/:id", validId, jsonBodyOf(profilePatchSchema, MAX_PROFILE_BYTES), async (c) => {
  return write(c, { kind: "customer", id: c.req.param("id") }, { kind: "patch", patch: c.req.valid("json") });
});

/** Sends a PUT or PATCH to the customer's profile object: it applies them one at a time, after any fold in flight. */
async function write(c: AppContext, ref: ProfileRef, change: ProfileChange): Promise<Response> {
  try {
    const { profile } = await changeProfile(c.env, ref, change);
    return c.json({ id: ref.id, profile });
  } catch (err) {
    return profileUnavailable(c, "writing the profile", err);
  }
}

/** Deleting a customer also drops the identity links of the browsers stitched to it (those it knows of). */
profiles.delete("/profiles/:id", async (c) => {
  const ref = customerRef(c);
  if (ref instanceof Response) return ref;
  try {
    const erased = await withinDeadline(
      profileStub(c.env, ref).erase(ref, Date.now()),
      WRITE_BUDGET_MS,
      "profile erase",
    );
    refreshCachedProfile(c.env, { ref, profile: null });
    return c.json({ id: ref.id, ...erased });
  } catch (err) {
    return profileUnavailable(c, "deleting the profile", err);
  }
});
