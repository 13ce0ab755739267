/** The worker's `scheduled` handler (cron every minute): runs each job on its own, so one failing job does not stop the others. */
import type { Env } from "../env";
import { rollUpLearnedState } from "./learning-rollup";
import { log } from "./log";

interface Job {
  name: string;
  run(env: Env, now: number): Promise<unknown>;
}

/** The jobs, in order. */
const JOBS: Job[] = [{ name: "learning roll-up", run: rollUpLearnedState }];

export async function handleScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  const now = controller.scheduledTime;
  for (const job of JOBS) {
    try {
      await job.run(env, now);
    } catch (err) {
      log("error", "scheduled job failed", { job: job.name, reason: String(err) });
    }
  }
}
