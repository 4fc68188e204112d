// The minimal guest image: finds and runs build/guest-image/build-image.sh (Debian kernel, busybox,
// Node, the one-file guest server; cached when its inputs are unchanged) and reads the manifest it
// writes. The build itself lives in that script; this module only runs it and checks its result.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { KvmError } from './errors';
import { runProgram } from './process';
import { tcgCpuQemuArg } from './tcg-cpu';

export const guestImageManifestSchema = z.object({
  format: z.literal(1),
  /** sha256 of every input; equal keys mean an identical image. */
  key: z.string().regex(/^[0-9a-f]{64}$/),
  kernel: z.string().min(1),
  initrd: z.string().min(1),
  probeInitrd: z.string().min(1),
  /** Kernel command line the image expects (members add their cms.* settings). */
  cmdline: z.string().min(1),
  kernelRelease: z.string(),
  kernelPackage: z.string(),
  busyboxPackage: z.string(),
  nodeVersion: z.string(),
  modules: z.string(),
  /** The emulated CPU the guest's Node start-up snapshot was made for; null: the image has none. */
  snapshotCpu: z.string().nullable().default(null),
  builtAt: z.string(),
  buildSeconds: z.number(),
});
export type GuestImageManifest = z.infer<typeof guestImageManifestSchema>;

export interface GuestImage {
  dir: string;
  kernelPath: string;
  initrdPath: string;
  probeInitrdPath: string;
  cmdline: string;
  manifest: GuestImageManifest;
}

/** Root keeps images where QEMU's own user can read them; others use their cache folder. */
export function defaultImageDir(): string {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/cms/guest-image';
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cms', 'guest-image');
}

/** Where saved-pool members' memory images go on this machine (root: beside the guest image). */
export function defaultSavedImageDir(): string {
  return join(dirname(defaultImageDir()), 'saved');
}

/** Finds a file of the repository (sources or bundle) by walking up from this module. */
export function findRepositoryFile(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new KvmError('image_missing', `${relative} not found above ${dirname(fileURLToPath(import.meta.url))}`);
}

export interface BuildImageOptions {
  /** @default defaultImageDir() */
  outDir?: string;
  /** Rebuild even when the inputs are unchanged. @default false */
  force?: boolean;
  /** The guest-server bundle to install. @default guest-server/dist/guest-server.js of this repository */
  guestScript?: string;
  /** @default 300000 */
  timeoutMs?: number;
  /** Progress lines of the build script (stderr). */
  onProgress?: (line: string) => void;
}

export interface BuiltImage {
  image: GuestImage;
  /** True when the inputs were unchanged and nothing was rebuilt. */
  cached: boolean;
  ms: number;
}

/** Builds the guest image (or confirms the cached one) and returns it. */
export async function buildGuestImage(options: BuildImageOptions = {}): Promise<BuiltImage> {
  const outDir = resolve(options.outDir ?? defaultImageDir());
  const script = findRepositoryFile(join('build', 'guest-image', 'build-image.sh'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Ship the Node that runs us (inside Electron, execPath is Electron: let the script find node).
  if (!env.CMS_NODE_BIN && !process.versions.electron) env.CMS_NODE_BIN = process.execPath;
  if (options.guestScript) env.CMS_GUEST_JS = options.guestScript;
  if (options.force) env.CMS_IMAGE_FORCE = '1';
  // The snapshot is made for the CPU the template emulates (a KVM guest refuses it and starts
  // without); CMS_GUEST_SNAPSHOT_CPU='' in the environment builds none.
  env.CMS_GUEST_SNAPSHOT_CPU ??= tcgCpuQemuArg();
  let cached = false;
  let pending = '';
  const result = await runProgram('bash', [script, outDir], {
    env,
    timeoutMs: options.timeoutMs ?? 300_000,
    onStderr: (chunk) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('build-image: cached')) cached = true;
        if (line.trim()) options.onProgress?.(line);
      }
    },
  });
  if (result.code !== 0) {
    const detail = result.stderr.trim().split('\n').slice(-6).join(' | ');
    throw new KvmError('image_build_failed', `building the guest image in ${outDir} failed (exit ${result.code ?? result.signal}): ${detail}`);
  }
  return { image: await readGuestImage(outDir), cached, ms: result.ms };
}

/** Reads and checks a built image's manifest; throws KvmError('image_missing') when there is none. */
export async function readGuestImage(dir: string): Promise<GuestImage> {
  const root = resolve(dir);
  let text: string;
  try {
    text = await readFile(join(root, 'manifest.json'), 'utf8');
  } catch {
    throw new KvmError('image_missing', `no guest image in ${root}: run 'cms image build --out ${root}'`);
  }
  let manifest: GuestImageManifest;
  try {
    const parsed = guestImageManifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
    manifest = parsed.data;
  } catch (error) {
    throw new KvmError('image_invalid', `${join(root, 'manifest.json')} is invalid: ${error instanceof Error ? error.message : String(error)}`);
  }
  const image: GuestImage = {
    dir: root,
    kernelPath: join(root, manifest.kernel),
    initrdPath: join(root, manifest.initrd),
    probeInitrdPath: join(root, manifest.probeInitrd),
    cmdline: manifest.cmdline,
    manifest,
  };
  for (const path of [image.kernelPath, image.initrdPath, image.probeInitrdPath]) {
    if (!existsSync(path)) throw new KvmError('image_invalid', `${path} is missing: rebuild with 'cms image build --force'`);
  }
  return image;
}
