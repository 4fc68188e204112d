// The entry of the guest image's Node start-up snapshot:
// `node --snapshot-blob OUT --build-snapshot snapshot-entry.cjs BUNDLE` (under qemu-user, for the
// emulated CPU; see build-image.sh). It loads the guest-server bundle with every function compiled,
// so that a guest started from the snapshot compiles nothing (a snapshot keeps the bytecode of
// what was compiled when it was made; measured under TCG: registered ~80 ms and answered its first
// request ~35 ms sooner than from a snapshot of the lazily compiled bundle), with the built-in
// modules it loads late already loaded. The bundle itself (guest-server/src/main.ts) registers the
// function a started process runs.
'use strict';
const { readFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { setFlagsFromString, startupSnapshot } = require('node:v8');
const { runInThisContext } = require('node:vm');

const bundle = process.argv[2];
if (!bundle || !startupSnapshot.isBuildingSnapshot()) {
  process.stderr.write('usage: node --snapshot-blob OUT --build-snapshot snapshot-entry.cjs BUNDLE\n');
  process.exit(2);
}
// Built-in modules Node loads only when the server first needs them, loaded into the snapshot
// instead (measured under TCG: listening ~40 ms and registered ~50-70 ms sooner): the lazy
// `performance` global, util.parseArgs, and what net.Server#listen(port, host) requires: dns for
// the address and cluster to ask whether this is its primary. (Node warns that cluster is not yet
// verified in snapshots; listen only reads cluster.isPrimary, fixed when the module loads, and no
// guest is a cluster worker.)
void globalThis.performance.now();
void require('node:util').parseArgs;
require('node:dns');
require('node:cluster');

// The shebang line is not JavaScript; Node strips it for files it loads itself, so must we.
const source = readFileSync(bundle, 'utf8').replace(/^#!.*/, '');
// Eager compilation only while the bundle is compiled: V8 keys a snapshot by its flags, and the
// process started from it runs with the defaults. (Node warns that node:vm is not yet verified in
// snapshots either; it only compiles the bundle here, in this context, and is not used after.)
setFlagsFromString('--no-lazy');
const wrapped = runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: bundle });
setFlagsFromString('--lazy');
const loaded = { exports: {} };
wrapped.call(loaded.exports, loaded.exports, require, loaded, bundle, dirname(bundle));
