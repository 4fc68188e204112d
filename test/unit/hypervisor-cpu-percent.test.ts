// Pure parts of the hypervisor layer: CPU % arithmetic, the libvirt state mapping and error codes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  classifyLibvirtError,
  cpuPercent,
  domainStateFromLibvirt,
  HypervisorError,
  toHypervisorError,
} from '../../electron/core/hypervisor';

const ms = 1_000_000; // ns per ms

describe('cpuPercent', () => {
  it('is null on the first sample', () => {
    expect(cpuPercent(undefined, { cpuTimeNs: 5e9, atMs: 1000 }, 2)).toBeNull();
  });

  it('divides by wall time and by vCPUs', () => {
    // 500 ms of CPU over 1000 ms of wall time: 50 % on 1 vCPU, 25 % on 2, 12.5 % on 4.
    const prev = { cpuTimeNs: 0, atMs: 0 };
    const next = { cpuTimeNs: 500 * ms, atMs: 1000 };
    expect(cpuPercent(prev, next, 1)).toBeCloseTo(50, 9);
    expect(cpuPercent(prev, next, 2)).toBeCloseTo(25, 9);
    expect(cpuPercent(prev, next, 4)).toBeCloseTo(12.5, 9);
  });

  it('clamps to 100 (cpuTime can run ahead of a short wall interval)', () => {
    expect(cpuPercent({ cpuTimeNs: 0, atMs: 0 }, { cpuTimeNs: 3000 * ms, atMs: 1000 }, 2)).toBe(100);
  });

  it('is null when no wall time passed, vcpus is not positive, or the counter went backwards', () => {
    expect(cpuPercent({ cpuTimeNs: 0, atMs: 5 }, { cpuTimeNs: 10, atMs: 5 }, 1)).toBeNull();
    expect(cpuPercent({ cpuTimeNs: 0, atMs: 0 }, { cpuTimeNs: 10, atMs: 5 }, 0)).toBeNull();
    expect(cpuPercent({ cpuTimeNs: 9e9, atMs: 0 }, { cpuTimeNs: 1e9, atMs: 1000 }, 1)).toBeNull();
  });

  it('keeps precision at test-driver magnitudes (cpuTime ≈ 1.8e18 ns)', () => {
    const base = 1_795_850_139_788_624_000;
    const value = cpuPercent({ cpuTimeNs: base, atMs: 0 }, { cpuTimeNs: base + 1000 * ms, atMs: 1000 }, 1);
    expect(value).not.toBeNull();
    expect(value as number).toBeCloseTo(100, 3);
  });

  it('always lies in [0, 100] or is null', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e15, noNaN: true }),
        fc.double({ min: 0, max: 1e15, noNaN: true }),
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        fc.double({ min: 0, max: 1e7, noNaN: true }),
        fc.integer({ min: -2, max: 64 }),
        (c0, c1, t0, t1, vcpus) => {
          const v = cpuPercent({ cpuTimeNs: c0, atMs: t0 }, { cpuTimeNs: c1, atMs: t1 }, vcpus);
          return v === null || (v >= 0 && v <= 100);
        },
      ),
    );
  });
});

describe('domainStateFromLibvirt', () => {
  it('maps virDomainState numbers to names', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(domainStateFromLibvirt)).toEqual([
      'nostate',
      'running',
      'blocked',
      'paused',
      'shutdown',
      'shutoff',
      'crashed',
      'pmsuspended',
    ]);
    expect(domainStateFromLibvirt(42)).toBe('nostate');
    expect(domainStateFromLibvirt(-1)).toBe('nostate');
  });
});

describe('HypervisorError classification', () => {
  it('sorts libvirt messages (the binding reports code -1) into stable codes', () => {
    const lv = (message: string) => Object.assign(new Error(message), { code: -1 });
    expect(classifyLibvirtError(lv('Domain not found'))).toBe('not_found');
    expect(classifyLibvirtError(lv("Domain not found: no domain with matching uuid 'x' (y)"))).toBe('not_found');
    expect(classifyLibvirtError(lv('Invalid UUID'))).toBe('not_found');
    expect(classifyLibvirtError(lv("internal error: Domain 'a' is already running"))).toBe('invalid_state');
    expect(classifyLibvirtError(lv("internal error: domain 'a' not paused"))).toBe('invalid_state');
    expect(classifyLibvirtError(lv('invalid connection pointer in virConnectListAllDomains'))).toBe('not_connected');
    expect(classifyLibvirtError(lv('XML error: failed to parse xml document'))).toBe('libvirt');
    expect(classifyLibvirtError(Object.assign(new Error('whatever'), { code: 42 }))).toBe('not_found');
  });

  it('names the action and the domain, and keeps the libvirt message', () => {
    const err = toHypervisorError('start', 'cms-web-3', new Error("internal error: Domain 'cms-web-3' is already running"));
    expect(err).toBeInstanceOf(HypervisorError);
    expect(err.code).toBe('invalid_state');
    expect(err.message).toBe("start of cms-web-3 failed: internal error: Domain 'cms-web-3' is already running");
    expect(err.libvirtMessage).toBe("internal error: Domain 'cms-web-3' is already running");
  });
});
