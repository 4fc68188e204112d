// The CPU members emulate under TCG: one definition for the template's domain XML and for the guest
// image, whose Node start-up snapshot is made for exactly this CPU (Node refuses it on any other).

/** QEMU's generic Intel model plus RDRAND, which TCG implements (see template.ts for why each). */
export const TCG_CPU = { model: 'kvm64', features: ['rdrand'] } as const;

/** The same CPU as QEMU's -cpu value (qemu-user takes it when the image's snapshot is made). */
export function tcgCpuQemuArg(): string {
  return [TCG_CPU.model, ...TCG_CPU.features.map((feature) => `+${feature}`)].join(',');
}
