/**
 * The worker's `scheduled` handler. The cron fires every minute (wrangler.toml); each job decides
 * from the scheduled time whether it is due, and one job failing never stops the others.
 */
import type { Env } from "../env";
import { rollUpLearnedState } from "./learning/rollup-job";
import { log } from "./lib/log";
import { runRetention } from "./analytics/retention";

export interface ScheduledJob {
  name: string;
  /** Whether the job runs at this scheduled time (ms since epoch, whole minutes). */
  due(scheduledTime: number): boolean;
  run(env: Env, scheduledTime: number): Promise<unknown>;
}

export const JOBS: ScheduledJob[] = [
  // Hourly, at minute 7: up to 200,000 old events per run (retention.ts), ahead of ~125,000 an hour at 1M customers.
  { name: "retention", due: (t) => new Date(t).getUTCMinutes() === 7, run: (env, t) => runRetention(env, t) },
  // Every minute: the learned state isolates rank learning offers by (learning-rollup.ts).
  { name: "learning roll-up", due: () => true, run: (env, t) => rollUpLearnedState(env, t) },
];

/** Runs every due job; a failure is logged and retried at the job's next due time. */
export async function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  const due = JOBS.filter((job) => job.due(controller.scheduledTime));
  await Promise.all(
    due.map(async (job) => {
      try {
        await job.run(env, controller.scheduledTime);
      } catch (err) {
        log("error", "scheduled job failed", { job: job.name, reason: String(err) });
      }
    }),
  );
}
