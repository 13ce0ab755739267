/**
 * The worker's `scheduled` handler. The cron fires every minute (wrangler.toml); each job decides
 * from the scheduled time whether it is due, and one job failing never stops the others.
 */
import type { Env } from "../env";
import { log } from "./log";
import { runRetention } from "./retention";

export interface ScheduledJob {
  name: string;
  /** Whether the job runs at this scheduled time (ms since epoch, whole minutes). */
  due(scheduledTime: number): boolean;
  run(env: Env, scheduledTime: number): Promise<unknown>;
}

export const JOBS: ScheduledJob[] = [
  // Hourly, at minute 7: up to 200,000 old events per run (retention.ts), ahead of ~125,000 an hour at 1M customers.
  { name: "retention", due: (t) => new Date(t).getUTCMinutes() === 7, run: (env, t) => runRetention(env, t) },
];

/** Runs every due job; a failure is logged and retried at the job's next due time. */
export async function handleScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
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
