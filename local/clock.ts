/**
 * The offline runtime's clock for what a rollout judges by time: the shadow window, the canary's
 * bake, the canary alarms' minute, predict's registry refresh, the registry's timestamps and the
 * deploy function's polls.
 *
 * On AWS those windows are minutes of production traffic. Offline they are seconds, and waiting
 * them out in real time is most of what a demo's rollout costs. A {@link TrafficPacedClock} runs
 * at least as fast as real time and moves on by a fixed pace with every request predict serves, so
 * a window ends after about as many requests as it would hold at that rate, however fast this
 * machine serves them: the gates see the traffic of their window, sooner.
 */

export interface LocalClock {
  /** Milliseconds since the epoch, as Date.now. */
  now(): number;
  /** Resolves once now() has reached the time of the call plus `ms`. */
  sleep(ms: number): Promise<void>;
  /** Predict served a request. */
  served(): void;
}

/**
 * The pace `npm start` and the end-to-end tests run rollouts at: 25 ms a request, so a 3 s bake
 * holds at most 120 requests (12 of them the canary's at 10%) and ends as soon as they are served.
 */
export const OFFLINE_MS_PER_REQUEST = 25;

/** Real time. */
export const systemClock: LocalClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  served: () => {},
};

interface Sleeper {
  readonly until: number;
  readonly wake: () => void;
  /** Sets the real-time timer for what is left (this clock is never behind real time). */
  readonly arm: () => void;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Real time plus `msPerRequest` for every request served: with no traffic it is the system clock;
 * with traffic, a window of W ms ends after at most W / msPerRequest requests.
 */
export class TrafficPacedClock implements LocalClock {
  private advancedMs = 0;
  private readonly sleepers = new Set<Sleeper>();

  constructor(readonly msPerRequest: number) {
    if (!(msPerRequest > 0 && Number.isFinite(msPerRequest))) {
      throw new RangeError(`msPerRequest must be a positive number of milliseconds, got ${msPerRequest}`);
    }
  }

  now(): number {
    return Date.now() + this.advancedMs;
  }

  /** How far ahead of real time the served requests have moved this clock. */
  get aheadMs(): number {
    return this.advancedMs;
  }

  served(): void {
    this.advancedMs += this.msPerRequest;
    for (const sleeper of [...this.sleepers]) sleeper.arm();
  }

  sleep(ms: number): Promise<void> {
    const until = this.now() + Math.max(0, ms);
    return new Promise<void>((resolve) => {
      const sleeper: Sleeper = {
        until,
        wake: () => {
          clearTimeout(sleeper.timer);
          this.sleepers.delete(sleeper);
          resolve();
        },
        // Real time alone gets there too: the timer is set again for what is left after every
        // request served, and when it fires early on a coarse timer.
        arm: () => {
          clearTimeout(sleeper.timer);
          const left = until - this.now();
          if (left <= 0) sleeper.wake();
          else sleeper.timer = setTimeout(sleeper.arm, left);
        },
      };
      this.sleepers.add(sleeper);
      sleeper.arm();
    });
  }
}
