// Runs only the real-hypervisor tests (test/kvm): QEMU/KVM VMs through qemu:///system, which take
// minutes, not seconds. `npm run test:kvm` uses it; `npm test` runs the same files with the rest.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/kvm/**/*.test.ts'],
    environment: 'node',
    testTimeout: 400_000,
    hookTimeout: 400_000,
    reporters: ['default'],
    fileParallelism: false,
  },
});
