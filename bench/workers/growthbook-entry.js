// Benchmark peer: GrowthBook's edge app (@growthbook/edge-cloudflare) with its payload passed in through the config
// argument.
import { handleRequest } from "@growthbook/edge-cloudflare";

export default {
  async fetch(request, env) {
    // GB_PAYLOAD is a JSON binding (an object), so no parse runs per request.
    return handleRequest(request, env, { payload: env.GB_PAYLOAD });
  },
};
