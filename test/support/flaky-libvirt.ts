// A libvirt connector for tests that can "lose the daemon" on demand: while down, every call throws
// like a dropped connection; the real test-driver handle underneath (and so the host's state) lives
// on, as domains keep running on a real host while libvirtd restarts.
import { Hypervisor } from '@unraid/libvirt';
import type { LibvirtConnector, LibvirtLike } from '../../electron/core/hypervisor/libvirt-like';

export interface FlakyLibvirt {
  connector: LibvirtConnector;
  /** Calls fail while true. */
  down: boolean;
  /** Handles the app asked for (one per connect or reconnect attempt). */
  readonly handlesMade: number;
  close(): Promise<void>;
}

export function flakyLibvirt(): FlakyLibvirt {
  const real = new Map<string, { handle: Hypervisor; opened: Promise<void> }>();
  const state = { down: false, handlesMade: 0 };
  const shared = (uri: string): { handle: Hypervisor; opened: Promise<void> } => {
    let entry = real.get(uri);
    if (!entry) {
      const handle = new Hypervisor({ uri });
      entry = { handle, opened: handle.connectOpen() };
      real.set(uri, entry);
    }
    return entry;
  };
  const connector: LibvirtConnector = (uri) => {
    state.handlesMade += 1;
    const entry = shared(uri);
    const guard = async <T>(call: () => Promise<T>): Promise<T> => {
      if (state.down) throw new Error('Cannot recv data: Connection reset by peer');
      await entry.opened;
      return call();
    };
    const h = entry.handle;
    const wrapper: LibvirtLike = {
      connectOpen: () => guard(async () => undefined),
      // The shared handle stays open: closing it would reset the test driver's state.
      connectClose: async () => undefined,
      connectGetHostname: () => guard(() => h.connectGetHostname()),
      nodeGetInfo: () => guard(() => h.nodeGetInfo()),
      connectListAllDomains: () => guard(() => h.connectListAllDomains()),
      domainLookupByUUIDString: (uuid) => guard(() => h.domainLookupByUUIDString(uuid)),
      domainGetInfo: (domain) => guard(() => h.domainGetInfo(domain)),
      domainGetName: (domain) => guard(() => h.domainGetName(domain)),
      domainGetUUIDString: (domain) => guard(() => h.domainGetUUIDString(domain)),
      domainGetXMLDesc: (domain, flags) => guard(() => h.domainGetXMLDesc(domain, flags)),
      domainCreate: (domain) => guard(() => h.domainCreate(domain)),
      domainShutdown: (domain) => guard(() => h.domainShutdown(domain)),
      domainDestroy: (domain) => guard(() => h.domainDestroy(domain)),
      domainSuspend: (domain) => guard(() => h.domainSuspend(domain)),
      domainResume: (domain) => guard(() => h.domainResume(domain)),
      domainSave: (domain, path) => guard(() => h.domainSave(domain, path)),
      domainRestore: (path) => guard(() => h.domainRestore(path)),
      domainDefineXML: (xml) => guard(() => h.domainDefineXML(xml)),
      domainUndefine: (domain) => guard(() => h.domainUndefine(domain)),
    };
    return wrapper;
  };
  return {
    connector,
    get down() {
      return state.down;
    },
    set down(value: boolean) {
      state.down = value;
    },
    get handlesMade() {
      return state.handlesMade;
    },
    async close() {
      for (const entry of real.values()) await entry.handle.connectClose().catch(() => undefined);
      real.clear();
    },
  };
}
