// CPU time of a workerd process, from /proc (Linux): how much work each proxy does per response, independent of how
// busy the machine is.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The ids of running workerd processes; empty where /proc does not exist. */
export function workerdPids() {
  try {
    return new Set(
      readdirSync("/proc").filter((entry) => {
        if (!/^\d+$/.test(entry)) return false;
        try {
          return readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "workerd";
        } catch {
          return false;
        }
      }),
    );
  } catch {
    return new Set();
  }
}

/** Resident memory of a process in MB, from /proc; null where unreadable. */
export function rssMb(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU milliseconds used so far by process `pid` (all its threads); null when unreadable. */
export function cpuMs(pid) {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
