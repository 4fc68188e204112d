#!/usr/bin/env node
// `npm run security`: Electronegativity over electron/, failing on any HIGH-severity finding.
// Runs the scanner through its JavaScript API because its CLI is broken here (it resolves the
// project's commander 14, whose API it predates) and because its start-up fetches translations from
// the internet: that fetch is replaced by a refusal, so the scan stays offline.
import { createRequire, Module } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What to scan: electron/ unless a folder is given (the tests scan a known-bad one). */
const input = resolve(process.argv[2] ?? join(root, 'electron'));
const require = createRequire(import.meta.url);
const scannerEntry = require.resolve('@doyensec/electronegativity');

// The scanner's i18n module calls got(<S3 URL>) once; hand it a got that refuses without a socket.
const gotPath = createRequire(join(dirname(scannerEntry), 'locales', 'i18n.js')).resolve('got');
const refuse = () => Promise.reject(new Error('offline: no network access from the security scan'));
const offlineGot = Object.assign(refuse, { head: refuse, get: refuse });
offlineGot.default = offlineGot;
const stub = new Module(gotPath);
stub.filename = gotPath;
stub.loaded = true;
stub.exports = offlineGot;
require.cache[gotPath] = stub;

// Its console line about the refused fetch is noise here.
const log = console.log;
console.log = (...args) => {
  if (!/Could not retrieve updated translations/.test(String(args[0]))) log(...args);
};
const electronVersion = JSON.parse((await import('node:fs')).readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
const run = require(scannerEntry);
// AVAILABLE_SECURITY_FIXES compares the Electron version with the release list it downloads from
// GitHub: it cannot run offline. The version is pinned in package.json and updated through npm.
const excludeFromScan = ['AvailableSecurityFixesGlobalCheck'];
const result = await run({ input, electronVersionOverride: electronVersion, isRelative: false, customScan: [], excludeFromScan }, false);
console.log = log;

const order = { HIGH: 3, MEDIUM: 2, LOW: 1, INFORMATIONAL: 0 };
const issues = [...result.issues].sort((a, b) => order[b.severity.name] - order[a.severity.name] || a.file.localeCompare(b.file));
for (const issue of issues) {
  const where = `${relative(root, issue.file)}:${issue.location.line}:${issue.location.column}`;
  console.log(`${issue.severity.name.padEnd(13)} ${issue.confidence.name.padEnd(9)} ${issue.id.padEnd(40)} ${where}${issue.manualReview ? ' (manual review)' : ''}`);
}
const parseErrors = result.errors.filter((error) => !error.tolerable);
if (process.env.CMS_SECURITY_VERBOSE) for (const error of result.errors) console.log(`parse note ${relative(root, error.file)}: ${error.message}`);
for (const error of parseErrors) console.log(`could not parse ${relative(root, error.file)}: ${error.message}`);
const high = issues.filter((issue) => issue.severity.name === 'HIGH');
console.log(`security: Electronegativity ${result.globalChecks + result.atomicChecks} checks over ${relative(root, input) || '.'}/ (Electron ${electronVersion}): ${issues.length} finding(s), ${high.length} HIGH.`);
if (high.length > 0 || parseErrors.length > 0) {
  console.error(high.length > 0 ? 'security: HIGH-severity findings must be fixed (or explained and suppressed where they are false).' : 'security: some files could not be scanned.');
  process.exit(1);
}
