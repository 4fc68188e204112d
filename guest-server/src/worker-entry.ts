// Entry of a collide worker thread when it is bundled on its own: the build embeds this small
// bundle as a string in guest-server.js, so a worker parses a few kilobytes instead of the whole
// server (which under TCG emulation costs seconds of a VM's boot). No protocol, no zod here.
import { parentPort, workerData } from 'node:worker_threads';
import { runCollideWorker } from './worker';
import { isCollideWorkerInit } from './worker-messages';

if (parentPort && isCollideWorkerInit(workerData)) runCollideWorker(workerData, parentPort);
