/** Where a run's time goes (connect, facts, diff, apply, render ...): summed milliseconds per stage. */
export class Profile {
  readonly ms: Record<string, number> = {};
  add(stage: string, ms: number): void {
    this.ms[stage] = (this.ms[stage] ?? 0) + ms;
  }
  time<T>(stage: string, fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }
  async timeAsync<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }
}
