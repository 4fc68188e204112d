// What the guest image's init runs instead of `node guest-server.js`: it loads the bundle beside
// it with the V8 code cache made when the image was built (make-code-cache.cjs, which loads the
// bundle through loadBundle here: V8 takes a cache only for the very same wrapped source). Under
// TCG emulation the guest registered and answered ~0.2 s sooner. Without the cache, or if V8
// rejects it (another Node), it compiles as usual and says so.
'use strict';
const { readFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** Compiles the bundle as Node would load it (CommonJS wrapper, shebang line dropped), with the given cache if any. */
function loadBundle(bundle, cachedData) {
  // The shebang line is not JavaScript; Node strips it for files it loads itself, so must we.
  const source = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
  const script = new Script(wrap(source), { filename: bundle, cachedData });
  const run = () => {
    const loaded = { exports: {} };
    script.runInThisContext().call(loaded.exports, loaded.exports, require, loaded, bundle, dirname(bundle));
  };
  return { script, run };
}

function start() {
  const bundle = join(__dirname, 'guest-server.js');
  const cacheFile = `${bundle}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    process.stderr.write(`cached-start: no code cache at ${cacheFile}: compiling\n`);
  }
  const { script, run } = loadBundle(bundle, cachedData);
  if (cachedData && script.cachedDataRejected) process.stderr.write(`cached-start: ${cacheFile} was rejected (made by another Node?): compiling\n`);
  run();
}

if (require.main === module) start();
module.exports = { loadBundle };
