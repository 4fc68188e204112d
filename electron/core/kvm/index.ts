// Public surface of the real-host layer: guest image, template, linked-clone overlays, member boot
// settings and the accelerator probe. Re-exports only; nothing here may hold state.
export { bootProbeInitramfs, probeAccelerator, type AccelProbeOptions, type AccelProbeResult } from './accel';
export { isLocalUri, kvmHostBinding, type KvmHostBindingOptions } from './binding';
export { KvmError, type KvmErrorCode } from './errors';
export { buildGuestImage, defaultImageDir, findRepositoryFile, readGuestImage, type BuildImageOptions, type BuiltImage, type GuestImage, type GuestImageManifest } from './image';
export { bootSettings, customizeMemberXml, guestManagerAddress, USER_NET_HOST_ALIAS, withBootSettings, type HostPort } from './member-boot';
export { createQcow2Overlay, qcow2OverlayBytes, readDiskInfo, type DiskFormat, type DiskInfo } from './qcow2';
export { OverlayStorage, type OverlayStorageOptions } from './storage';
export { TCG_CPU, tcgCpuQemuArg } from './tcg-cpu';
export {
  DEFAULT_MEMORY_MIB,
  DEFAULT_VCPUS,
  defineTemplate,
  parseTemplateNetwork,
  QBOOT_PATHS,
  templateDomainXml,
  type DefinedTemplate,
  type DefineTemplateOptions,
  type DomainType,
  type TemplateHost,
  type TemplateNetwork,
  type TemplateOptions,
} from './template';
