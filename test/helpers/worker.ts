/** The worker's fetch handler called directly, with bindings swapped (faults wrapped around the real ones). */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";

/** Answers `request` with `overrides` over the test env, once the request's waitUntil work is done. */
export async function fetchWorker(request: Request, overrides: Partial<Cloudflare.Env> = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch!(
    request as Request<unknown, IncomingRequestCfProperties>,
    { ...env, ...overrides },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}
