// Makes the V8 code cache of the guest server bundle that cached-start.cjs loads in the image:
// `node make-code-cache.cjs BUNDLE OUT`, run by the very Node binary the image ships (V8 accepts a
// cache only from its own version and flags). It loads the bundle as the guest does and runs its
// --help, so that the functions start-up needs are compiled into the cache too.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { wrap } = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');

const [bundle, out] = process.argv.slice(2);
if (!bundle || !out) {
  process.stderr.write('usage: node make-code-cache.cjs BUNDLE OUT\n');
  process.exit(2);
}
const source = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
// Wrapped exactly as cached-start.cjs wraps it: V8 takes a cache only for the very same source.
const script = new Script(wrap(source), { filename: bundle });
process.argv = [process.argv[0], bundle, '--help'];
const write = process.stdout.write;
process.stdout.write = () => true;
const loaded = { exports: {} };
script.runInThisContext().call(loaded.exports, loaded.exports, require, loaded, bundle, dirname(bundle));
process.stdout.write = write;
writeFileSync(out, script.createCachedData());
