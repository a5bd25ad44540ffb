/**
 * CPU busy share over the time since the previous reading (not since boot): the difference of
 * the kernel's per-CPU time counters (os.cpus()) between two readings.
 */
import os from 'node:os';

interface CpuTimes {
  busy: number;
  total: number;
}

function readTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

export class CpuMeter {
  private last = readTimes();

  /** Percent 0–100 of all CPUs busy since the previous call (or since construction). */
  read(): number {
    const now = readTimes();
    const busy = now.busy - this.last.busy;
    const total = now.total - this.last.total;
    this.last = now;
    if (total <= 0) return 0;
    const percent = (100 * busy) / total;
    return Math.round(Math.min(100, Math.max(0, percent)) * 100) / 100;
  }
}
