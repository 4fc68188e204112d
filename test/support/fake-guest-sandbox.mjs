#!/usr/bin/env node
// Stand-in for guest-server in sandbox runtime tests: exercises only the process/signal plumbing.
// It never dials the manager or does work; it idles until signalled. Not shipped.
const argv = process.argv.slice(2);
const ignoreSigterm = argv.includes('--ignore-sigterm');
process.on('SIGTERM', () => {
  if (ignoreSigterm) {
    process.stdout.write(`${JSON.stringify({ event: 'fake_guest_ignored_sigterm' })}\n`);
    return;
  }
  process.exit(0);
});
// Announced only now that the SIGTERM handler is in place: tests signal as soon as they read this.
process.stdout.write(`${JSON.stringify({ event: 'fake_guest_started', pid: process.pid, argv })}\n`);
// Keeps the event loop alive; a guest does not exit on its own.
setInterval(() => undefined, 60_000);
