// Per-member capacity from heartbeats: full hash rate = hashes/s ÷ busy; requests/s = that ÷ 16^digits.
// Heartbeats that say nothing about speed (idle, or busy with no hash counted yet) are ignored.
import { describe, expect, it } from 'vitest';
import { CapacityEstimator } from '../../electron/core/service/capacity';

describe('CapacityEstimator', () => {
  it('derives requests/s from busy heartbeats', () => {
    const estimator = new CapacityEstimator(0.2, 1);
    expect(estimator.capacityRps(3)).toBeNull();
    estimator.observe({ t: 'load', busy: 0.5, inflight: 2, completed: 10, hashRate: 10_240 });
    // 10 240 hashes/s at half busy → 20 480 at full; 16^3 = 4096 attempts a request → 5 req/s.
    expect(estimator.capacityRps(3)).toBeCloseTo(5, 6);
  });

  it('ignores idle heartbeats and busy ones with no hashes yet', () => {
    const estimator = new CapacityEstimator();
    estimator.observe({ t: 'load', busy: 0.05, inflight: 0, completed: 0, hashRate: 100 });
    estimator.observe({ t: 'load', busy: 0.9, inflight: 1, completed: 0, hashRate: 0 });
    estimator.observe({ t: 'load', busy: 0.9, inflight: 1, completed: 0 });
    expect(estimator.capacityRps(3)).toBeNull();
  });
});
