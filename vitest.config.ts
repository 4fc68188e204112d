// Test runner configuration: everything runs in plain Node. Two groups, one after the other: the
// fast suite (unit, sandbox integration, e2e), then the real-hypervisor tests (QEMU VMs), alone,
// so their VMs do not compete with the rest for the machine's two cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: ['test/kvm/**', '**/node_modules/**'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'kvm',
          include: ['test/kvm/**/*.test.ts'],
          environment: 'node',
          testTimeout: 400_000,
          hookTimeout: 400_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
