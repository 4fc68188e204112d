// `cms image build` and `cms image define`: make the minimal guest image from Debian packages and
// define the pool's template domain (direct kernel boot) on a libvirt host. Thin: the work lives
// in electron/core/kvm. Prints progress on stderr and one JSON summary line on stdout.
import { Command, Option } from 'commander';
import { systemClock } from '../core/clock';
import { HypervisorConnection } from '../core/hypervisor/connection';
import {
  buildGuestImage,
  DEFAULT_MEMORY_MIB,
  DEFAULT_VCPUS,
  defaultImageDir,
  defineTemplate,
  isLocalUri,
  KvmError,
  parseTemplateNetwork,
  probeAccelerator,
  readGuestImage,
  type DomainType,
  type GuestImage,
} from '../core/kvm/index';
import { UsageError } from './run-options';

interface BuildFlags {
  out?: string;
  force?: boolean;
}

interface DefineFlags {
  uri: string;
  image?: string;
  name: string;
  network: string;
  memoryMib: string;
  vcpus: string;
  diskMib: string;
  diskDir?: string;
  domainType: 'auto' | 'kvm' | 'qemu';
  consoleLogDir: string;
}

function positiveInt(text: string, flag: string, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > max) throw new UsageError(`${flag}: expected a whole number from 0 to ${max}, got '${text}'`);
  return value;
}

async function imageFor(dir: string | undefined, uri: string): Promise<GuestImage> {
  const imageDir = dir ?? defaultImageDir();
  try {
    return await readGuestImage(imageDir);
  } catch (error) {
    // A local host can have the image made now; a remote one needs it built on that host.
    if (!(error instanceof KvmError) || error.code !== 'image_missing' || !isLocalUri(uri)) throw error;
    process.stderr.write(`cms: no image in ${imageDir} yet: building it\n`);
    return (await buildGuestImage({ outDir: imageDir, onProgress: (line) => process.stderr.write(`${line}\n`) })).image;
  }
}

async function buildCommand(flags: BuildFlags): Promise<void> {
  const built = await buildGuestImage({ outDir: flags.out, force: flags.force === true, onProgress: (line) => process.stderr.write(`${line}\n`) });
  console.log(
    JSON.stringify({
      event: 'image_ready',
      dir: built.image.dir,
      cached: built.cached,
      ms: Math.round(built.ms),
      kernel: built.image.kernelPath,
      initrd: built.image.initrdPath,
      kernelPackage: built.image.manifest.kernelPackage,
      nodeVersion: built.image.manifest.nodeVersion,
    }),
  );
}

async function defineCommand(flags: DefineFlags): Promise<void> {
  const network = parseTemplateNetwork(flags.network);
  const memoryMiB = positiveInt(flags.memoryMib, '--memory-mib', 1_048_576);
  const vcpus = positiveInt(flags.vcpus, '--vcpus', 1024);
  const diskMiB = positiveInt(flags.diskMib, '--disk-mib', 1_048_576);
  const image = await imageFor(flags.image, flags.uri);
  let domainType: DomainType;
  let reason: string;
  if (flags.domainType === 'auto') {
    const probe = await probeAccelerator({ image, local: isLocalUri(flags.uri) });
    domainType = probe.domainType;
    reason = probe.reason;
  } else {
    domainType = flags.domainType;
    reason = 'chosen with --domain-type';
  }
  process.stderr.write(`cms: domain type ${domainType}: ${reason}\n`);
  const connection = new HypervisorConnection({ id: 'image-define', uri: flags.uri, clock: systemClock });
  await connection.open();
  try {
    const template = await defineTemplate(connection, {
      name: flags.name,
      domainType,
      image,
      memoryMiB,
      vcpus,
      network,
      diskDir: flags.diskDir ?? image.dir,
      diskMiB,
      consoleLogDir: flags.consoleLogDir === 'none' ? null : flags.consoleLogDir,
    });
    console.log(JSON.stringify({ event: 'template_defined', uri: flags.uri, name: template.name, uuid: template.uuid, domainType, reason, disk: template.diskPath, network: flags.network }));
  } finally {
    await connection.close();
  }
}

/** Adds `cms image build` and `cms image define` to the program. */
export function registerImageCommands(program: Command): void {
  const image = program.command('image').description('the minimal guest image and the template domain of a real host');
  image
    .command('build')
    .description('build the guest image from Debian packages (kernel, busybox, Node, guest server); cached when unchanged')
    .option('--out <dir>', `output folder (default ${defaultImageDir()})`)
    .option('--force', 'rebuild even when the inputs are unchanged')
    .action(async (flags: BuildFlags) => buildCommand(flags));
  image
    .command('define')
    .description('define the template domain (direct kernel boot of the image) on a libvirt host')
    .option('--uri <uri>', 'libvirt URI of the host', 'qemu:///system')
    .option('--image <dir>', `image folder (default ${defaultImageDir()}; built when missing on a local host)`)
    .option('--name <name>', 'template domain name', 'cms-template')
    .option('--network <net>', "'user' (user-mode, guests reach the host's loopback at 10.0.2.2), 'network:NAME' or 'bridge:NAME' (DHCP)", 'user')
    .option('--memory-mib <mib>', 'guest memory', String(DEFAULT_MEMORY_MIB))
    .option('--vcpus <n>', 'vCPUs per member', String(DEFAULT_VCPUS))
    .option('--disk-mib <mib>', "size of the template's scratch disk, the base of each member's linked-clone overlay (0: none)", '16')
    .option('--disk-dir <dir>', 'folder of the scratch disk and the overlays (default: the image folder)')
    .addOption(new Option('--domain-type <type>', "'auto' probes KVM and falls back to TCG").choices(['auto', 'kvm', 'qemu']).default('auto'))
    .option('--console-log-dir <dir>', "serial console logs per member ('none' for none)", '/var/log/libvirt/qemu')
    .action(async (flags: DefineFlags) => defineCommand(flags));
}
