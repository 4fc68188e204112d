// Makes the V8 code cache of the guest server bundle that cached-start.cjs loads in the image:
// `node make-code-cache.cjs BUNDLE OUT`, run by the very Node binary the image ships (V8 accepts a
// cache only from its own version and flags). It runs the bundle as a guest once, against a
// stand-in manager here that takes its registration and asks for one collide, so that the cache
// also holds the functions start-up and the first request need, compiled.
'use strict';
const { writeFileSync } = require('node:fs');
const { createServer } = require('node:net');
const { loadBundle } = require('./cached-start.cjs');

const [bundle, out] = process.argv.slice(2);
if (!bundle || !out) {
  process.stderr.write('usage: node make-code-cache.cjs BUNDLE OUT\n');
  process.exit(2);
}
// Loaded exactly as cached-start.cjs loads it: V8 takes a cache only for the very same source.
const { script, run } = loadBundle(bundle, undefined);

const giveUp = setTimeout(() => {
  process.stderr.write('make-code-cache: the guest did not register and answer within 30 s\n');
  process.exit(1);
}, 30_000);

const manager = createServer((socket) => {
  let received = '';
  let registered = false;
  socket.on('data', (chunk) => {
    received += chunk;
    if (!registered && received.includes('"t":"register"')) {
      registered = true;
      socket.write('{"t":"registered"}\n{"t":"collide","id":1,"word":"code-cache","digits":2}\n');
    }
    if (received.includes('"t":"result"')) {
      clearTimeout(giveUp);
      writeFileSync(out, script.createCachedData());
      process.exit(0);
    }
  });
});
manager.listen(0, '127.0.0.1', () => {
  const { port } = manager.address();
  process.argv = [process.argv[0], bundle, '--manager', `127.0.0.1:${port}`, '--listen', '127.0.0.1:0', '--uuid', 'code-cache', '--token', 'code-cache', '--log-level', 'error'];
  run();
});
