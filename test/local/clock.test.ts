/**
 * The offline runtime's traffic-paced clock (local/clock.ts), with real time frozen by Vitest's
 * fake timers so each assertion depends on the requests served and the time advanced, nothing else.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { systemClock, TrafficPacedClock } from '../../local/clock';

/** Whether the promise has settled after every queued microtask has run. */
async function settled(promise: Promise<void>): Promise<boolean> {
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('TrafficPacedClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-12-02T00:00:00Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the system clock while no request is served', () => {
    const clock = new TrafficPacedClock(25);
    expect(clock.now()).toBe(Date.parse('2026-12-02T00:00:00Z'));
    vi.advanceTimersByTime(1234);
    expect(clock.now()).toBe(Date.parse('2026-12-02T00:00:01.234Z'));
    expect(clock.aheadMs).toBe(0);
  });

  it('moves on by its pace with every request served', () => {
    const clock = new TrafficPacedClock(25);
    for (let i = 0; i < 7; i++) clock.served();
    expect(clock.aheadMs).toBe(175);
    expect(clock.now()).toBe(Date.parse('2026-12-02T00:00:00.175Z'));
  });

  it('ends a 3 s sleep on the 120th request at 25 ms a request, with no real time passing', async () => {
    const clock = new TrafficPacedClock(25);
    const sleeping = clock.sleep(3000);
    for (let i = 0; i < 119; i++) clock.served();
    expect(await settled(sleeping)).toBe(false);
    clock.served();
    expect(await settled(sleeping)).toBe(true);
  });

  it('ends a sleep on real time alone when no traffic comes, counting the requests served meanwhile', async () => {
    const clock = new TrafficPacedClock(25);
    const sleeping = clock.sleep(3000);
    for (let i = 0; i < 40; i++) clock.served(); // 1 s ahead
    await vi.advanceTimersByTimeAsync(1999);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(true);
  });

  it('wakes each sleeper at its own time, and a sleep of 0 or less at once', async () => {
    const clock = new TrafficPacedClock(100);
    const short = clock.sleep(200);
    const long = clock.sleep(500);
    expect(await settled(clock.sleep(0))).toBe(true);
    expect(await settled(clock.sleep(-5))).toBe(true);
    clock.served();
    clock.served();
    expect([await settled(short), await settled(long)]).toEqual([true, false]);
    for (let i = 0; i < 3; i++) clock.served();
    expect(await settled(long)).toBe(true);
  });

  it('refuses a pace that is not a positive number of milliseconds', () => {
    for (const pace of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new TrafficPacedClock(pace)).toThrow(`msPerRequest must be a positive number of milliseconds, got ${pace}`);
    }
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads Date.now, sleeps on a timer, and is not moved by traffic', async () => {
    vi.useFakeTimers({ now: 1_000 });
    systemClock.served();
    expect(systemClock.now()).toBe(1_000);
    const sleeping = systemClock.sleep(50);
    await vi.advanceTimersByTimeAsync(49);
    expect(await settled(sleeping)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(sleeping)).toBe(true);
  });
});
