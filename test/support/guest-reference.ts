// An independent, deliberately naive collide search for checking the guest's answers: hex digests
// of String(i) compared as strings, with none of the guest's fast-path tricks. Slow on purpose;
// keep the digits small where it is used.
import { createHash } from 'node:crypto';

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The first i whose SHA-256(String(i)) hex digest starts with the first `digits` hex chars of SHA-256(word). */
export function referenceCollide(word: string, digits: number): { match: string; attempts: number } {
  const prefix = sha256Hex(word).slice(0, digits);
  for (let i = 0; ; i++) {
    if (sha256Hex(String(i)).startsWith(prefix)) return { match: String(i), attempts: i + 1 };
  }
}
