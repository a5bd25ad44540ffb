/**
 * A seeded PRNG (mulberry32) so every "random" fault schedule and fuzz corpus can be replayed:
 * set FAULT_SEED to the seed a failure printed.
 */
export const DEFAULT_SEED = 0x5eed_0007;

export function seedFromEnv(): number {
  const raw = process.env.FAULT_SEED;
  return raw && /^\d+$/.test(raw) ? Number(raw) : DEFAULT_SEED;
}

export class Prng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}
