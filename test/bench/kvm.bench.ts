// Benchmark on REAL QEMU VMs (qemu:///system; KVM where a probe shows it works, else TCG): linked-
// clone creation, start → registered, scale-up decision → serving (each over a bare QEMU boot run
// just before it, the baseline), warm-pool resume → serving, saved-pool save and restore → serving,
// QEMU memory per VM, and the largest pool this machine fits (estimated from free memory and idle
// CPU, then a moderate count verified by booting it at once). It reports; it does not fail on a
// slow shared machine. It leaves no VM, overlay or daemon of its own behind.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PoolEvent } from '../../electron/core/pool/types';
import { bootProbeInitramfs, DEFAULT_MEMORY_MIB, DEFAULT_VCPUS, OverlayStorage, QBOOT_PATHS, tcgCpuQemuArg } from '../../electron/core/kvm/index';
import { startPlane, testConfig, waitFor, type PlaneHarness } from '../support/control-plane';
import { fixed, table } from './support/format';
import { cleanupKvmHost, freePort, prepareKvmHost, qemuRssMiB, KVM_URI, type KvmHost } from '../kvm/kvm-host';

export const TARGET_CLONE_MS = 50;
export const TARGET_START_TO_SERVING_TCG_MS = 5000;
export const TARGET_START_TO_SERVING_KVM_MS = 2000;
export const TARGET_RESUME_TO_SERVING_MS = 100;

const POOL = 'cms-kvmbench';
const TEMPLATE = 'cms-kvmbench-template';
/** VMs booted at once to verify the pool size (modest: the cores are shared); CMS_BENCH_VERIFY_VMS overrides. @default 4 */
const VERIFY_VMS = Number(process.env.CMS_BENCH_VERIFY_VMS ?? 4);
/** Cold starts timed one at a time. Five, not three: one slow boot (this machine's speed swings by ±20 %) moved a median of three by 0.2–0.3 s. */
const SCALE_UP_SAMPLES = 5;
/** Pause after a scale-up before the next bare boot: a new member starts its worker threads after it registers. */
const SETTLE_MS = 3000;
/** Memory left to the host when estimating the largest pool, MiB. */
const HOST_RESERVE_MIB = 2048;

export interface KvmBenchResult {
  domainType: string;
  accelReason: string;
  imageMs: number;
  imageCached: boolean;
  overlayMs: number[];
  overlayQemuImgMs: number[];
  /** Clone as the pool does it (template XML read, overlay, define), one at a time. */
  cloneDefineMs: number[];
  /** The same while VERIFY_VMS clones are made at once (libvirtd is busy starting the others). */
  cloneDefineConcurrentMs: number[];
  /** Start → registered, one member booting at a time. */
  startToRegisteredMs: number[];
  /** Start → registered while VERIFY_VMS members boot at once. */
  startToRegisteredConcurrentMs: number[];
  decisionToServingMs: number[];
  /**
   * The baseline: QEMU alone boots the same kernel with the probe's busybox initramfs (no libvirt,
   * no Node) to user space, right before each scale-up, beside the same running members.
   */
  bareBootMs: number[];
  /** Each scale-up's decision → serving over the bare boot just before it. */
  scaleUpOverBareBoot: number[];
  resumeMs: number[];
  resumeToServingMs: number[];
  /** Saved pool: the save call (virDomainSave), the restore call, and scale-up decision → serving by restore. */
  saveMs: number[];
  savedFileMiB: number[];
  restoreMs: number[];
  restoreToServingMs: number[];
  rssMiB: number[];
  idleCpuPctPerVm: number | null;
  memAvailableMiB: number;
  verify: { count: number; allServingMs: number | null; rssMiB: number[] };
  estimate: { byMemory: number; byIdleCpu: number | null };
}

function stats(values: readonly number[]): { median: number | null; worst: number | null } {
  if (values.length === 0) return { median: null, worst: null };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, worst: sorted[sorted.length - 1] as number };
}

function memAvailableMiB(): number {
  const kib = Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return kib / 1024;
}

/** CPU seconds used so far by each running QEMU of the pool, from /proc/<pid>/stat. */
function qemuCpuSeconds(prefix: string): Map<string, number> {
  const ticksPerSecond = 100;
  const result = new Map<string, number>();
  for (const pid of readdirNumeric()) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!cmdline[0]?.includes('qemu-system')) continue;
      const name = /guest=([^,]+)/.exec(cmdline[cmdline.indexOf('-name') + 1] ?? '')?.[1] ?? '';
      if (!name.startsWith(prefix)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      result.set(name, (Number(fields[11]) + Number(fields[12])) / ticksPerSecond);
    } catch {
      // gone while we looked
    }
  }
  return result;
}

function readdirNumeric(): string[] {
  return readdirSyncSafe('/proc').filter((entry) => /^\d+$/.test(entry));
}

function readdirSyncSafe(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Waits for the next pool event matching `match`; resolves with it. */
function nextPoolEvent<T extends PoolEvent>(harness: PlaneHarness, match: (event: PoolEvent) => event is T, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      harness.plane.off('pool', listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const listener = (event: PoolEvent): void => {
      if (!match(event)) return;
      clearTimeout(timer);
      harness.plane.off('pool', listener);
      resolvePromise(event);
    };
    harness.plane.on('pool', listener);
  });
}

/** Sends one tiny request straight to a member's agent: "serving" means it answered. */
async function probeServing(harness: PlaneHarness, uuid: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const agent = harness.plane.agents.agent(uuid);
    if (agent?.healthy) {
      await agent.collide(`probe-${uuid}-${performance.now()}`, 1, Math.max(100, deadline - performance.now()));
      return;
    }
    if (performance.now() > deadline) throw new Error(`member ${uuid} not serving within ${timeoutMs} ms`);
    await sleep(5);
  }
}

function isHealthy(event: PoolEvent): event is Extract<PoolEvent, { type: 'member_healthy' }> {
  return event.type === 'member_healthy';
}
function isResumed(event: PoolEvent): event is Extract<PoolEvent, { type: 'member_resumed' }> {
  return event.type === 'member_resumed';
}
function isSaved(event: PoolEvent): event is Extract<PoolEvent, { type: 'member_saved' }> {
  return event.type === 'member_saved';
}
function isRestored(event: PoolEvent): event is Extract<PoolEvent, { type: 'member_restored' }> {
  return event.type === 'member_restored';
}
function isWarm(event: PoolEvent): event is Extract<PoolEvent, { type: 'member_warm' }> {
  return event.type === 'member_warm';
}

async function overlayTimes(host: KvmHost, method: 'native' | 'qemu-img', count: number): Promise<number[]> {
  const storage = new OverlayStorage({ method });
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const startMs = performance.now();
    const overlay = await storage.createOverlay(host.templateDisk, `${POOL}-clone${i}`, 0);
    times.push(performance.now() - startMs);
    await storage.removeOverlay(overlay);
  }
  return times;
}

/**
 * The machine's speed at this moment, for the ratio: QEMU alone (no libvirt, no Node) boots the
 * image's kernel with the accelerator probe's busybox initramfs, with the template's accelerator,
 * CPU, memory, vCPUs and firmware, and this returns the ms from QEMU's start to user space.
 */
async function bareBootMs(host: KvmHost): Promise<number> {
  const kvm = host.accel.domainType === 'kvm';
  const firmware = QBOOT_PATHS.find((path) => existsSync(path));
  const machineArgs = [
    '-machine', 'pc', '-accel', kvm ? 'kvm' : 'tcg,tb-size=128', '-cpu', kvm ? 'host' : tcgCpuQemuArg(),
    '-m', String(DEFAULT_MEMORY_MIB), '-smp', String(DEFAULT_VCPUS), ...(firmware ? ['-bios', firmware] : []),
  ];
  const { markerMs, result } = await bootProbeInitramfs(host.image, machineArgs, host.image.cmdline, { timeoutMs: 60_000 });
  if (markerMs === null) throw new Error(`the bare boot did not reach user space (exit ${result.code ?? result.signal}): ${result.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  return markerMs;
}

export async function measureKvmBench(log: (line: string) => void = (line) => console.log(`[kvm-bench] ${line}`)): Promise<KvmBenchResult | { skipped: string }> {
  const prepared = await prepareKvmHost({ templateName: TEMPLATE, log });
  if (!prepared.ok) return { skipped: prepared.reason };
  const host = prepared.host;
  const memAvailable = memAvailableMiB();
  let harness: PlaneHarness | null = null;
  try {
    const overlayMs = await overlayTimes(host, 'native', 20);
    const overlayQemuImgMs = await overlayTimes(host, 'qemu-img', 5);
    log(`overlays: native median ${fixed(stats(overlayMs).median)} ms, qemu-img median ${fixed(stats(overlayQemuImgMs).median)} ms`);

    harness = await startPlane(
      testConfig({
        pool: { name: POOL, templateName: TEMPLATE, drainTimeoutMs: 1000, shutdownTimeoutMs: 8000 },
        policy: { kind: 'target', min: 0, max: Math.max(SCALE_UP_SAMPLES + 6, VERIFY_VMS), bootTimeoutMs: 240_000, periodMs: 1000 },
        load: { profile: { kind: 'constant', rateRps: 0.1 }, digits: 1, running: false },
        agent: { host: '127.0.0.1', port: await freePort(), heartbeatTimeoutMs: 10_000 },
      }),
      { uris: [KVM_URI] },
    );
    const h = harness;
    h.plane.pauseAutoscaling();
    const clones = { one: [] as number[], many: [] as number[] };
    const boots = { one: [] as number[], many: [] as number[] };
    let concurrent = false;
    h.plane.on('pool', (event) => {
      if (event.type === 'member_cloned') (concurrent ? clones.many : clones.one).push(event.ms);
      if (event.type === 'member_healthy') (concurrent ? boots.many : boots.one).push(event.bootMs);
    });

    // Scale-up decision → serving, one member at a time (a quiet host: the clean figure).
    // Each is paired with a bare boot just before it (the baseline): the machine's speed swings by
    // ±20 % and more within minutes, and the ratio separates that from the pool's own time. The
    // pause first lets the member booted last start its worker threads, which would slow the bare boot.
    const decisionToServingMs: number[] = [];
    const bareBoots: number[] = [];
    const scaleUpOverBareBoot: number[] = [];
    for (let size = 1; size <= SCALE_UP_SAMPLES; size++) {
      if (size > 1) await sleep(SETTLE_MS);
      const bareMs = await bareBootMs(host);
      bareBoots.push(bareMs);
      await sleep(500);
      const decidedMs = performance.now();
      const healthy = nextPoolEvent(h, isHealthy, 240_000, `member ${size} to register`);
      h.plane.scaleTo(size, 'bench: scale up');
      const event = await healthy;
      await probeServing(h, event.member.uuid, 30_000);
      const servingMs = performance.now() - decidedMs;
      decisionToServingMs.push(servingMs);
      scaleUpOverBareBoot.push(servingMs / bareMs);
      log(`scale-up ${size}: serving after ${Math.round(servingMs)} ms (registered ${Math.round(event.bootMs)} ms after start); bare boot just before: ${Math.round(bareMs)} ms, ratio ${(servingMs / bareMs).toFixed(2)}`);
    }

    // Warm pool: a registered member paused; a scale-up resumes it.
    const resumeMs: number[] = [];
    const resumeToServingMs: number[] = [];
    const policy = h.plane.autoscaler.getConfig();
    for (let round = 0; round < 3; round++) {
      const warm = nextPoolEvent(h, isWarm, 240_000, 'a warm member to be parked');
      if (round === 0) h.plane.setPolicy({ ...policy, warmPoolSize: 1 });
      await warm;
      await sleep(1000);
      const resumed = nextPoolEvent(h, isResumed, 30_000, 'the warm member to resume');
      const decidedMs = performance.now();
      h.plane.scaleTo(h.plane.pool.desired + 1, 'bench: scale up from the warm pool');
      const event = await resumed;
      const resumedAfterMs = performance.now() - decidedMs;
      await probeServing(h, event.member.uuid, 30_000);
      resumeMs.push(event.ms);
      resumeToServingMs.push(performance.now() - decidedMs);
      log(
        `resume ${round + 1}: libvirt call ${Math.round(event.ms)} ms, resumed ${Math.round(resumedAfterMs)} ms after the decision, serving after ${Math.round(performance.now() - decidedMs)} ms`,
      );
    }
    // Saved pool: a registered member saved to disk; a scale-up restores it (the warm pool is off,
    // or it would be resumed first). The pool refills the saved pool meanwhile, as it would in use.
    h.plane.setPolicy({ ...policy, warmPoolSize: 0 });
    const saveMs: number[] = [];
    const savedFileMiB: number[] = [];
    const restoreMs: number[] = [];
    const restoreToServingMs: number[] = [];
    for (let round = 0; round < 3; round++) {
      const saved = nextPoolEvent(h, isSaved, 240_000, 'a member to be saved');
      if (round === 0) h.plane.setPolicy({ ...policy, warmPoolSize: 0, savedPoolSize: 1 });
      const savedEvent = await saved;
      saveMs.push(savedEvent.ms);
      if (savedEvent.member.savedImage) savedFileMiB.push(statSync(savedEvent.member.savedImage).size / 1024 / 1024);
      await sleep(1000);
      const restored = nextPoolEvent(h, isRestored, 60_000, 'the saved member to be restored');
      const healthy = nextPoolEvent(h, (event): event is Extract<PoolEvent, { type: 'member_healthy' }> => isHealthy(event) && event.member.uuid === savedEvent.member.uuid, 60_000, 'the restored member to register');
      const decidedMs = performance.now();
      h.plane.scaleTo(h.plane.pool.desired + 1, 'bench: scale up from the saved pool');
      const event = await restored;
      await healthy;
      await probeServing(h, event.member.uuid, 30_000);
      restoreMs.push(event.ms);
      restoreToServingMs.push(performance.now() - decidedMs);
      log(`saved ${round + 1}: save call ${Math.round(savedEvent.ms)} ms; restore call ${Math.round(event.ms)} ms, serving after ${Math.round(performance.now() - decidedMs)} ms`);
    }
    // Stop refilling the warm and saved pools before measuring memory and idle CPU.
    h.plane.setPolicy({ ...policy, warmPoolSize: 0, savedPoolSize: 0 });
    await sleep(3000);
    const rss = [...qemuRssMiB()].filter(([name]) => name.startsWith(`${POOL}-`)).map(([, mib]) => mib);
    const cpuBefore = qemuCpuSeconds(`${POOL}-`);
    await sleep(5000);
    const cpuAfter = qemuCpuSeconds(`${POOL}-`);
    const idleShares = [...cpuAfter].map(([name, seconds]) => ((seconds - (cpuBefore.get(name) ?? seconds)) / 5) * 100);
    const idleCpuPctPerVm = idleShares.length > 0 ? idleShares.reduce((sum, value) => sum + value, 0) / idleShares.length : null;
    log(`idle VMs: ${rss.length} running, median RSS ${fixed(stats(rss).median, 0)} MiB, idle CPU ${fixed(idleCpuPctPerVm)} % each`);

    // Verify a moderate pool size: everything off, then VERIFY_VMS booted at once.
    h.plane.scaleTo(0, 'bench: empty before the size check');
    await waitFor(() => h.plane.pool.list().length === 0, 120_000, 'the pool to empty');
    const verifyStartMs = performance.now();
    concurrent = true;
    h.plane.scaleTo(VERIFY_VMS, 'bench: size check');
    let allServingMs: number | null = null;
    try {
      await waitFor(() => h.plane.pool.servingMembers().length >= VERIFY_VMS, 300_000, `${VERIFY_VMS} members to register`);
      await Promise.all(h.plane.pool.servingMembers().map((member) => probeServing(h, member.uuid, 60_000)));
      allServingMs = performance.now() - verifyStartMs;
    } catch (error) {
      log(`size check failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const verifyRss = [...qemuRssMiB()].filter(([name]) => name.startsWith(`${POOL}-`)).map(([, mib]) => mib);
    log(`${VERIFY_VMS} at once: ${allServingMs === null ? 'not all serving' : `all serving after ${Math.round(allServingMs)} ms`}`);

    const medianRss = stats([...rss, ...verifyRss]).median ?? 300;
    const byMemory = Math.floor(Math.max(0, memAvailable - HOST_RESERVE_MIB) / medianRss);
    const byIdleCpu = idleCpuPctPerVm && idleCpuPctPerVm > 0 ? Math.floor((availableParallelism() * 100) / idleCpuPctPerVm) : null;
    return {
      domainType: host.accel.domainType,
      accelReason: host.accel.reason,
      imageMs: host.imageBuildMs,
      imageCached: host.imageCached,
      overlayMs,
      overlayQemuImgMs,
      cloneDefineMs: clones.one,
      cloneDefineConcurrentMs: clones.many,
      startToRegisteredMs: boots.one,
      startToRegisteredConcurrentMs: boots.many,
      decisionToServingMs,
      bareBootMs: bareBoots,
      scaleUpOverBareBoot,
      resumeMs,
      resumeToServingMs,
      saveMs,
      savedFileMiB,
      restoreMs,
      restoreToServingMs,
      rssMiB: rss,
      idleCpuPctPerVm,
      memAvailableMiB: memAvailable,
      verify: { count: VERIFY_VMS, allServingMs, rssMiB: verifyRss },
      estimate: { byMemory, byIdleCpu },
    };
  } finally {
    if (harness) await harness.stop();
    await cleanupKvmHost(host, POOL);
  }
}

export function formatKvmBench(r: KvmBenchResult): string {
  const tcg = r.domainType === 'qemu';
  const startTarget = tcg ? TARGET_START_TO_SERVING_TCG_MS : TARGET_START_TO_SERVING_KVM_MS;
  const row = (name: string, values: readonly number[], target: string, targetMs: number | null, digits = 1): string[] => {
    const s = stats(values);
    const met = targetMs === null || s.median === null ? '' : s.median <= targetMs ? 'met (median)' : 'NOT met';
    return [name, String(values.length), fixed(s.median, digits), fixed(s.worst, digits), target, met];
  };
  const rows = [
    row('linked clone: qcow2 overlay (native)', r.overlayMs, `≤ ${TARGET_CLONE_MS} ms`, TARGET_CLONE_MS, 2),
    row('linked clone: qcow2 overlay (qemu-img)', r.overlayQemuImgMs, '', null),
    row('clone as the pool does it (XML+overlay+define)', r.cloneDefineMs, `≤ ${TARGET_CLONE_MS} ms`, TARGET_CLONE_MS),
    row(`  the same, ${r.verify.count} at once`, r.cloneDefineConcurrentMs, '', null),
    row('start → registered, one at a time', r.startToRegisteredMs, `≤ ${startTarget} ms`, startTarget, 0),
    row(`start → registered, ${r.verify.count} at once`, r.startToRegisteredConcurrentMs, '', null, 0),
    row('scale-up decision → serving', r.decisionToServingMs, `≤ ${startTarget} ms`, startTarget, 0),
    row('  baseline: bare boot (QEMU alone, no Node)', r.bareBootMs, '', null, 0),
    row('  ratio scale-up ÷ bare boot just before', r.scaleUpOverBareBoot, '', null, 2),
    row('warm-pool resume (libvirt call)', r.resumeMs, '', null),
    row('warm-pool decision → serving', r.resumeToServingMs, `≤ ${TARGET_RESUME_TO_SERVING_MS} ms`, TARGET_RESUME_TO_SERVING_MS),
    row('saved-pool save (libvirt call)', r.saveMs, '', null, 0),
    row('saved-pool image size, MiB', r.savedFileMiB, '', null, 0),
    row('saved-pool restore (libvirt call)', r.restoreMs, '', null, 0),
    row('saved-pool decision → serving (restore)', r.restoreToServingMs, `≤ ${startTarget} ms`, startTarget, 0),
    row('qemu RSS per VM, MiB (idle pool)', r.rssMiB, '', null, 0),
    row(`qemu RSS per VM, MiB (${r.verify.count} at once)`, r.verify.rssMiB, '', null, 0),
  ];
  const out: string[] = [];
  out.push(`Real-VM benchmark on qemu:///system: ${tcg ? 'TCG emulation' : 'KVM'} (${r.accelReason}); ${availableParallelism()} cores, shared: figures are noisy`);
  out.push(`guest image: ${r.imageCached ? 'cached' : 'built'} in ${Math.round(r.imageMs)} ms`);
  out.push('');
  out.push(...table([{ title: 'measurement (ms unless noted)' }, { title: 'n' }, { title: 'median' }, { title: 'worst' }, { title: 'target' }, { title: '', align: 'left' }], rows));
  out.push('');
  out.push(`${r.verify.count} VMs booted at once: ${r.verify.allServingMs === null ? 'NOT all serving' : `all serving after ${Math.round(r.verify.allServingMs)} ms`}`);
  out.push(`idle CPU per VM: ${fixed(r.idleCpuPctPerVm)} % of a core; memory available at start: ${Math.round(r.memAvailableMiB)} MiB`);
  out.push(
    `largest pool that fits: ${r.estimate.byMemory} VMs by memory ((available − ${HOST_RESERVE_MIB} MiB) ÷ median RSS)` +
      (r.estimate.byIdleCpu === null ? '' : `, ${r.estimate.byIdleCpu} idle VMs by CPU`) +
      `; serving capacity is bounded by the ${availableParallelism()} cores, not by the VM count`,
  );
  return out.join('\n');
}

export async function runKvmBench(): Promise<void> {
  const result = await measureKvmBench();
  if ('skipped' in result) {
    console.log(`kvm bench skipped: libvirtd cannot run here (${result.skipped})`);
    return;
  }
  console.log(formatKvmBench(result));
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  runKvmBench().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
