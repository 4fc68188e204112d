// Saved-pool members' memory images as files in one folder: `<dir>/<member>.cms-saved`, written by
// libvirt (virDomainSave) and removed here when the member is restored or removed.
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { SavedImageStore } from './types';

/** Member names come from the pool (`<pool>-<n>`); anything else is refused as a file name. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/;
/** Not `.save`: libvirt reads `<name>.save` in its own folder as a managed-save image. */
export const SAVED_IMAGE_SUFFIX = '.cms-saved';

export class SavedImageDir implements SavedImageStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  pathFor(memberName: string): string {
    if (!SAFE_NAME.test(memberName)) throw new Error(`member name '${memberName}' is not safe as a file name`);
    return join(this.dir, `${memberName}${SAVED_IMAGE_SUFFIX}`);
  }

  /** Creates the folder when first needed (mode 0700: an image holds the guest's whole memory, token included). */
  prepare(memberName: string): string {
    const path = this.pathFor(memberName);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return path;
  }

  async remove(path: string): Promise<void> {
    // Only what pathFor could have named: never another file, wherever a caller's path points.
    const name = basename(path);
    if (resolve(dirname(path)) !== this.dir || !name.endsWith(SAVED_IMAGE_SUFFIX) || !SAFE_NAME.test(name.slice(0, -SAVED_IMAGE_SUFFIX.length))) {
      throw new Error(`refusing to remove '${path}': not a saved image of ${this.dir}`);
    }
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
