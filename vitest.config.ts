// Test runner configuration: unit and integration tests run in plain Node.
// Integration tests spawn real guest servers and open real libvirt test-driver connections.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
