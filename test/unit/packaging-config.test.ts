// The Linux packages' configuration, checked as far as this offline machine allows: electron-builder
// loads and validates it with its own loader and schema, every file it names exists, the desktop entry
// is complete, and `npm run dist` without network says plainly that Electron cannot be downloaded.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { trayIconNames } from '../../electron/core/desktop/tray';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

interface FileSet {
  from: string;
  to?: string;
  filter?: string[];
}
interface BuilderConfig {
  appId?: string;
  productName?: string;
  /** electron-builder normalizes the yml's list into file sets. */
  files?: Array<string | { filter?: string[] }>;
  extraResources?: FileSet[];
  directories?: { output?: string; buildResources?: string };
  linux?: { target?: string[]; icon?: string; executableName?: string; desktop?: { entry?: Record<string, string> } };
  deb?: { depends?: string[] };
}
interface BuilderConfigModule {
  getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<BuilderConfig>;
  validateConfiguration(config: BuilderConfig, debugLogger: { isEnabled: boolean; add(key: string, value: unknown): void }): Promise<void>;
}
interface DistModule {
  configOverlay(): { linux: { desktop: { entry: Record<string, string> } } };
  parseDesktopEntry(text: string): Record<string, string>;
  REQUIRED_BUILD_OUTPUTS: string[];
  DESKTOP_FILE: string;
}

let config: BuilderConfig;
let dist: DistModule;

beforeAll(async () => {
  const built = spawnSync(process.execPath, [join(root, 'build', 'build.mjs')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  dist = (await import(join(root, 'build', 'dist.mjs'))) as DistModule;
  const builder = require('app-builder-lib/out/util/config/config') as BuilderConfigModule;
  config = await builder.getConfig(root, null, dist.configOverlay());
  await builder.validateConfiguration(config, { isEnabled: false, add: () => {} });
}, 60_000);

describe('electron-builder config', () => {
  it("is electron-builder.yml, valid for electron-builder's own schema, for AppImage and deb", () => {
    expect(existsSync(join(root, 'electron-builder.yml'))).toBe(true);
    expect(config.productName).toBe('Cloud Management System');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.linux?.executableName).toBe('cloud-management-system');
    expect(config.deb?.depends).toContain('libvirt0');
  });

  it('rejects what its schema forbids (the validation is real)', async () => {
    const builder = require('app-builder-lib/out/util/config/config') as BuilderConfigModule;
    await expect(builder.validateConfiguration({ ...config, linux: { ...config.linux, notAnOption: true } as BuilderConfig['linux'] }, { isEnabled: false, add: () => {} })).rejects.toThrow(/Invalid configuration object[\s\S]*linux/);
  });

  it('ships the built app, with the guest server and the sandbox host as extra resources that exist', () => {
    const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    expect(existsSync(join(root, packageJson.main))).toBe(true);
    const patterns = (config.files ?? []).flatMap((set) => (typeof set === 'string' ? [set] : (set.filter ?? [])));
    expect(patterns).toEqual(expect.arrayContaining(['package.json', 'dist/electron/**', 'renderer/dist/**']));
    for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
      const path = pattern.replace(/\/\*\*$/, '');
      // The renderer is built by its vite config once that exists; before, the window shows the "not built" page.
      if (path === 'renderer/dist' && !existsSync(join(root, 'renderer', 'vite.config.ts'))) continue;
      expect(existsSync(join(root, path)), pattern).toBe(true);
    }
    for (const output of dist.REQUIRED_BUILD_OUTPUTS) expect(existsSync(join(root, output)), output).toBe(true);
    const resources = config.extraResources ?? [];
    expect(resources.map((r) => r.from)).toEqual(expect.arrayContaining(['guest-server/dist/guest-server.js', 'electron/core/sandbox/sandbox-host.xml', 'build/icons']));
    for (const resource of resources) expect(existsSync(join(root, resource.from)), resource.from).toBe(true);
    // main.ts finds the guest server at resources/guest-server/dist/guest-server.js and the host file at resources/sandbox-host.xml.
    expect(resources.find((r) => r.from.endsWith('guest-server.js'))?.to).toBe('guest-server/dist/guest-server.js');
    expect(resources.find((r) => r.from.endsWith('sandbox-host.xml'))?.to).toBe('sandbox-host.xml');
  });

  it('has icons for the packages, the window and every tray state', () => {
    const iconDir = join(root, config.linux?.icon ?? 'missing');
    const sizes = readdirSync(iconDir).filter((name) => /^\d+x\d+\.png$/.test(name));
    expect(sizes).toEqual(expect.arrayContaining(['256x256.png', '512x512.png', '48x48.png']));
    for (const name of [...sizes, 'app.png', ...trayIconNames.map((state) => `tray-${state}.png`)]) {
      const bytes = readFileSync(join(iconDir, name));
      expect(bytes.subarray(1, 4).toString('ascii'), name).toBe('PNG');
      const width = bytes.readUInt32BE(16);
      const match = /^(\d+)x\d+\.png$/.exec(name);
      if (match) expect(width, name).toBe(Number(match[1]));
    }
  });

  it('carries the desktop entry from build/linux, leaving Exec and Icon to electron-builder', () => {
    const file = dist.parseDesktopEntry(readFileSync(dist.DESKTOP_FILE, 'utf8'));
    expect(file).toMatchObject({ Type: 'Application', Name: 'Cloud Management System', Terminal: 'false' });
    expect(file.Categories).toMatch(/System;/);
    const entry = config.linux?.desktop?.entry ?? {};
    expect(entry.Name).toBe(file.Name);
    expect(entry.Categories).toBe(file.Categories);
    expect(entry.StartupWMClass).toBe(config.productName);
    expect(entry).not.toHaveProperty('Exec');
    expect(entry).not.toHaveProperty('Icon');
  });
});

describe('npm run dist without network', () => {
  // A network namespace with loopback only: electron-builder cannot reach anything, as on the build machines.
  const isolated = spawnSync('unshare', ['-n', 'true']).status === 0;

  it.skipIf(!isolated)('says plainly that Electron cannot be downloaded, and exits 3', () => {
    const outputExisted = existsSync(join(root, 'dist', 'packages'));
    const result = spawnSync('unshare', ['-n', process.execPath, join(root, 'build', 'dist.mjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(result.stderr).toMatch(/dist: cannot build the packages: electron-builder could not download Electron \d+\.\d+\.\d+ for linux-x64/);
    expect(result.stderr).toMatch(/no network access/);
    expect(result.status).toBe(3);
    if (!outputExisted) rmSync(join(root, 'dist', 'packages'), { recursive: true, force: true });
  }, 120_000);
});
