import { existsSync, readFileSync, readdirSync } from "node:fs";

// CPU time used by processes (Linux /proc), to say which process a benchmark's time goes
// to: the server, PostgreSQL (postmaster and every backend), Redis, the load generator.

const CLOCK_TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces.
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** utime + stime of one process, in seconds (0 when it is gone). */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  // After the command: state(3) ppid(4) ... utime(14) stime(15), here 0-based from field 3.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** `root` and all its descendants still alive. */
export function processTree(root: number): number[] {
  if (!existsSync("/proc")) return [root];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const ppid = Number(fields[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return out;
}

export type CpuGroups = Record<string, () => number>;

/** CPU seconds per group at this moment; groups are functions so short-lived processes are re-read. */
export function cpuSnapshot(groups: CpuGroups): Record<string, number> {
  return Object.fromEntries(Object.entries(groups).map(([name, read]) => [name, read()]));
}

/** utime + stime of one process and of its children that exited and were waited for (cutime + cstime), in seconds. */
function processAndReapedCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  if (!fields) return 0;
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of a process tree: its live processes, and the ones that exited (a parent
 * adds a reaped child's CPU to its own children's time). Counting live processes only went
 * down when a backend or parallel worker exited between two snapshots.
 */
export const treeCpu = (root: number) => () => processTree(root).reduce((sum, pid) => sum + processAndReapedCpuSeconds(pid), 0);

export const selfCpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** Busy CPU seconds of the whole machine (all cores, /proc/stat), to see what other processes took. */
export function machineBusyCpu(): number {
  try {
    const [cpu] = readFileSync("/proc/stat", "utf8").split("\n");
    const [user, nice, system, , , irq, softirq, steal] = cpu.trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
