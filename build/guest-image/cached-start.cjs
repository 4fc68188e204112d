// What the guest image's init runs instead of `node guest-server.js`: it loads the bundle beside
// it with the V8 code cache made when the image was built (make-code-cache.cjs), which under TCG
// emulation had the guest registered and answering ~0.2 s sooner. Without the cache, or if V8
// rejects it (another Node), it compiles as usual and says so.
'use strict';
const { readFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, 'guest-server.js');
const cacheFile = `${bundle}.v8cache`;
// The shebang line is not JavaScript; Node strips it for files it loads itself, so must we.
const source = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  process.stderr.write(`cached-start: no code cache at ${cacheFile}: compiling\n`);
}
const script = new Script(wrap(source), { filename: bundle, cachedData });
if (cachedData && script.cachedDataRejected) process.stderr.write(`cached-start: ${cacheFile} was rejected (made by another Node?): compiling\n`);
const loaded = { exports: {} };
script.runInThisContext().call(loaded.exports, loaded.exports, require, loaded, bundle, __dirname);
